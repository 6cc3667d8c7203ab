import { defineConfig } from "vite";

// Preact's automatic JSX runtime; hashed names under assets/ are what the server caches forever.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    target: "es2022",
    // A module preload polyfill would be inlined into index.html, which the CSP forbids.
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/api": { target: "http://127.0.0.1:8000", ws: true } } },
});

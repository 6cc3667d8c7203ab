// A tiny history-API router: paths map to screens in routes.tsx; links are plain <a href>
// intercepted here so the page never reloads (which would forget the in-memory token).
import { store } from "./store";

export const currentPath = store<string>(location.pathname + location.search);

export function navigate(to: string, replace = false): void {
  if (to === currentPath.get()) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  currentPath.set(to);
  window.scrollTo(0, 0);
}

export function pathOnly(path: string): string {
  return path.split("?")[0] || "/";
}

export function queryParam(name: string): string | null {
  return new URLSearchParams(currentPath.get().split("?")[1] ?? "").get(name);
}

window.addEventListener("popstate", () => currentPath.set(location.pathname + location.search));

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.("a");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const href = anchor.getAttribute("href");
  if (!href || !href.startsWith("/") || href.startsWith("/api/")) return;
  event.preventDefault();
  navigate(href);
});

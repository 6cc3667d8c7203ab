// Every screen, its path and its place in the navigation. To add a screen: write
// screens/<name>.tsx exporting a component, then add one entry here (through lazyScreen when
// the screen pulls in a large library, so the first load stays small).
import type { FunctionComponent } from "preact";
import { Dashboard } from "./screens/dashboard";
import { History } from "./screens/history";
import { lazyScreen } from "./lazy";
import { Login, Register } from "./screens/auth";
import { Settings } from "./screens/settings";
import { Staking } from "./screens/staking";
import { Trade } from "./screens/trade";
import { Vaults } from "./screens/vaults";
import { Wallets } from "./screens/wallets";

export interface Route {
  path: string;
  title: string;
  screen: FunctionComponent;
  /** Shown in the navigation bar (logged-in screens only). */
  nav?: boolean;
  /** Reachable without logging in. */
  public?: boolean;
}

export const ROUTES: Route[] = [
  { path: "/login", title: "Log in", screen: Login, public: true },
  { path: "/register", title: "Register", screen: Register, public: true },
  { path: "/", title: "Dashboard", screen: Dashboard, nav: true },
  { path: "/trade", title: "Trade", screen: Trade, nav: true },
  { path: "/wallets", title: "Wallets", screen: Wallets, nav: true },
  { path: "/history", title: "History", screen: History, nav: true },
  {
    path: "/bots",
    title: "Bots",
    screen: lazyScreen(() => import("./screens/bots").then((m) => m.Bots)),
    nav: true,
  },
  { path: "/vaults", title: "Vaults", screen: Vaults, nav: true },
  { path: "/staking", title: "Staking", screen: Staking, nav: true },
  { path: "/settings", title: "Settings", screen: Settings },
];

export function findRoute(path: string): Route | undefined {
  return ROUTES.find((r) => r.path === path);
}

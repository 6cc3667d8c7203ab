// The shell: banners, navigation, live status, and the current screen. Screens that need a
// login send visitors to /login?next=… and come back after it.
import { useEffect } from "preact/hooks";
import { health, loadHealth } from "./data";
import { liveStatus } from "./live";
import { currentPath, navigate, pathOnly } from "./router";
import { findRoute, ROUTES } from "./routes";
import { endSession, session } from "./session";
import { useStore } from "./store";

export function App() {
  const path = pathOnly(useStore(currentPath));
  const user = useStore(session);
  const route = findRoute(path);

  useEffect(() => {
    loadHealth();
  }, []);

  const needsLogin = route && !route.public && !user;
  useEffect(() => {
    if (needsLogin) navigate(`/login?next=${encodeURIComponent(currentPath.get())}`, true);
  }, [needsLogin]);
  useEffect(() => {
    document.title = route ? `${route.title} · Hyperdesk` : "Hyperdesk";
  }, [route]);

  const Screen = route?.screen;
  return (
    <>
      <Banners />
      <header class="top">
        <a class="brand" href="/">
          Hyperdesk
        </a>
        {user ? <Nav path={path} /> : null}
        <div class="top-right">
          {user ? <LiveBadge /> : null}
          {user ? (
            <>
              <a href="/settings" class="user" title="Account settings">
                {user.username}
              </a>
              <button type="button" class="link" onClick={() => endSession()}>
                Log out
              </button>
            </>
          ) : null}
        </div>
      </header>
      <main id="main">
        {Screen && !needsLogin ? <Screen /> : null}
        {!route ? (
          <section class="panel">
            <h1>Not found</h1>
            <p>
              There is no page at {path}. <a href="/">Go to the dashboard</a>.
            </p>
          </section>
        ) : null}
      </main>
    </>
  );
}

function Nav({ path }: { path: string }) {
  return (
    <nav aria-label="Main">
      <ul>
        {ROUTES.filter((r) => r.nav).map((r) => (
          <li key={r.path}>
            <a href={r.path} aria-current={r.path === path ? "page" : undefined}>
              {r.title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function LiveBadge() {
  const status = useStore(liveStatus);
  const words = { off: "", connecting: "Connecting…", online: "Live", offline: "Offline — reconnecting" };
  return (
    <span class={`live live-${status}`} role="status" data-testid="live-status">
      {words[status]}
    </span>
  );
}

function Banners() {
  const info = useStore(health);
  if (!info) return null;
  return (
    <div class="banners">
      {info.network === "paper" ? (
        <p class="banner banner-paper" data-testid="paper-banner">
          Paper network: orders trade on a simulated exchange with play money.
        </p>
      ) : null}
      {info.sandbox !== "bubblewrap" ? (
        <p class="banner banner-warn" data-testid="sandbox-banner">
          Weak bot sandbox: bubblewrap is not available, so bots run without full isolation. Do
          not run bots you do not trust.
        </p>
      ) : null}
    </div>
  );
}

// Screens loaded on first visit: a heavy screen (a code editor, a chart library) then costs the
// login page nothing. Use in routes.tsx:
//   screen: lazyScreen(() => import("./screens/bots").then((m) => m.Bots))
import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ErrorText } from "./components/ui";

export function lazyScreen(load: () => Promise<FunctionComponent>): FunctionComponent {
  let loaded: FunctionComponent | null = null;
  return function LazyScreen() {
    const [Screen, setScreen] = useState<FunctionComponent | null>(() => loaded);
    const [error, setError] = useState<unknown>(null);
    useEffect(() => {
      if (loaded) return;
      load().then(
        (component) => setScreen(() => (loaded = component)),
        (err) => setError(err),
      );
    }, []);
    if (error) return <ErrorText error={error} />;
    return Screen ? <Screen /> : <p role="status">Loading…</p>;
  };
}

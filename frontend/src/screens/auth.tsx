// Log in and register. Registering logs the new user straight in.
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorText, Field, useAction } from "../components/ui";
import { navigate, queryParam } from "../router";
import { sessionEnded, startSession } from "../session";
import { useStore } from "../store";

async function logIn(username: string, password: string): Promise<void> {
  const token = await api.login(username, password);
  startSession(token.access_token, username, token.expires_in);
  const next = queryParam("next");
  navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", true);
}

export function Login() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const ended = useStore(sessionEnded);
  return (
    <section class="panel narrow">
      <h1>Log in</h1>
      {ended ? (
        <p class="notice" role="status">
          {ended}
        </p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(() => logIn(username.trim(), password));
        }}
      >
        <Field label="Username">
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </Field>
        <Field label="Password">
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
      <p>
        New here? <a href="/register">Create an account</a>.
      </p>
    </section>
  );
}

export function Register() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  return (
    <section class="panel narrow">
      <h1>Create an account</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(async () => {
            await api.register(username.trim(), password);
            await logIn(username.trim(), password);
          });
        }}
      >
        <Field label="Username" hint="3 to 32 letters, digits, '_', '.' or '-'.">
          <input
            name="username"
            autocomplete="username"
            required
            minLength={3}
            maxLength={32}
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </Field>
        <Field label="Password" hint="A long passphrase is best.">
          <input
            name="password"
            type="password"
            autocomplete="new-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Register
        </button>
      </form>
      <p>
        Have an account? <a href="/login">Log in</a>.
      </p>
    </section>
  );
}

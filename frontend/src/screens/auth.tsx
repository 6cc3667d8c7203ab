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
  const ended = useStore(sessionEnded);
  return (
    <section class="panel narrow">
      <h1>Log in</h1>
      {ended ? (
        <p class="notice" role="status">
          {ended}
        </p>
      ) : null}
      <CredentialsForm newAccount={false} submitLabel="Log in" submit={logIn} />
      <p>
        New here? <a href="/register">Create an account</a>.
      </p>
    </section>
  );
}

export function Register() {
  return (
    <section class="panel narrow">
      <h1>Create an account</h1>
      <CredentialsForm
        newAccount
        submitLabel="Register"
        submit={async (username, password) => {
          await api.register(username, password);
          await logIn(username, password);
        }}
      />
      <p>
        Have an account? <a href="/login">Log in</a>.
      </p>
    </section>
  );
}

/** The username and password both screens ask for; a new account is told the rules up front. */
function CredentialsForm(props: {
  newAccount: boolean;
  submitLabel: string;
  submit: (username: string, password: string) => Promise<void>;
}) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const fresh = props.newAccount;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        run(() => props.submit(username.trim(), password));
      }}
    >
      <Field label="Username" hint={fresh ? "3 to 32 letters, digits, '_', '.' or '-'." : undefined}>
        <input
          name="username"
          autocomplete="username"
          required
          minLength={fresh ? 3 : undefined}
          maxLength={fresh ? 32 : undefined}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
      </Field>
      <Field label="Password" hint={fresh ? "A long passphrase is best." : undefined}>
        <input
          name="password"
          type="password"
          autocomplete={fresh ? "new-password" : "current-password"}
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </Field>
      <ErrorText error={error} />
      <button type="submit" disabled={busy}>
        {props.submitLabel}
      </button>
    </form>
  );
}

// The account: change the password (which ends every session, this one included).
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorText, Field, useAction } from "../components/ui";
import { endSession, session } from "../session";
import { useStore } from "../store";

export function Settings() {
  const user = useStore(session);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const { busy, error, run } = useAction();
  return (
    <section class="panel narrow">
      <h1>Account</h1>
      <p>Logged in as {user?.username}.</p>
      <h2>Change password</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(async () => {
            await api.changePassword(current, next);
            endSession("Password changed. Log in with the new password.");
          });
        }}
      >
        <Field label="Current password">
          <input
            name="current_password"
            type="password"
            autocomplete="current-password"
            required
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </Field>
        <Field label="New password">
          <input
            name="new_password"
            type="password"
            autocomplete="new-password"
            required
            value={next}
            onInput={(e) => setNext(e.currentTarget.value)}
          />
        </Field>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}

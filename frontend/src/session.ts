// Who is logged in. The access token lives only in this module's memory: never in
// localStorage or a cookie, so a reload means logging in again.
import { store } from "./store";

export interface Session {
  token: string;
  username: string;
  expiresAt: number; // ms since the epoch
}

export const session = store<Session | null>(null);
/** Why the last session ended (shown on the login screen), or null after a plain logout. */
export const sessionEnded = store<string | null>(null);

let expiryTimer: number | undefined;

export function startSession(token: string, username: string, expiresIn: number): void {
  sessionEnded.set(null);
  const expiresAt = Date.now() + expiresIn * 1000;
  window.clearTimeout(expiryTimer);
  expiryTimer = window.setTimeout(
    () => endSession("Your session expired. Please log in again."),
    expiresIn * 1000,
  );
  session.set({ token, username, expiresAt });
}

export function endSession(reason: string | null = null): void {
  window.clearTimeout(expiryTimer);
  if (session.get() === null) return;
  sessionEnded.set(reason);
  session.set(null);
}

// The page's sign-in: a short-lived access token (15 minutes) and the refresh token that
// replaces it, kept in localStorage so every tab of this origin shares one sign-in. A refresh
// token works once and the server revokes its whole family when one is presented twice, so
// refreshes never overlap, not even across tabs: a Web Lock serialises them, and a tab that
// finds the stored pair already replaced (another tab refreshed) adopts it instead.
import { gavelClient, type GavelClient } from "../../openapi/client/index.ts";

/** How long before its `exp` an access token is refreshed. */
const AHEAD_MS = 60_000;
const ACCESS = "gavel.access";
const REFRESH = "gavel.refresh";

/** When a JWT expires (ms since the epoch), as its payload says; null when it does not say. */
export function expiresAt(jwt: string): number | null {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

export type Session = {
  client: GavelClient;
  access(): string | undefined;
  keep(access: string, refresh: string): void;
  /** Trades the refresh token for a new pair; false when there is none or it is refused. */
  refresh(): Promise<boolean>;
  /** Signs out: the server revokes the refresh token's family; this browser forgets both. */
  signOut(): Promise<void>;
  forget(): void;
};

/** Runs `f` holding the page-wide refresh lock (where the browser has Web Locks). */
function exclusively<T>(f: () => Promise<T>): Promise<T> {
  return navigator.locks ? (navigator.locks.request("gavel.refresh", f) as Promise<T>) : f();
}

/**
 * The session of the API at `api`. `refreshed` is told each new access token (e.g. to hand it to
 * an open socket); `ended` is told when the refresh token is refused (expired, or its family
 * revoked) or another tab signed out: the user must sign in again.
 */
export function createSession(api: string, hooks: { refreshed(access: string): void; ended(why: string): void }): Session {
  let access = localStorage.getItem(ACCESS) ?? undefined;
  let inFlight: Promise<boolean> | null = null;
  let timer: number | undefined;
  const client = gavelClient(api, () => access);

  function schedule() {
    window.clearTimeout(timer);
    const exp = access ? expiresAt(access) : null;
    if (exp !== null) timer = window.setTimeout(() => void refresh(), Math.max(1000, exp - AHEAD_MS - Date.now()));
  }

  function keep(accessToken: string, refreshToken: string) {
    access = accessToken;
    localStorage.setItem(ACCESS, accessToken);
    localStorage.setItem(REFRESH, refreshToken);
    schedule();
  }

  function forget() {
    window.clearTimeout(timer);
    access = undefined;
    localStorage.removeItem(ACCESS);
    localStorage.removeItem(REFRESH);
  }

  async function trade(): Promise<boolean> {
    const had = access;
    return exclusively(async () => {
      // Another tab refreshed while this one waited: take its pair.
      const stored = localStorage.getItem(ACCESS) ?? undefined;
      if (stored && stored !== had) {
        access = stored;
        schedule();
        hooks.refreshed(stored);
        return true;
      }
      const refresh_token = localStorage.getItem(REFRESH);
      if (!refresh_token) return false;
      const answer = await client.POST("/auth/refresh", { body: { refresh_token } }).catch(() => null);
      if (answer?.data) {
        keep(answer.data.access_token, answer.data.refresh_token);
        hooks.refreshed(answer.data.access_token);
        return true;
      }
      if (answer?.response.status === 401) {
        forget();
        hooks.ended(answer.error?.detail ?? "the refresh token was refused");
      }
      return false; // no answer: try again at the next occasion
    });
  }

  function refresh(): Promise<boolean> {
    inFlight ??= trade().finally(() => (inFlight = null));
    return inFlight;
  }

  async function signOut() {
    const refresh_token = localStorage.getItem(REFRESH);
    forget();
    if (refresh_token) await client.POST("/auth/logout", { body: { refresh_token } }).catch(() => null);
  }

  // Another tab signed in, refreshed or signed out.
  window.addEventListener("storage", (e) => {
    if (e.key !== ACCESS) return;
    access = e.newValue ?? undefined;
    if (access) {
      schedule();
      hooks.refreshed(access);
    } else {
      window.clearTimeout(timer);
      hooks.ended("signed out in another tab");
    }
  });

  schedule();
  return { client, access: () => access, keep, refresh, signOut, forget };
}

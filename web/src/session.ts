// The page's sign-in: a short-lived access token (15 minutes) and the refresh token that
// replaces it. The access token is refreshed a minute before it expires; an open socket is
// handed the new one (`auth:refresh`) so it stays connected. A refresh token works once and the
// server revokes its whole family when one is presented twice, so refreshes never overlap.
import { gavelClient, type GavelClient } from "../../openapi/client/index.ts";

/** How long before its `exp` an access token is refreshed. */
const AHEAD_MS = 60_000;

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
  forget(): void;
};

/**
 * The session of the API at `api`. `refreshed` is told each new access token (e.g. to hand it to
 * an open socket); `ended` is told when the refresh token is refused (expired, or its family
 * revoked): the user must sign in again.
 */
export function createSession(api: string, hooks: { refreshed(access: string): void; ended(why: string): void }): Session {
  let access = sessionStorage.getItem("gavel.access") ?? undefined;
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
    sessionStorage.setItem("gavel.access", accessToken);
    sessionStorage.setItem("gavel.refresh", refreshToken);
    schedule();
  }

  function forget() {
    window.clearTimeout(timer);
    access = undefined;
    sessionStorage.removeItem("gavel.access");
    sessionStorage.removeItem("gavel.refresh");
  }

  async function trade(): Promise<boolean> {
    const refresh_token = sessionStorage.getItem("gavel.refresh");
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
  }

  function refresh(): Promise<boolean> {
    inFlight ??= trade().finally(() => (inFlight = null));
    return inFlight;
  }

  schedule();
  return { client, access: () => access, keep, refresh, forget };
}

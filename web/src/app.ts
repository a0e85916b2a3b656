// What every screen shares: the API's address, the session, the error banner, the live region
// and navigation between screens.
import type { Problem } from "../../openapi/client/index.ts";
import { byId, fill, h } from "./dom.ts";
import { createSession } from "./session.ts";

export const params = new URLSearchParams(location.search);
// A login link arrives with ?token=…: the token goes only to the API this browser asked for the
// link (remembered then), never to an `api` named in the link itself, which whoever requested
// the link chose.
export const api = (
  params.has("token") ? (localStorage.getItem("gavel.api") ?? location.origin) : (params.get("api") ?? location.origin)
).replace(/\/$/, "");

/** Told when the session gets a new access token (the room hands it to its socket). */
export const tokenListeners = new Set<(token: string) => void>();

export const session = createSession(api, {
  refreshed: (token) => tokenListeners.forEach((f) => f(token)),
  ended: (why) => {
    showError(`Signed out (${why}): sign in again.`);
    void navigate({});
  },
});
export const client = session.client;

/** A problem+json answer as one sentence. */
export function problemText(error: Partial<Problem> | undefined | null, fallback = "no answer"): string {
  if (!error) return fallback;
  return [error.title, error.detail].filter(Boolean).join(": ") || fallback;
}

export function showError(text: string | null) {
  const box = byId("error");
  box.hidden = text === null;
  fill(box, text ?? "");
}

/** Says `text` to screen readers (the polite live region); also shown in the status line. */
export function announce(text: string) {
  const region = byId("announcer");
  // Re-adding the text makes the same message be announced twice in a row.
  fill(region, h("p", {}, text));
}

/** A fetch that failed before any answer: offline, or (cross-origin) refused by the policy. */
export function unreachable(e: unknown) {
  showError(
    `Cannot reach the Gavel API at ${api} from this page (${location.origin}). ` +
      `The server's origin policy may not allow this origin, or the server is down. (${String(e)})`,
  );
}

/** The URL of a screen of this page (the `api` parameter kept). */
export function screenUrl(query: Record<string, string>): string {
  const q = new URLSearchParams(query);
  if (params.has("api") && !params.has("token")) q.set("api", api);
  const s = q.toString();
  return `${location.pathname}${s ? `?${s}` : ""}`;
}

type Router = (query: URLSearchParams) => Promise<void>;
let router: Router = async () => {};
export function setRouter(r: Router) {
  router = r;
}

/** Shows another screen, with its own address (Back works). */
export async function navigate(query: Record<string, string>, replace = false) {
  const url = screenUrl(query);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  await router(new URLSearchParams(location.search));
}
window.addEventListener("popstate", () => void router(new URLSearchParams(location.search)));

/** Replaces the main area with one screen, titled `title` (the heading takes focus). */
export function showScreen(title: string, ...content: Node[]) {
  document.title = `${title} — Gavel`;
  const heading = h("h1", { tabindex: -1, id: "screen-title" }, title);
  fill(byId("view"), heading, ...content);
}

/** A link to another screen of the page, followed without reloading. */
export function screenLink(text: string, query: Record<string, string>, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h("a", {
    href: screenUrl(query),
    ...attrs,
    onclick: (ev: Event) => {
      const e = ev as MouseEvent;
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      ev.preventDefault();
      void navigate(query);
    },
  }, text);
}

/** A request someone asked for: with no answer at all (offline, or a CORS refusal), an error saying so. */
export function answered<T extends object>(request: Promise<T>): Promise<T | { data?: undefined; error: Partial<Problem>; response?: undefined }> {
  return request.catch((e: unknown) => ({ error: { title: "No answer from the server", detail: String(e) } }));
}

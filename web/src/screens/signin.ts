// Sign-in by login link: the server mails a link back to this page with ?token=…; in
// development (no SMTP) the page shows the link from the server's outbox.
import { api, client, problemText, showError, showScreen, unreachable } from "../app.ts";
import { field, h } from "../dom.ts";

export function signInScreen(reason?: string) {
  const email = h("input", { id: "email", type: "email", autocomplete: "email", required: true, class: "wide-input" });
  const status = h("p", { class: "muted", role: "status" });
  const devLink = h("p", { id: "dev-link-box", hidden: true });
  const form = h("form", { id: "login-form", class: "card stack" },
    field("Email", email),
    h("button", { type: "submit" }, "Send me a login link"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await requestLink(email.value, status, devLink);
  });
  const intro = h("p", {}, "Gavel runs live auction drafts. Sign in with your email: you get a link, no password.");
  showScreen("Sign in", intro, ...(reason ? [h("p", { class: "note" }, reason)] : []), form, status, devLink);
  email.focus();
}

async function requestLink(email: string, status: HTMLElement, devLink: HTMLElement) {
  // The link leads back to this very screen, invitation and auction included.
  const redirect = location.href.split("#")[0];
  localStorage.setItem("gavel.api", api);
  try {
    const { error } = await client.POST("/auth/magic-link", { body: { email, redirect } });
    if (error) return showError(problemText(error));
    showError(null);
    status.textContent = `A login link is on its way to ${email}. Open it in this browser.`;
    // In development the server keeps the mail in an outbox: show the link right here. The
    // outbox holds login links, so the server answers it only to a page it serves itself on a
    // loopback host, never across origins: ask the page's own origin.
    const outbox = await fetch("/dev/outbox").catch(() => null);
    if (!outbox?.ok) return;
    const mails: { to: string; link: string }[] = await outbox.json();
    const mine = mails.filter((m) => m.to === email.trim().toLowerCase()).pop();
    if (mine) devLink.replaceChildren("Development outbox: ", h("a", { id: "dev-link", href: mine.link }, "open the login link"));
    devLink.hidden = !mine;
  } catch (e) {
    unreachable(e);
  }
}

/** Trades a login link's token for a session; false (and says why) when refused. */
export async function exchange(token: string, keep: (a: string, r: string) => void): Promise<boolean> {
  try {
    const { data, error } = await client.POST("/auth/token", { body: { token } });
    if (error || !data) {
      showError(`Sign-in failed: ${problemText(error)}`);
      return false;
    }
    keep(data.access_token, data.refresh_token);
    return true;
  } catch (e) {
    unreachable(e);
    return false;
  }
}

// The page: sign in by login link, list and create auctions, redeem invitation links, and run
// the draft room. The API may be on another origin (`?api=https://…`, default: this page's
// origin); it must allow this page's origin in its policy.
import type { Schemas } from "../../openapi/client/index.ts";
import { answered, client, navigate, params, problemText, session, setRouter, showError, unreachable } from "./app.ts";
import { byId } from "./dom.ts";
import { leaveRoom, roomScreen } from "./room/room.ts";
import { createScreen } from "./screens/create.ts";
import { homeScreen } from "./screens/home.ts";
import { exchange, signInScreen } from "./screens/signin.ts";

/** Who is signed in, asked again (refreshing an expired access token first); null: nobody. */
async function whoAmI(): Promise<Schemas["Me"] | null> {
  if (!session.access()) return null;
  try {
    let me = await client.GET("/me");
    // Back after the access token expired (a reload, a laptop asleep): refresh, then ask again.
    if (me.response.status === 401 && (await session.refresh())) me = await client.GET("/me");
    if (me.error || !me.data) {
      session.forget();
      return null;
    }
    return me.data;
  } catch (e) {
    unreachable(e);
    return null;
  }
}

/** An invitation link (`?auction=N&invite=CODE`): join, then go to the room. */
async function redeem(auction: number, code: string) {
  const { error, response } = await answered(client.POST("/auctions/{id}/join", { params: { path: { id: auction } }, body: { code } }));
  // Already a member (the link opened twice): the room is where the link leads anyway.
  if (error && response?.status !== 409) showError(`The invitation was not accepted: ${problemText(error)}`);
  await navigate({ auction: String(auction) }, true);
}

async function route(query: URLSearchParams) {
  leaveRoom();
  const me = await whoAmI();
  const signedIn = me !== null;
  byId("who").textContent = me?.sub ?? "";
  byId("sign-out").hidden = !signedIn;
  const auction = Number(query.get("auction"));
  const invite = query.get("invite");
  if (!me) {
    return signInScreen(invite ? "Sign in to accept your invitation: the login link brings you straight into the auction." : undefined);
  }
  if (auction > 0 && invite) return redeem(auction, invite);
  if (auction > 0) return roomScreen(auction, me);
  if (query.get("view") === "create") return createScreen();
  homeScreen(me);
}

byId("sign-out").addEventListener("click", async () => {
  await session.signOut();
  showError(null);
  await navigate({});
});

async function main() {
  setRouter(route);
  const token = params.get("token");
  if (token) {
    params.delete("token");
    history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
    await exchange(token, session.keep);
  }
  await route(new URLSearchParams(location.search));
}
void main();

// Sockets whose token expires while they are open, driven with the official socket.io-client
// for `tests/auth_abuse.rs`. Prints one JSON line per finding; exits non-zero on failure.
//
//   node auth_expiry.mjs expire  BASE TOKEN ORIGIN AUCTION_ID LOT_ID
//   node auth_expiry.mjs refresh BASE TOKEN ORIGIN FRESH_TOKEN OTHER_SUBJECTS_TOKEN JUST_EXPIRED_TOKEN
//
// expire: joins the auction, bids 2 (accepted), waits for `auth:expired`, bids 3 the moment it
// arrives (before the disconnect that follows is read), waits for the disconnect, then tries to
// connect again with the same token.
// refresh: sends `auth:refresh` with bad tokens, then a fresh one, and stays connected past the
// first token's `exp`.
import { io } from "socket.io-client";
import { deadline, fail, log } from "./driver.mjs";

const [mode, base, token, origin, arg1, arg2, arg3] = process.argv.slice(2);

function client() {
  return io(`${base}/auction`, {
    path: "/api/socket.io/",
    transports: ["websocket"],
    auth: { token },
    extraHeaders: { origin },
    reconnection: false,
    timeout: 5000,
    forceNew: true,
  });
}

const outcome = (promise) => promise.then((ack) => ack, (err) => ({ ok: false, client_error: String(err) }));

function connected(s) {
  return new Promise((resolve, reject) => {
    s.once("connect", resolve);
    s.once("connect_error", reject);
  });
}

async function expire() {
  const auction_id = Number(arg1);
  const lot_id = Number(arg2);
  const s = client();
  await connected(s);
  log({ event: "connected", at: Date.now() });
  const expired = new Promise((resolve) =>
    s.once("auth:expired", (payload) => {
      // Sent at once, while the client still counts itself connected.
      const bid = { auction_id, lot_id, amount: 3, client_bid_id: "after-expiry" };
      const late = outcome(s.timeout(3000).emitWithAck("bid:place", bid));
      resolve({ payload, at: Date.now(), late });
    }),
  );
  const gone = new Promise((resolve) => s.once("disconnect", (reason) => resolve({ reason, at: Date.now() })));
  const joined = await s.timeout(5000).emitWithAck("auction:join", { auction_id });
  if (!joined.ok) fail(`join: ${JSON.stringify(joined)}`);
  const early = await s.timeout(5000).emitWithAck("bid:place", { auction_id, lot_id, amount: 2, client_bid_id: "before-expiry" });
  log({ event: "early-bid", ack: early });
  const { payload, at, late } = await expired;
  log({ event: "expired", payload, at });
  const { reason, at: goneAt } = await gone;
  log({ event: "disconnected", reason, at: goneAt });
  log({ event: "late-bid", ack: await late });
  const again = client();
  const err = await new Promise((resolve, reject) => {
    again.once("connect", () => reject(new Error("reconnected with an expired token")));
    again.once("connect_error", resolve);
  });
  log({ event: "reconnect-refused", error: err.message });
}

async function refresh() {
  const s = client();
  await connected(s);
  let ended = null;
  s.on("auth:expired", (e) => (ended = e));
  s.on("disconnect", (reason) => (ended ??= { disconnect: reason }));
  const exp = JSON.parse(Buffer.from(token.split(".")[1], "base64url")).exp;
  const send = (payload) => outcome(s.timeout(5000).emitWithAck("auth:refresh", payload));
  log({ event: "wrong-subject", ack: await send({ token: arg2 }) });
  log({ event: "not-a-jwt", ack: await send({ token: "not-a-jwt" }) });
  log({ event: "just-expired", ack: await send({ token: arg3 }) });
  log({ event: "no-token", ack: await send("nope") });
  log({ event: "refreshed", ack: await send({ token: arg1 }) });
  // Until the server's clock is a second past the first token's exp (polled, with the
  // driver's deadline): the socket stays and answers.
  for (;;) {
    if (ended) fail(`session ended: ${JSON.stringify(ended)}`);
    const sync = await s.timeout(5000).emitWithAck("time:sync", { sent: Date.now() });
    if (!sync.ok) fail(`time:sync: ${JSON.stringify(sync)}`);
    if (sync.server_now > exp * 1000 + 1000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  log({ event: "survived", connected: s.connected });
  s.disconnect();
}

const finish = deadline(30000);
try {
  if (mode === "expire") await expire();
  else if (mode === "refresh") await refresh();
  else fail(`unknown mode ${mode}`);
  finish();
} catch (e) {
  fail(String(e?.stack ?? e));
}

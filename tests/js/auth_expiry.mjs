// A socket whose token expires while it is open, driven with the official socket.io-client
// for `tests/auth_abuse.rs`. Prints one JSON line per finding; exits non-zero on failure.
//
//   node auth_expiry.mjs BASE TOKEN ORIGIN AUCTION_ID LOT_ID
//
// Joins the auction, bids 2 (accepted), waits for `auth:expired`, bids 3 the moment it arrives
// (before the disconnect that follows is read), waits for the disconnect, then tries to
// connect again with the same token.
import { io } from "socket.io-client";
import { deadline, fail, log } from "./driver.mjs";

const [base, token, origin, auctionId, lotId] = process.argv.slice(2);
const auction_id = Number(auctionId);
const lot_id = Number(lotId);

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

async function main() {
  const s = client();
  await new Promise((resolve, reject) => {
    s.once("connect", resolve);
    s.once("connect_error", reject);
  });
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

const finish = deadline(30000);
try {
  await main();
  finish();
} catch (e) {
  fail(String(e?.stack ?? e));
}

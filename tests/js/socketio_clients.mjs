// Drives the official socket.io-client (v4) against a running Gavel, as the Rust test
// `tests/node_client.rs` asks. Prints one JSON line per finding; exits non-zero on failure.
//
//   node socketio_clients.mjs checks  BASE TOKEN ALLOWED_ORIGIN DENIED_ORIGIN AUCTION_ID
//   node socketio_clients.mjs revoke  BASE TOKEN ORIGIN
//   node socketio_clients.mjs tokens  BASE '' ORIGIN '' '[{"name": …, "token": …}]'
import { io } from "socket.io-client";
import { deadline, fail, log } from "./driver.mjs";

const [mode, base, token, origin, denied, auctionId] = process.argv.slice(2);
const path = "/api/socket.io/";

function client(transports, opts = {}) {
  return io(`${base}/auction`, {
    path,
    transports,
    auth: { token: opts.token ?? token },
    extraHeaders: { origin: opts.origin ?? origin },
    reconnection: false,
    timeout: 5000,
    forceNew: true,
  });
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

function refused(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected but should have been refused")));
    socket.once("connect_error", (err) => resolve(err));
  });
}

function upgraded(socket) {
  return new Promise((resolve) => {
    if (socket.io.engine.transport.name === "websocket") return resolve();
    socket.io.engine.once("upgrade", () => resolve());
  });
}

async function roundTrip(name, transports, expectUpgrade) {
  const a = await connected(client(transports));
  if (expectUpgrade) await upgraded(a);
  const ack = await a.timeout(5000).emitWithAck("time:sync", { sent: Date.now() });
  if (!ack.ok || typeof ack.server_now !== "number") fail(`${name}: bad ack ${JSON.stringify(ack)}`);
  // A broadcast: a second client's arrival in the auction's room is announced to the first.
  const bad = await a.timeout(5000).emitWithAck("auction:join", { auction_id: Number(auctionId), last_seq: -5 });
  if (bad.ok || bad.error.type !== "bad_request") fail(`${name}: negative last_seq accepted ${JSON.stringify(bad)}`);
  const joined = await a.timeout(5000).emitWithAck("auction:join", { auction_id: Number(auctionId) });
  if (!joined.ok || joined.role !== "commissioner") fail(`${name}: bad join ${JSON.stringify(joined)}`);
  const presence = new Promise((resolve) => a.on("presence", resolve));
  const b = await connected(client(transports));
  await b.timeout(5000).emitWithAck("auction:join", { auction_id: Number(auctionId) });
  const seen = await presence;
  if (seen.online !== true) fail(`${name}: bad presence ${JSON.stringify(seen)}`);
  log({ event: "ok", check: name, transport: a.io.engine.transport.name, server_now: ack.server_now });
  a.disconnect();
  b.disconnect();
}

async function checks() {
  await roundTrip("polling-then-upgrade", ["polling", "websocket"], true);
  await roundTrip("websocket-only", ["websocket"], false);
  await roundTrip("polling-only", ["polling"], false);
  for (const transports of [["polling"], ["websocket"]]) {
    const err = await refused(client(transports, { origin: denied }));
    log({ event: "ok", check: `denied-${transports[0]}`, error: err.message, description: String(err.description ?? "") });
  }
  const err = await refused(client(["websocket"], { token: "not-a-jwt" }));
  log({ event: "ok", check: "bad-jwt", error: err.message });
  const none = await refused(client(["polling"], { token: "" }));
  log({ event: "ok", check: "missing-jwt", error: none.message });
}

async function revoke() {
  const s = await connected(client(["websocket"]));
  const revoked = new Promise((resolve) => s.on("policy:revoked", resolve));
  const gone = new Promise((resolve) => s.on("disconnect", resolve));
  log({ event: "connected" });
  const why = await revoked;
  const reason = await gone;
  log({ event: "revoked", why, reason });
}

// Each token must be refused at connect time; prints the reason the client was given.
async function tokens() {
  for (const { name, token: t } of JSON.parse(auctionId)) {
    for (const transports of [["websocket"], ["polling"]]) {
      const err = await refused(client(transports, { token: t }));
      log({ event: "refused", token: name, transport: transports[0], error: err.message });
    }
  }
}

const finish = deadline(30000);
try {
  if (mode === "checks") await checks();
  else if (mode === "revoke") await revoke();
  else if (mode === "tokens") await tokens();
  else fail(`unknown mode ${mode}`);
  finish();
} catch (e) {
  fail(String(e?.stack ?? e));
}

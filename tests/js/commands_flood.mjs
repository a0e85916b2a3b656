// Abusive commands over the official socket.io-client, for tests/commands_abuse.rs.
//
//   node commands_flood.mjs flood BASE ORIGIN AUCTION_ID TOKEN COUNT
//     Fires COUNT `bid:place` at once (each refused by the rules if it got through); prints the
//     acks by kind and how the socket ended.
//   node commands_flood.mjs watch BASE ORIGIN AUCTION_ID TOKEN
//     Another member, in a process of its own (so that the flood's client work does not delay
//     it): prints `watching`, then asks `time:sync` every 70 ms until its stdin closes, and
//     prints the round trips.
//   node commands_flood.mjs bad-input BASE ORIGIN AUCTION_ID TOKEN REPEAT
//     Sends malformed commands (a 1 MiB client_bid_id REPEAT times, one of 201 bytes, a huge
//     number, an unknown event) and prints each ack.
import { io } from "socket.io-client";
import { deadline, fail, log } from "./driver.mjs";

const [mode, base, origin, auctionIdText, ...rest] = process.argv.slice(2);
const auctionId = Number(auctionIdText);
const finish = deadline(120000);

function connect(token) {
  const socket = io(`${base}/auction`, {
    path: "/api/socket.io/",
    transports: ["websocket"],
    auth: { token },
    extraHeaders: { origin },
    reconnection: false,
    forceNew: true,
    timeout: 10000,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

async function join(socket) {
  const ack = await socket.timeout(10000).emitWithAck("auction:join", { auction_id: auctionId });
  if (!ack.ok) throw new Error(`join refused: ${JSON.stringify(ack)}`);
  return ack;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * `time:sync` every `every` ms (under the per-socket rate, so the watcher is never limited itself)
 * until `stopped` resolves and at least `atLeast` ms have passed; the round trips (ms) and how
 * many went unanswered or were refused.
 */
async function watch(socket, stopped, every, atLeast) {
  const rtts = [];
  let failed = 0;
  let done = false;
  const begun = performance.now();
  stopped.then(() => (done = true));
  for (let k = 1; !done || performance.now() - begun < atLeast; k++) {
    const sent = performance.now();
    try {
      const ack = await socket.timeout(5000).emitWithAck("time:sync", { sent: Date.now(), auction_id: auctionId });
      if (ack.ok) rtts.push(performance.now() - sent);
      else failed += 1;
    } catch {
      failed += 1;
    }
    // Pacing, not synchronisation: the next probe's slot.
    await new Promise((r) => setTimeout(r, Math.max(0, begun + k * every - performance.now())));
  }
  return { rtts, failed };
}

async function flood([token, countText]) {
  const count = Number(countText);
  const socket = await connect(token);
  await join(socket);
  let endedBy = null;
  const ended = new Promise((resolve) =>
    socket.once("disconnect", (reason) => {
      endedBy = reason;
      resolve();
    }),
  );
  const kinds = {};
  let answered = 0;
  let settled = 0;
  let allSettled;
  const everyAck = new Promise((resolve) => (allSettled = resolve));
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const bid = { auction_id: auctionId, lot_id: 1, amount: 1, client_bid_id: `flood-${i}` };
    socket.timeout(20000).emit("bid:place", bid, (err, ack) => {
      if (!err) {
        answered += 1;
        const kind = ack.ok ? "accepted" : ack.error.type;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
      if (++settled === count) allSettled();
    });
  }
  const sentMs = performance.now() - started;
  await Promise.all([ended, everyAck]);
  log({
    event: "flood",
    sent: count,
    sent_ms: Math.round(sentMs),
    answered,
    kinds,
    disconnect: endedBy,
    elapsed_ms: Math.round(performance.now() - started),
  });
}

async function watcher([token]) {
  const socket = await connect(token);
  await join(socket);
  const stopped = new Promise((resolve) => process.stdin.on("end", resolve));
  process.stdin.resume();
  log({ event: "watching" });
  const { rtts, failed } = await watch(socket, stopped, 70, 0);
  rtts.sort((a, b) => a - b);
  log({
    event: "sync",
    n: rtts.length,
    failed,
    p50: percentile(rtts, 50),
    p99: percentile(rtts, 99),
    max: rtts.at(-1) ?? null,
    still_connected: socket.connected,
  });
  socket.disconnect();
}

async function badInput([token, repeatText]) {
  const socket = await connect(token);
  await join(socket);
  const ask = (event, payload) => socket.timeout(10000).emitWithAck(event, payload);
  const megabyte = "x".repeat(1 << 20);
  for (let i = 0; i < Number(repeatText); i++) {
    const ack = await ask("bid:place", { auction_id: auctionId, lot_id: 1, amount: 9, client_bid_id: megabyte });
    log({ event: "ack", case: "mib-client-id", ack });
  }
  const cases = [
    ["long-client-id", "bid:place", { auction_id: auctionId, lot_id: 1, amount: 9, client_bid_id: "k".repeat(201) }],
    ["space-client-id", "bid:place", { auction_id: auctionId, lot_id: 1, amount: 9, client_bid_id: "a b" }],
    ["huge-number", "bid:place", { auction_id: auctionId, lot_id: 1, amount: "9".repeat(5000) }],
    ["negative-player", "lot:nominate", { auction_id: auctionId, player: -1, opening_bid: 1 }],
    ["wide-player", "lot:nominate", { auction_id: auctionId, player: 2 ** 40, opening_bid: 1 }],
    ["unknown-event", "bid:plaec", { auction_id: auctionId }],
    ["valid", "bid:place", { auction_id: auctionId, lot_id: 1, amount: 9, client_bid_id: "ok-1" }],
  ];
  for (const [name, event, payload] of cases) {
    log({ event: "ack", case: name, ack: await ask(event, payload) });
  }
  socket.disconnect();
}

try {
  if (mode === "flood") await flood(rest);
  else if (mode === "watch") await watcher(rest);
  else if (mode === "bad-input") await badInput(rest);
  else fail(`unknown mode ${mode}`);
  finish();
} catch (e) {
  fail(e);
}

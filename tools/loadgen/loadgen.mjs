// Gavel's Socket.IO load generator: one auction, N clients in its room (B of them bidders, the
// rest spectators), a bid every T ms, over websocket. Bidders use the official socket.io-client.
// Spectators do too with `--spectators official` (the default); with `--spectators raw` they
// speak Engine.IO/Socket.IO directly over `ws` (open, namespace connect with the JWT, join with
// an ack, ping/pong, events) and only look for `bid:accepted` — a lighter client, so that with
// 1,000 clients the generator measures the server rather than its own parsing.
// Reports bid ack latency and bid→broadcast latency (p50/p99/max) over every client,
// delivered vs expected broadcasts, the server's CPU time and peak memory (from /proc, given its
// pid) and the generator's own CPU.
//
//   node loadgen.mjs --base http://127.0.0.1:8000 --secret S --pid PID \
//        --clients 1000 --bidders 10 --interval 20 --duration 20 [--spectators raw] [--label gavel]
import { createRequire } from "node:module";

import { cpuTicks as ticksOf, mint as mintWith, parseArgs, peakKiB as peakOf, summary } from "./common.mjs";

const require = createRequire(import.meta.url);
// Installed by `npm ci --prefix tools/loadgen` (benches/auction_load.sh does it).
const { io } = require("socket.io-client");
const WebSocket = require("ws");

const args = parseArgs();
const base = args.base;
const origin = args.origin ?? "http://localhost:5173";
const N = Number(args.clients ?? 100);
const B = Number(args.bidders ?? 10);
const T = Number(args.interval ?? 20);
const duration = Number(args.duration ?? 20) * 1000;
const pid = args.pid;
const rawSpectators = (args.spectators ?? "official") === "raw";

const mint = (sub) => mintWith(args.secret, sub);
const cpuTicks = () => ticksOf(pid);
const peakKiB = () => peakOf(pid);
async function rest(sub, method, path, body) {
  const resp = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${mint(sub)}`, origin, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await resp.json().catch(() => null);
  if (resp.status >= 300) throw new Error(`${method} ${path}: ${resp.status} ${JSON.stringify(json)}`);
  return json;
}

// 1. The auction: B teams (one bidder each), a lot that stays open for the whole run.
const teams = Math.max(B, 2);
const { id } = await rest("load-commissioner", "POST", "/api/auctions", {
  name: `load ${N}/${B}/${T}`,
  settings: { budget: 100000000, roster_slots: 1, bid_secs: 3600, reset_secs: 1, nomination_secs: 3600 },
  teams: Array.from({ length: teams }, (_, i) => ({ name: `T${i}`, manager: `bidder-${i}` })),
  players: Array.from({ length: teams + 1 }, (_, i) => ({ name: `P${i}`, rank: i + 1 })),
});
const spectators = N - teams;
for (let i = 0; i < spectators; i++) {
  const { code } = await rest("load-commissioner", "POST", `/api/auctions/${id}/invitations`, { role: "spectator" });
  await rest(`spectator-${i}`, "POST", `/api/auctions/${id}/join`, { code });
}

// 2. N clients in the room.
const sentAt = new Map(); // amount -> send time (ms, high resolution)
const broadcastLatency = [];
let delivered = 0;
const subs = [...Array.from({ length: teams }, (_, i) => `bidder-${i}`), ...Array.from({ length: spectators }, (_, i) => `spectator-${i}`)];
const sockets = [];
let rawClients = 0;
const onAccepted = (amount) => {
  const t0 = sentAt.get(amount);
  if (t0 !== undefined) {
    broadcastLatency.push(performance.now() - t0);
    delivered += 1;
  }
};
// A spectator speaking the protocol itself: Engine.IO open, Socket.IO CONNECT to /auction with
// the JWT, `auction:join` with ack id 0, pong to every ping, and `bid:accepted` events.
function rawSpectator(sub) {
  return new Promise((resolve, reject) => {
    // A client that never completes its join fails the run instead of hanging it.
    const timer = setTimeout(() => reject(new Error(`${sub}: no join ack within 20 s`)), 20000);
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/api/socket.io/?EIO=4&transport=websocket`, { headers: { origin } });
    ws.on("error", reject);
    ws.on("message", (data) => {
      const m = data.toString();
      if (m === "2") return ws.send("3");
      if (m.startsWith("0")) return ws.send(`40/auction,${JSON.stringify({ token: mint(sub) })}`);
      if (m.startsWith("40/auction,")) return ws.send(`42/auction,0${JSON.stringify(["auction:join", { auction_id: id }])}`);
      if (m.startsWith("44/auction,")) return reject(new Error(`connect refused: ${m}`));
      if (m.startsWith("43/auction,0")) {
        const [ack] = JSON.parse(m.slice("43/auction,0".length));
        clearTimeout(timer);
        return ack.ok ? resolve(ws) : reject(new Error(`join: ${m}`));
      }
      if (m.startsWith('42/auction,["bid:accepted"')) {
        const at = m.indexOf('"amount":');
        onAccepted(parseInt(m.slice(at + 9), 10));
      }
    });
  });
}
for (let i = 0; i < subs.length; i += 50) {
  const batch = subs.slice(i, i + 50).map(
    (sub, j) =>
      (rawSpectators && i + j >= teams ? rawSpectator(sub).then((ws) => { rawClients += 1; return { raw: ws }; }) : new Promise((resolve, reject) => {
        const s = io(`${base}/auction`, {
          path: "/api/socket.io/",
          transports: ["websocket"],
          auth: { token: mint(sub) },
          extraHeaders: { origin },
          reconnection: false,
          forceNew: true,
          timeout: 20000,
        });
        s.on("bid:accepted", (e) => onAccepted(e.amount));
        s.once("connect", async () => {
          const ack = await s.timeout(20000).emitWithAck("auction:join", { auction_id: id });
          if (!ack.ok) reject(new Error(`join: ${JSON.stringify(ack)}`));
          resolve(s);
        });
        s.once("connect_error", reject);
      })),
  );
  sockets.push(...(await Promise.all(batch)));
}

// 3. Open the lot.
await rest("load-commissioner", "POST", `/api/auctions/${id}/start`);
const opened = await rest("bidder-0", "POST", `/api/auctions/${id}/lots`, { player: 0, opening_bid: 1 });
const lotId = opened.events.find((e) => e.event.kind === "lot:opened").event.lot.id;

// 4. A bid every T ms, bidders in turn, each beating the last by one.
const ackLatency = [];
const refused = {};
let amount = 1;
let sent = 0;
let accepted = 0;
const cpu0 = cpuTicks();
const genCpu0 = process.cpuUsage();
const started = performance.now();
await new Promise((resolve) => {
  let k = 0;
  const pending = new Set();
  const timer = setInterval(() => {
    if (performance.now() - started >= duration) {
      clearInterval(timer);
      Promise.all(pending).then(resolve);
      return;
    }
    const team = (k % (teams - 1)) + 1; // bidder-0 opened at 1 and holds it: start with 1
    k += 1;
    amount += 1;
    const bid = { auction_id: id, lot_id: lotId, amount, client_bid_id: `load-${amount}` };
    const t0 = performance.now();
    sentAt.set(amount, t0);
    sent += 1;
    const p = sockets[team]
      .timeout(30000)
      .emitWithAck("bid:place", bid)
      .then((ack) => {
        ackLatency.push(performance.now() - t0);
        if (ack.ok) accepted += 1;
        else refused[ack.error.type] = (refused[ack.error.type] ?? 0) + 1;
      })
      .catch(() => (refused.timeout = (refused.timeout ?? 0) + 1))
      .finally(() => pending.delete(p));
    pending.add(p);
  }, T);
});
// Let the last broadcasts arrive (bounded wait; what has not arrived then is counted missing).
const expected = () => accepted * sockets.length;
const waitUntil = performance.now() + 5000;
while (delivered < expected() && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));
const elapsed = (performance.now() - started) / 1000;
const cpu1 = cpuTicks();
const genCpu = process.cpuUsage(genCpu0);

const result = {
  server: args.label ?? "gavel",
  clients: sockets.length,
  spectators: rawSpectators ? "raw" : "official",
  bidders: teams,
  interval_ms: T,
  seconds: Number(elapsed.toFixed(1)),
  bids_sent: sent,
  bids_accepted: accepted,
  refused,
  ack_ms: summary(ackLatency),
  broadcast_ms: summary(broadcastLatency),
  delivered,
  expected: expected(),
  server_cpu_cores: cpu0 === null ? null : Number(((cpu1 - cpu0) / 100 / elapsed).toFixed(2)),
  server_peak_rss_mib: peakKiB() === null ? null : Number((peakKiB() / 1024).toFixed(1)),
  generator_cpu_cores: Number(((genCpu.user + genCpu.system) / 1e6 / elapsed).toFixed(2)),
};
console.log(JSON.stringify(result));
for (const s of sockets) (s.raw ? s.raw.close() : s.disconnect());
process.exit(0);

// The bar Gavel is measured against: Node socket.io 4 running an in-memory toy auction, with
// just the surface the load generator uses, so both servers take the same load in one run.
// Nothing is persisted; a bid is checked (open lot, beats the high bid, not already high
// bidder), numbered, acknowledged and broadcast to the auction's room — as Gavel does after
// its commit. Connections carry the same HS256 JWT, verified here too.
//
//   node node_bar.mjs --secret S            prints {"address":"127.0.0.1:PORT"} when listening
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const secret = args.secret;

/** The token's subject, or null when its signature or expiry is wrong. */
function subject(token) {
  const [head, body, sig] = String(token ?? "").split(".");
  if (!sig) return null;
  const expected = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = JSON.parse(Buffer.from(body, "base64url").toString());
  return claims.exp * 1000 > Date.now() ? claims.sub : null;
}

const auctions = new Map(); // id -> {teams: Map(sub -> team), members: Set(sub), invitations: Set, seq, lot}
let nextId = 1;
let nextCode = 1;

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

// The REST calls the load generator makes to set up its auction.
const http = createServer((req, res) => {
  let raw = "";
  req.on("data", (c) => (raw += c));
  req.on("end", () => {
    const sub = subject((req.headers.authorization ?? "").replace(/^Bearer /, ""));
    if (!sub) return reply(res, 401, { type: "unauthorized" });
    const body = raw ? JSON.parse(raw) : {};
    const path = req.url.split("?")[0];
    if (req.method === "POST" && path === "/api/auctions") {
      const id = nextId++;
      const teams = new Map(body.teams.map((t, i) => [t.manager, i]));
      auctions.set(id, { teams, members: new Set([sub, ...teams.keys()]), invitations: new Set(), seq: 0, lot: null, commissioner: sub });
      return reply(res, 201, { id });
    }
    const m = path.match(/^\/api\/auctions\/(\d+)\/(invitations|join|start|lots)$/);
    const auction = m && auctions.get(Number(m[1]));
    if (!auction || req.method !== "POST") return reply(res, 404, { type: "not_found" });
    switch (m[2]) {
      case "invitations": {
        const code = `code-${nextCode++}`;
        auction.invitations.add(code);
        return reply(res, 201, { code });
      }
      case "join":
        if (!auction.invitations.delete(body.code)) return reply(res, 400, { type: "invalid_invitation" });
        auction.members.add(sub);
        return reply(res, 200, { ok: true });
      case "start":
        auction.seq += 1;
        return reply(res, 200, { seq: auction.seq });
      case "lots": {
        const team = auction.teams.get(sub);
        auction.seq += 1;
        auction.lot = { id: 1, player: body.player, high_bid: body.opening_bid, high_team: team, version: 1 };
        return reply(res, 200, { events: [{ seq: auction.seq, event: { kind: "lot:opened", lot: auction.lot } }] });
      }
    }
  });
});

const io = new Server(http, { path: "/api/socket.io/", cors: { origin: true, credentials: true } });
const ns = io.of("/auction");
ns.use((socket, next) => {
  const sub = subject(socket.handshake.auth?.token);
  if (!sub) return next(new Error("unauthorized"));
  socket.data.sub = sub;
  next();
});
ns.on("connection", (socket) => {
  socket.on("auction:join", (body, ack) => {
    const auction = auctions.get(body?.auction_id);
    if (!auction || !auction.members.has(socket.data.sub)) return ack?.({ ok: false, error: { type: "forbidden" } });
    socket.data.auction = body.auction_id;
    socket.join(`auction:${body.auction_id}`);
    ack?.({ ok: true, seq: auction.seq, team: auction.teams.get(socket.data.sub) ?? null });
  });
  socket.on("bid:place", (body, ack) => {
    const auction = auctions.get(socket.data.auction);
    const team = auction?.teams.get(socket.data.sub);
    const lot = auction?.lot;
    if (team === undefined || !lot || lot.id !== body.lot_id) return ack?.({ ok: false, error: { type: "lot_closed" } });
    if (lot.high_team === team) return ack?.({ ok: false, error: { type: "already_high_bidder" } });
    if (body.amount < lot.high_bid + 1) return ack?.({ ok: false, error: { type: "outbid" } });
    lot.high_bid = body.amount;
    lot.high_team = team;
    lot.version += 1;
    auction.seq += 1;
    const now = Date.now();
    ack?.({ ok: true, seq: auction.seq });
    ns.to(`auction:${socket.data.auction}`).emit("bid:accepted", {
      kind: "bid:accepted",
      lot: lot.id,
      team,
      amount: body.amount,
      ends_at: now + 3600000,
      version: lot.version,
      auction_id: socket.data.auction,
      seq: auction.seq,
      server_now: now,
    });
  });
});

http.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ address: `127.0.0.1:${http.address().port}` }));
});

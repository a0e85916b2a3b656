// The room's names and chat over the official socket.io-client, as tests/clients/room_chat.rs
// asks. Prints one JSON line per finding; exits non-zero on failure.
//
//   node room_chat.mjs flow BASE ORIGIN AUCTION_ID '{"cora": TOKEN, "ann": …, "sam": …, "bob": …, "eve": …}'
//   node room_chat.mjs rate BASE ORIGIN AUCTION_ID '{"ann": TOKEN, "bob": TOKEN}'
import { io } from "socket.io-client";
import { deadline, fail, log } from "./driver.mjs";

const [mode, base, origin, auctionIdText, tokensJson] = process.argv.slice(2);
const auctionId = Number(auctionIdText);
const tokens = JSON.parse(tokensJson);
const finish = deadline(60000);

/** One socket: every event it received, in order, and a way to wait for one. */
class Peer {
  constructor(name) {
    this.name = name;
    this.received = []; // [event, payload]
    this.waiters = [];
  }

  connect() {
    this.socket = io(`${base}/auction`, {
      path: "/api/socket.io/",
      transports: ["websocket"],
      auth: { token: tokens[this.name] },
      extraHeaders: { origin },
      reconnection: false,
      forceNew: true,
      timeout: 10000,
    });
    this.socket.onAny((event, payload) => {
      this.received.push([event, payload]);
      for (const w of [...this.waiters]) w();
    });
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve(this));
      this.socket.once("connect_error", reject);
    });
  }

  /** Resolves with the first received `event` (earlier ones included) whose payload fits. */
  waitFor(event, pred = () => true, ms = 10000) {
    const found = () => this.received.find(([e, p]) => e === event && pred(p))?.[1];
    return new Promise((resolve, reject) => {
      const hit = found();
      if (hit !== undefined) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${event} within ${ms} ms`)), ms);
      const waiter = () => {
        const p = found();
        if (p === undefined) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(p);
      };
      this.waiters.push(waiter);
    });
  }

  emit(event, payload) {
    return this.socket.timeout(10000).emitWithAck(event, { auction_id: auctionId, ...payload });
  }

  count(event) {
    return this.received.filter(([e]) => e === event).length;
  }
}

async function peer(name) {
  return new Peer(name).connect();
}

/** Joins, and waits for the chat history that follows the snapshot. */
async function join(p) {
  const ack = await p.emit("auction:join", {});
  if (!ack.ok) fail(`${p.name}: join refused ${JSON.stringify(ack)}`);
  const history = await p.waitFor("chat:history");
  return { ack, history };
}

async function presenceAndNames(cora, ann, sam) {
  const coraJoin = await join(cora);
  const annJoin = await join(ann);
  const annOnline = await cora.waitFor("presence", (p) => p.online && p.role === "manager");
  const samJoin = await join(sam);
  const samOnline = await cora.waitFor("presence", (p) => p.online && p.role === "spectator");
  const snapshot = await sam.waitFor("auction:snapshot");
  log({
    event: "names",
    joined: { cora: coraJoin.ack, ann: annJoin.ack, sam: samJoin.ack },
    first_history: samJoin.history,
    presence: { ann: annOnline, sam: samOnline },
    snapshot_commissioner_name: snapshot.commissioner_name,
    snapshot_has_commissioner: "commissioner" in snapshot,
  });
}

async function refusals(cora, ann, sam, hello) {
  const eve = await peer("eve");
  const send = (p, text) => p.emit("chat:send", { text });
  log({
    event: "refusals",
    too_long: await send(ann, "x".repeat(501)),
    blank: await send(ann, " \n\t "),
    control: await send(ann, "a\u0000b"),
    longest: await send(ann, "é".repeat(500)),
    outsider_send: await send(eve, "hi"),
    manager_delete: await ann.emit("chat:delete", { id: hello.id }),
    spectator_delete: await sam.emit("chat:delete", { id: hello.id }),
    unknown_delete: await cora.emit("chat:delete", { id: 999999 }),
    malformed: await ann.emit("chat:send", { text: 7 }),
  });
  eve.socket.disconnect();
}

async function history(name, predicate) {
  const fresh = await peer("bob");
  const { history: h } = await join(fresh);
  const texts = h.messages.map((m) => m.text);
  log({
    event: name,
    auction_id: h.auction_id,
    count: h.messages.length,
    first: texts[0],
    last: texts.at(-1),
    ids_ascending: h.messages.every((m, i) => i === 0 || m.id > h.messages[i - 1].id),
    senders: [...new Set(h.messages.map((m) => `${m.name}/${m.role}/${m.team}`))],
    ...predicate(texts),
  });
  fresh.socket.disconnect();
}

async function flow() {
  const [cora, ann, sam] = await Promise.all(["cora", "ann", "sam"].map(peer));
  await presenceAndNames(cora, ann, sam);

  const hello = await ann.emit("chat:send", { text: "  hello <b>all</b>  " });
  if (!hello.ok) fail(`hello refused: ${JSON.stringify(hello)}`);
  const seen = await Promise.all([cora, ann, sam].map((p) => p.waitFor("chat:message", (m) => m.id === hello.id)));
  log({ event: "hello", ack: hello, seen });

  await refusals(cora, ann, sam, hello);

  const removed = await cora.emit("chat:delete", { id: hello.id });
  const told = await Promise.all([cora, ann, sam].map((p) => p.waitFor("chat:deleted", (d) => d.id === hello.id)));
  const again = await cora.emit("chat:delete", { id: hello.id });
  log({ event: "deleted", ack: removed, again, told });

  for (let i = 0; i < 105; i++) {
    const ack = await cora.emit("chat:send", { text: `m${i}` });
    if (!ack.ok) fail(`m${i} refused: ${JSON.stringify(ack)}`);
  }
  await ann.waitFor("chat:message", (m) => m.text === "m104");
  await history("history", (texts) => ({ has_hello: texts.some((t) => t.includes("hello")) }));
  // The fresh socket left: the room is told under the name it joined with.
  const offline = await cora.waitFor("presence", (p) => !p.online);

  const m100 = ann.received.find(([e, p]) => e === "chat:message" && p.text === "m100")[1];
  const gone = await cora.emit("chat:delete", { id: m100.id });
  await sam.waitFor("chat:deleted", (d) => d.id === m100.id);
  await history("history-after-delete", (texts) => ({ ack: gone, has_m100: texts.includes("m100") }));

  log({
    event: "privacy",
    emails_seen: Object.fromEntries(
      [cora, ann, sam].map((p) => [p.name, JSON.stringify(p.received).includes("@example.com")]),
    ),
    chat_messages_seen_by_sam: sam.count("chat:message"),
    offline,
  });
  for (const p of [cora, ann, sam]) p.socket.disconnect();
}

async function rate() {
  const [ann, bob] = await Promise.all(["ann", "bob"].map(peer));
  await join(ann);
  await join(bob);
  const acks = [];
  for (let i = 0; i < 6; i++) acks.push(await ann.emit("chat:send", { text: `burst ${i}` }));
  const other = await bob.emit("chat:send", { text: "not held back" });
  await bob.waitFor("chat:message", (m) => m.id === other.id);
  log({ event: "rate", acks, other, bob_saw: bob.count("chat:message") });
  ann.socket.disconnect();
  bob.socket.disconnect();
}

try {
  if (mode === "flow") await flow();
  else if (mode === "rate") await rate();
  else fail(`unknown mode ${mode}`);
  finish();
} catch (e) {
  fail(e);
}

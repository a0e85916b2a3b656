// A member of one auction room over the official socket.io-client: keeps the last `seq` it
// applied, drops duplicates, resyncs with `auction:join {last_seq}` on a gap or a reconnect,
// and records every event it applied (for the tests' checks).
import { io } from "socket.io-client";

export const EVENTS = [
  "pool:updated", "nomination:opened", "lot:opened", "bid:accepted", "lot:sold", "lot:abandoned",
  "auction:paused", "auction:resumed", "sale:voided", "sale:edited", "auction:completed",
];

export class Member {
  constructor({ base, origin, token, auctionId, name, transports = ["websocket"] }) {
    Object.assign(this, { base, origin, token, auctionId, name, transports });
    this.lastSeq = null; // null until the first snapshot or replay
    this.applied = []; // [{seq, name, body}] in the order applied
    this.listeners = [];
    this.rejected = [];
    this.teamUpdates = [];
    this.resyncs = 0;
  }

  connect() {
    this.socket = io(`${this.base}/auction`, {
      path: "/api/socket.io/",
      transports: this.transports,
      auth: { token: this.token },
      extraHeaders: { origin: this.origin },
      reconnection: false,
      forceNew: true,
      timeout: 10000,
    });
    for (const name of EVENTS) this.socket.on(name, (body) => this.onEvent(name, body));
    this.socket.on("auction:snapshot", (s) => this.onSnapshot(s));
    this.socket.on("bid:rejected", (r) => this.rejected.push(r));
    this.socket.on("team:updated", (t) => this.teamUpdates.push(t));
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve(this));
      this.socket.once("connect_error", reject);
    });
  }

  onSnapshot(s) {
    if (this.lastSeq === null || s.seq > this.lastSeq) {
      this.state = s.state;
      this.lastSeq = s.seq;
      this.snapshotSeq = s.seq;
    }
  }

  onEvent(name, body) {
    if (this.lastSeq === null || body.seq <= this.lastSeq) return; // not synced yet, or a duplicate
    if (body.seq !== this.lastSeq + 1) {
      // A gap: ask for what was missed (events arrive again through onEvent).
      this.resyncs += 1;
      this.join(this.lastSeq).catch((e) => this.fail?.(e));
      return;
    }
    this.lastSeq = body.seq;
    this.applied.push({ seq: body.seq, name, body });
    for (const l of [...this.listeners]) l(name, body);
  }

  /** Resolves with the first applied event `name` that satisfies `pred`. */
  next(name, pred = () => true, timeoutMs = 20000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`${this.name}: no ${name} within ${timeoutMs} ms (last seq ${this.lastSeq})`));
      }, timeoutMs);
      const listener = (n, body) => {
        if (n === name && pred(body)) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== listener);
          resolve(body);
        }
      };
      this.listeners.push(listener);
    });
  }

  async join(lastSeq = this.lastSeq) {
    const payload = { auction_id: this.auctionId };
    if (lastSeq !== null && lastSeq !== undefined) payload.last_seq = lastSeq;
    const ack = await this.socket.timeout(30000).emitWithAck("auction:join", payload);
    if (!ack.ok) throw new Error(`${this.name}: join refused ${JSON.stringify(ack)}`);
    this.role = ack.role;
    this.team = ack.team;
    // Replayed events came before the ack; with no snapshot and nothing missed we are in sync.
    if (this.lastSeq === null) this.lastSeq = lastSeq ?? ack.seq;
    return ack;
  }

  /**
   * `time:sync` naming the auction: the ack carries its latest seq. Behind it (a broadcast that
   * never came), the member resyncs — as the page does periodically. Returns whether it was.
   */
  async checkSeq() {
    if (this.checking) return false; // one at a time: a resync in flight answers the next check
    this.checking = true;
    try {
      const ack = await this.socket.timeout(30000).emitWithAck("time:sync", { sent: Date.now(), auction_id: this.auctionId });
      if (typeof ack.seq !== "number" || this.lastSeq === null || ack.seq <= this.lastSeq) return false;
      this.resyncs += 1;
      await this.join(this.lastSeq);
      return true;
    } finally {
      this.checking = false;
    }
  }

  async emit(event, payload) {
    return this.socket.timeout(30000).emitWithAck(event, { auction_id: this.auctionId, ...payload });
  }

  disconnect() {
    this.socket.disconnect();
  }

  /** The applied seqs, checked gapless from the first. */
  gaplessFrom(first) {
    return this.applied.every((e, i) => e.seq === first + i);
  }
}

export async function rest(base, origin, token, method, path, body) {
  const resp = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, origin, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: resp.status, body: json };
}

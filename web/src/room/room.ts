// The draft room: one Socket.IO connection to the auction, the state kept in step with its
// events (a gap or an event the page cannot apply makes it read the state again), and the
// sections of the screen redrawn from it.
import { io } from "socket.io-client";
import { SEQ_EVENTS, type RosterSpot, type Schemas, type SeqEvent } from "../../../openapi/client/index.ts";
import { api, client, screenLink, session, showError, showScreen, tokenListeners } from "../app.ts";
import { byId, h } from "../dom.ts";
import { alerts } from "./alerts.ts";
import type { Room, Section } from "./context.ts";
import { applyEvent } from "./apply.ts";
import { lotOf } from "./model.ts";
import { chatSection } from "./chat.ts";
import { commissionerSection } from "./commissioner.ts";
import { gridSection } from "./grid.ts";
import { lobbySection } from "./lobby.ts";
import { LOG_LINES, type LogSection, logSection } from "./log.ts";
import { lotSection } from "./lot.ts";
import { boardSection } from "./board.ts";
import { resultsSection } from "./results.ts";
import { statusSection } from "./status.ts";
import { teamsSection } from "./teams.ts";

let current: { room: Room; render(): void; stop(): void } | null = null;

export function leaveRoom() {
  current?.stop();
  current = null;
}

export function roomScreen(id: number, me: Schemas["Me"]) {
  const socket = io(`${api}/auction`, {
    path: "/api/socket.io/",
    auth: (cb) => cb({ token: session.access() }), // asked again on every reconnect: the latest token
  });
  const room: Room = {
    id, socket, state: null, seq: null, role: "", team: null, name: "", commissionerName: "", offset: 0, teamSeq: [],
    resyncing: false, members: [], bids: { lot: 0, lines: [] }, chat: [],
    now: () => Date.now() + room.offset,
  };
  const mine = me.memberships.find((m) => m.auction_id === id);
  const title = mine?.auction_name ?? `Auction ${id}`;
  const log = logSection(room);
  const sections: Section[] = [statusSection(), lotSection(), lobbySection(), commissionerSection(), teamsSection(), boardSection(), chatSection(), log, gridSection(), resultsSection()];
  const [status, lot, lobby, commish, teams, board, chat, , grid, results] = sections.map((s) => s.el);
  showScreen(title,
    h("div", { class: "room" },
      status,
      h("div", { class: "room-wide" }, results),
      h("div", { class: "room-main" }, lot, commish, lobby, board),
      h("div", { class: "room-side" }, teams, chat, log.el),
      h("div", { class: "room-wide" }, grid),
    ),
  );
  const render = () => {
    // An answer that arrives after leaving (members, state) must not draw over the next screen.
    if (!room.state || current?.room !== room) return;
    for (const s of sections) s.render(room);
    document.body.dataset.seq = String(room.seq ?? "");
    const phase = room.state.phase;
    document.body.dataset.phase = typeof phase === "string" ? phase : Object.keys(phase)[0];
  };
  const timers = [
    window.setInterval(() => room.state && (sections[0].render(room), sections[1].render(room)), 250),
    // The clock drifts and broadcasts can be lost: check both every 15 s.
    window.setInterval(() => socket.connected && void syncClock(room, render), 15000),
  ];
  const onToken = (token: string) => {
    if (socket.connected) void socket.timeout(5000).emitWithAck("auth:refresh", { token }).catch(() => null);
  };
  tokenListeners.add(onToken);
  current = {
    room,
    render,
    stop() {
      timers.forEach(window.clearInterval);
      tokenListeners.delete(onToken);
      socket.disconnect();
      alerts.reset();
      delete document.body.dataset.seq;
    },
  };
  listen(room, render, log);
}

/** The socket's events, bound to the room. */
function listen(room: Room, render: () => void, log: LogSection) {
  const { socket } = room;
  let resume: Promise<boolean> | null = null;
  let retried = false; // a connect refused for an expired token is retried once, refreshed
  let historyLoaded = false;
  socket.on("auction:snapshot", (snap) => {
    if (room.seq !== null && snap.seq < room.seq) return;
    room.state = snap.state;
    room.seq = snap.seq;
    room.teamSeq = [];
    room.commissionerName = snap.commissioner_name;
    render();
    if (!historyLoaded) {
      historyLoaded = true;
      void loadHistory(room, log, render);
    }
  });
  const onSeq = (e: SeqEvent) => {
    if (room.seq === null || e.seq <= room.seq || !room.state) return; // not synced yet, or seen
    if (e.seq !== room.seq + 1) return void resync(room, render); // a gap: ask for what was missed
    room.seq = e.seq;
    const before = structuredClone(room.state);
    if (!applyEvent(room, e)) void reread(room, render);
    log.add(e.seq, e);
    alerts.onEvent(room, before, e);
    render();
  };
  for (const name of SEQ_EVENTS) socket.on(name, onSeq);
  socket.on("team:updated", (e) => {
    const t = room.state?.teams[e.team];
    if (t && room.seq !== null && e.seq <= room.seq && e.seq >= (room.teamSeq[e.team] ?? 0)) {
      room.teamSeq[e.team] = e.seq;
      t.budget_left = e.budget_left;
      t.roster = e.roster;
      render();
    }
  });
  // Someone joined or left: names and managers may have changed. Asked at most every 2 s, so a
  // crowd arriving does not make every page ask once per arrival.
  let membersDue: number | undefined;
  socket.on("presence", () => {
    membersDue ??= window.setTimeout(() => {
      membersDue = undefined;
      void loadMembers(room, render);
    }, 2000);
  });
  socket.on("chat:history", (e) => {
    room.chat = e.messages;
    render();
  });
  socket.on("chat:message", (m) => {
    if (!room.chat.some((x) => x.id === m.id)) room.chat.push(m);
    render();
  });
  socket.on("chat:deleted", (e) => {
    room.chat = room.chat.filter((m) => m.id !== e.id);
    render();
  });
  socket.on("bid:rejected", (e) => alerts.say(`Bid ${e.amount} refused: ${e.error.detail}`));
  socket.on("policy:revoked", (e) => showError(`The server's origin policy no longer allows this page: ${e.detail}`));
  socket.on("auth:expired", () => (resume = session.refresh()));
  socket.on("connect", () => {
    retried = false;
    connectionBack();
    void syncClock(room, render);
    void resync(room, render);
    void loadMembers(room, render);
  });
  socket.on("disconnect", (reason) => {
    connectionLost();
    if (reason === "io server disconnect" && resume) {
      void resume.then((ok) => ok && socket.connect());
      resume = null;
    }
  });
  socket.on("connect_error", (err) => {
    connectionLost();
    if (/expired/.test(err.message) && !retried) {
      retried = true;
      return void session.refresh().then((ok) => ok && socket.connect());
    }
    if (!socket.active) showError(`Cannot connect to the auction: ${err.message}`);
  });
}

/** Joins (or rejoins from the last seq seen); a refused join explains how to get in. */
async function resync(room: Room, render: () => void) {
  if (room.resyncing) return;
  room.resyncing = true;
  const ack = await room.socket
    .timeout(10000)
    .emitWithAck("auction:join", { auction_id: room.id, ...(room.seq === null ? {} : { last_seq: room.seq }) })
    .catch(() => null)
    .finally(() => (room.resyncing = false));
  if (!ack) return;
  if (!ack.ok) return notMember(room, ack.error.type, ack.error.detail);
  room.role = ack.role;
  room.team = ack.team;
  room.name = ack.name;
  if (room.seq === null) room.seq = ack.seq;
  showError(null);
  render();
}

function notMember(room: Room, kind: string, detail: string) {
  leaveRoom();
  const why = kind === "not_found" ? "There is no auction with this number." : "You are not a member of this auction.";
  showScreen(`Auction ${room.id}`,
    h("div", { class: "card stack", id: "not-member" },
      h("p", {}, why),
      h("p", {}, "To take part, ask the auction's commissioner for an invitation link. Opening it signs you in, joins you to the auction and brings you to its room."),
      h("p", { class: "muted" }, `(The server said: ${detail}.)`),
      h("p", {}, screenLink("Back to my auctions", {})),
    ),
  );
}

/** A request that got no answer (offline): as if answered with nothing; the resync on return catches up. */
const offline = () => ({ data: undefined });

/** Reads the state again; an answer older than what was applied since is asked for again. */
async function reread(room: Room, render: () => void) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { data } = await client.GET("/auctions/{id}/state", { params: { path: { id: room.id } } }).catch(offline);
    if (!data) return;
    if (room.seq === null || data.seq >= room.seq) {
      // openapi-fetch reads a `[player, price]` pair as `number[]` (its `Readable` maps tuples
      // to arrays); the server sends pairs, as the event types say.
      const teams = data.state.teams.map((t) => ({ ...t, roster: t.roster.map(([player, price]): RosterSpot => [player, price]) }));
      room.state = { ...data.state, teams };
      room.seq = data.seq;
      render();
      return;
    }
  }
}

/** After a (re)load: the log from the auction's history, the open lot's bids, the members. */
async function loadHistory(room: Room, log: LogSection, render: () => void) {
  const events = await client.GET("/auctions/{id}/events", { params: { path: { id: room.id }, query: { after_seq: Math.max(0, (room.seq ?? 0) - LOG_LINES) } } }).catch(offline);
  if (events.data) log.fill(events.data.events);
  const lot = room.state ? (lotOf(room.state.phase)?.id ?? null) : null;
  if (lot !== null) {
    const bids = await client.GET("/auctions/{id}/lots/{lot}/bids", { params: { path: { id: room.id, lot }, query: { limit: 500 } } }).catch(offline);
    if (bids.data && room.bids.lot !== lot) {
      const lines = bids.data.bids.filter((b) => b.accepted).map((b) => ({ team: b.team, amount: Number(b.amount), at: b.at }));
      room.bids = { lot, lines: lines.reverse() };
    }
  }
  render();
}

async function loadMembers(room: Room, render: () => void) {
  const { data } = await client.GET("/auctions/{id}/members", { params: { path: { id: room.id } } }).catch(offline);
  if (data) {
    room.members = data;
    render();
  }
}

async function syncClock(room: Room, render: () => void) {
  const sent = Date.now();
  const ack = await room.socket.timeout(5000).emitWithAck("time:sync", { sent, auction_id: room.id }).catch(() => null);
  if (!ack || !ack.ok) return;
  room.offset = ack.server_now - (sent + (Date.now() - sent) / 2);
  // Behind the auction's latest seq with no event to show it (a broadcast lost between
  // server processes): fetch what was missed.
  if (ack.seq !== undefined && room.seq !== null && ack.seq > room.seq) void resync(room, render);
}

// The indicator shows only after two seconds without a connection.
let offlineTimer: number | undefined;
function connectionLost() {
  if (offlineTimer === undefined) offlineTimer = window.setTimeout(() => (byId("conn").hidden = false), 2000);
}
function connectionBack() {
  window.clearTimeout(offlineTimer);
  offlineTimer = undefined;
  byId("conn").hidden = true;
}

window.addEventListener("offline", connectionLost);
window.addEventListener("online", () => {
  // Back online: the socket may have survived; either way ask for what was missed.
  const room = current?.room;
  if (room?.socket.connected) {
    connectionBack();
    void resync(room, current!.render);
  }
});

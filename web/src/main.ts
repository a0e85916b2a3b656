// The auction room: sign in by magic link, join an auction, watch and bid live. The API may be
// on another origin (`?api=https://…`, default: this page's origin); it must allow this page's
// origin in its policy.
import { io, type Socket } from "socket.io-client";
import {
  SEQ_EVENTS,
  type AuctionState,
  type ClientToServer,
  type Lot,
  type RosterSpot,
  type SeqEvent,
  type ServerToClient,
} from "../../openapi/client/index.ts";
import { createSession } from "./session.ts";

const params = new URLSearchParams(location.search);
// A login link arrives with ?token=…: the token goes only to the API this browser asked for the
// link (remembered then), never to an `api` named in the link itself, which whoever requested
// the link chose.
const api = (
  params.has("token")
    ? (localStorage.getItem("gavel.api") ?? location.origin)
    : (params.get("api") ?? location.origin)
).replace(/\/$/, "");
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const session = createSession(api, {
  // An open socket takes the new token and stays connected past the old one's expiry.
  // (A socket that is not connected takes it at its next connect.)
  refreshed: (token) => {
    if (room?.socket.connected) void room.socket.timeout(5000).emitWithAck("auth:refresh", { token }).catch(() => null);
  },
  ended: (why) => {
    showError(`Signed out (${why}): sign in again.`);
    show("login");
  },
});
const client = session.client;

function showError(text: string | null) {
  const box = $("error");
  box.hidden = text === null;
  box.textContent = text ?? "";
}

function show(section: "login" | "join" | "room") {
  for (const s of ["login", "join", "room"]) $(s).hidden = s !== section;
}

/** A fetch that failed before any answer: offline, or (cross-origin) refused by the policy. */
function unreachable(e: unknown) {
  showError(
    `Cannot reach the Gavel API at ${api} from this page (${location.origin}). ` +
      `The server's origin policy may not allow this origin, or the server is down. (${String(e)})`,
  );
}

// ---- sign-in ------------------------------------------------------------------------------

async function exchange(token: string) {
  try {
    const { data, error } = await client.POST("/auth/token", { body: { token } });
    if (error || !data) return showError(`Sign-in failed: ${error?.detail ?? "no answer"}`);
    session.keep(data.access_token, data.refresh_token);
  } catch (e) {
    unreachable(e);
  }
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const email = $<HTMLInputElement>("email").value;
  const redirect = location.href.split("#")[0];
  localStorage.setItem("gavel.api", api);
  try {
    const { error, response } = await client.POST("/auth/magic-link", { body: { email, redirect } });
    if (error) return showError(`${error.title}: ${error.detail}`);
    showError(null);
    $("login-status").textContent = `A login link is on its way to ${email} (HTTP ${response.status}).`;
    // In development the server keeps the mail in an outbox: show the link right here. The
    // outbox holds login links, so the server answers it only to a page it serves itself on a
    // loopback host, never across origins: ask the page's own origin.
    const outbox = await fetch("/dev/outbox").catch(() => null);
    if (outbox?.ok) {
      const mails: { to: string; link: string }[] = await outbox.json();
      const mine = mails.filter((m) => m.to === email.trim().toLowerCase()).pop();
      if (mine) {
        $<HTMLAnchorElement>("dev-link").href = mine.link;
        $("dev-link-box").hidden = false;
      }
    }
  } catch (e) {
    unreachable(e);
  }
});

// ---- the room -------------------------------------------------------------------------------

type Room = {
  id: number;
  socket: Socket<ServerToClient, ClientToServer>;
  state: AuctionState | null;
  seq: number | null;
  role: string;
  team: number | null;
  commissioner: string;
  offset: number; // server clock − local clock, ms
  teamSeq: number[]; // the seq each team's row was last updated at
  resyncing: boolean;
};
let room: Room | null = null;

function lotOf(state: AuctionState | null): Lot | null {
  const phase = state?.phase;
  if (phase && typeof phase === "object" && "Bidding" in phase) return phase.Bidding;
  return null;
}

function phaseName(state: AuctionState | null): string {
  const p = state?.phase;
  if (!p) return "—";
  return typeof p === "string" ? p.toLowerCase() : Object.keys(p)[0].toLowerCase();
}

function maxBid(state: AuctionState, team: number): number {
  const t = state.teams[team];
  const open = state.settings.roster_slots - t.roster.length;
  return open === 0 ? 0 : t.budget_left - state.settings.min_bid * (open - 1);
}

function log(text: string) {
  const li = document.createElement("li");
  li.textContent = text;
  $("log").prepend(li);
  while ($("log").childElementCount > 50) $("log").lastElementChild?.remove();
}

function render() {
  if (!room?.state) return;
  const s = room.state;
  $("phase").textContent = phaseName(s);
  $("role").textContent = room.team === null ? room.role : `${room.role} of ${s.teams[room.team].name}`;
  const lot = lotOf(s);
  $("lot-player").textContent = lot ? s.players[lot.player].name : phaseName(s) === "completed" ? "Auction complete" : "No lot open";
  $("high-bid").textContent = lot ? String(lot.high_bid) : "—";
  $("high-team").textContent = lot ? s.teams[lot.high_team].name : "";
  const bidding = lot !== null && room.team !== null && lot.high_team !== room.team && maxBid(s, room.team) > lot.high_bid;
  $("bid-form").hidden = !(lot !== null && room.team !== null);
  $<HTMLButtonElement>("bid").disabled = !bidding;
  if (lot && room.team !== null) {
    $("max-bid").textContent = String(maxBid(s, room.team));
    const amount = $<HTMLInputElement>("bid-amount");
    const next = lot.high_bid + s.settings.increment;
    if (Number(amount.value) < next || document.activeElement !== amount) amount.value = String(next);
  }
  const phase = s.phase;
  const myTurn = typeof phase === "object" && "Nominating" in phase && phase.Nominating.nominator === room.team;
  $("nominate-form").hidden = !myTurn;
  if (myTurn) {
    const select = $<HTMLSelectElement>("player");
    const wanted = s.pool.map(String).join(",");
    if (select.dataset.pool !== wanted) {
      select.replaceChildren(...s.pool.map((p) => new Option(`${s.players[p].name} (#${s.players[p].rank})`, String(p))));
      select.dataset.pool = wanted;
    }
  }
  $("commissioner").hidden = room.role !== "commissioner";
  // Only what the phase allows is offered (the server would refuse the rest).
  const name = phaseName(s);
  $<HTMLButtonElement>("start").disabled = name !== "lobby";
  $<HTMLButtonElement>("pause").disabled = name !== "nominating" && name !== "bidding";
  $<HTMLButtonElement>("resume").disabled = name !== "paused";
  const sales = $<HTMLSelectElement>("sale");
  const live = s.sales.filter((x) => !x.voided);
  sales.replaceChildren(...live.map((x) => new Option(`${s.players[x.player].name} → ${s.teams[x.team].name} (${x.price})`, String(x.player))));
  $<HTMLButtonElement>("void").disabled = live.length === 0 || name === "lobby" || name === "completed";
  $("rosters").replaceChildren(
    ...s.teams.map((t, i) => {
      const tr = document.createElement("tr");
      tr.dataset.team = String(i);
      const roster = t.roster.map(([p, price]) => `${s.players[p].name} (${price})`).join(", ");
      for (const text of [t.name, String(t.budget_left), roster || "—"]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  document.body.dataset.seq = String(room.seq ?? "");
}

function tick() {
  if (!room?.state) return;
  const s = room.state;
  const lot = lotOf(s);
  const phase = s.phase;
  const deadline = lot?.ends_at ?? (typeof phase === "object" && "Nominating" in phase ? phase.Nominating.deadline : null);
  const left = deadline === null ? null : Math.max(0, deadline - (Date.now() + room.offset));
  $("countdown").textContent = left === null ? "—" : `${(left / 1000).toFixed(1)} s`;
}
setInterval(tick, 100);

/** Events the page applies itself; anything else makes it read the state again. */
function apply(e: SeqEvent) {
  const s = room!.state!;
  switch (e.kind) {
    case "nomination:opened":
      s.phase = { Nominating: { nominator: e.nominator, deadline: e.deadline } };
      return true;
    case "lot:opened": {
      const lot = e.lot;
      s.phase = { Bidding: lot };
      s.pool = s.pool.filter((p) => p !== lot.player);
      s.last_lot = lot.id;
      log(`${s.teams[lot.nominator].name} nominated ${s.players[lot.player].name} at ${lot.high_bid}`);
      return true;
    }
    case "bid:accepted": {
      const lot = lotOf(s);
      if (!lot) return false;
      Object.assign(lot, { high_bid: e.amount, high_team: e.team, ends_at: e.ends_at, version: e.version });
      log(`${s.teams[e.team].name} bid ${e.amount}`);
      return true;
    }
    case "lot:sold":
      s.sales.push({ lot: e.lot, player: e.player, team: e.team, price: e.price, voided: false });
      log(`${s.players[e.player].name} sold to ${s.teams[e.team].name} for ${e.price}`);
      return true; // budgets and rosters come with team:updated
    case "auction:completed":
      s.phase = "Completed";
      log("The auction is complete");
      return true;
    default:
      return false;
  }
}

/** Reads the state again; an answer older than what was applied since is asked for again. */
async function reload() {
  for (let attempt = 0; room && attempt < 5; attempt++) {
    const { data } = await client.GET("/auctions/{id}/state", { params: { path: { id: room.id } } });
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

function onSeqEvent(e: SeqEvent) {
  if (!room || room.seq === null || e.seq <= room.seq) return; // not synced yet, or seen
  if (e.seq !== room.seq + 1) return void resync(); // a gap: ask for what was missed
  room.seq = e.seq;
  if (!apply(e)) void reload();
  render();
}

async function resync() {
  if (!room || room.resyncing) return;
  room.resyncing = true;
  const ack = await room.socket
    .timeout(10000)
    .emitWithAck("auction:join", { auction_id: room.id, ...(room.seq === null ? {} : { last_seq: room.seq }) })
    .catch(() => null)
    .finally(() => room && (room.resyncing = false));
  if (!ack) return;
  if (!ack.ok) return showError(`Cannot join auction ${room.id}: ${ack.error.detail}`);
  room.role = ack.role;
  room.team = ack.team;
  if (room.seq === null) room.seq = ack.seq;
  showError(null);
  render();
}

async function syncClock() {
  const asked = room;
  if (!asked) return;
  const sent = Date.now();
  const ack = await asked.socket.timeout(5000).emitWithAck("time:sync", { sent, auction_id: asked.id }).catch(() => null);
  if (!ack || !ack.ok || room !== asked) return; // no answer (or the session ended), or another auction by now
  asked.offset = ack.server_now - (sent + (Date.now() - sent) / 2);
  // Behind the auction's latest seq with no event to show it (a broadcast lost between
  // server processes): fetch what was missed.
  if (ack.seq !== undefined && asked.seq !== null && ack.seq > asked.seq) void resync();
}
// The clock drifts and broadcasts can be lost: check both every 15 s.
setInterval(() => room?.socket.connected && void syncClock(), 15000);

// The indicator shows only after two seconds without a connection.
let offlineTimer: number | undefined;
function connectionLost() {
  if (offlineTimer === undefined) offlineTimer = window.setTimeout(() => ($("conn").hidden = false), 2000);
}
function connectionBack() {
  window.clearTimeout(offlineTimer);
  offlineTimer = undefined;
  $("conn").hidden = true;
}

function enter(id: number) {
  const socket: Socket<ServerToClient, ClientToServer> = io(`${api}/auction`, {
    path: "/api/socket.io/",
    auth: (cb) => cb({ token: session.access() }), // asked again on every reconnect: the latest token
  });
  // The server ends the session when the token expires (a page asleep missed the refresh):
  // refresh, then connect again; `connect` resyncs from the last seq seen.
  let resume: Promise<boolean> | null = null;
  let retried = false; // a connect refused for an expired token is retried once, refreshed
  room = { id, socket, state: null, seq: null, role: "", team: null, commissioner: "", offset: 0, teamSeq: [], resyncing: false };
  $("room-title").textContent = `Auction ${id}`;
  show("room");
  socket.on("auction:snapshot", (snap) => {
    if (room && (room.seq === null || snap.seq >= room.seq)) {
      room.state = snap.state;
      room.seq = snap.seq;
      room.teamSeq = [];
      room.commissioner = snap.commissioner;
      render();
    }
  });
  for (const name of SEQ_EVENTS) socket.on(name, onSeqEvent);
  socket.on("team:updated", (e) => {
    const t = room?.state?.teams[e.team];
    if (t && room && room.seq !== null && e.seq <= room.seq && e.seq >= (room.teamSeq[e.team] ?? 0)) {
      room.teamSeq[e.team] = e.seq;
      t.budget_left = e.budget_left;
      t.roster = e.roster;
      render();
    }
  });
  socket.on("bid:rejected", (e) => ($("bid-status").textContent = `Bid ${e.amount} refused: ${e.error.detail}`));
  socket.on("policy:revoked", (e) => showError(`The server's origin policy no longer allows this page: ${e.detail}`));
  socket.on("auth:expired", () => (resume = session.refresh()));
  socket.on("connect", () => {
    retried = false;
    connectionBack();
    void syncClock();
    void resync();
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

window.addEventListener("offline", connectionLost);
window.addEventListener("online", () => {
  // Back online: the socket may have survived; either way ask for what was missed.
  if (room?.socket.connected) {
    connectionBack();
    void resync();
  }
});

$("bid-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const lot = lotOf(room?.state ?? null);
  if (!room || !lot) return;
  const amount = Number($<HTMLInputElement>("bid-amount").value);
  const ack = await room.socket
    .timeout(10000)
    .emitWithAck("bid:place", { auction_id: room.id, lot_id: lot.id, amount, expected_version: lot.version, client_bid_id: crypto.randomUUID() })
    .catch(() => null);
  $("bid-status").textContent = !ack ? "No answer: offline?" : ack.ok ? `Your bid of ${amount} is the high bid` : `Bid ${amount} refused: ${ack.error.detail}`;
});

$("nominate-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!room) return;
  const player = Number($<HTMLSelectElement>("player").value);
  const opening_bid = Number($<HTMLInputElement>("opening-bid").value);
  const ack = await room.socket.timeout(10000).emitWithAck("lot:nominate", { auction_id: room.id, player, opening_bid }).catch(() => null);
  if (ack && !ack.ok) showError(`Nomination refused: ${ack.error.detail}`);
});

async function command(path: "/auctions/{id}/start" | "/auctions/{id}/pause" | "/auctions/{id}/resume") {
  if (!room) return;
  const { error } = await client.POST(path, { params: { path: { id: room.id } } });
  showError(error ? `${error.title}: ${error.detail}` : null);
}
$("start").addEventListener("click", () => command("/auctions/{id}/start"));
$("pause").addEventListener("click", () => command("/auctions/{id}/pause"));
$("resume").addEventListener("click", () => command("/auctions/{id}/resume"));
$("void").addEventListener("click", async () => {
  if (!room) return;
  const player = Number($<HTMLSelectElement>("sale").value);
  const { error } = await client.POST("/auctions/{id}/sales/{player}/void", { params: { path: { id: room.id, player } } });
  showError(error ? `${error.title}: ${error.detail}` : null);
});

$("join-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const id = Number($<HTMLInputElement>("auction-id").value);
  history.replaceState(null, "", `?${new URLSearchParams({ ...Object.fromEntries(params), auction: String(id) })}`);
  enter(id);
});

// ---- start-up -------------------------------------------------------------------------------

async function main() {
  const token = params.get("token");
  if (token) {
    params.delete("token");
    history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
    await exchange(token);
  }
  if (!session.access()) return show("login");
  try {
    let me = await client.GET("/me");
    // Back after the access token expired (a reload, a laptop asleep): refresh, then ask again.
    if (me.response.status === 401 && (await session.refresh())) me = await client.GET("/me");
    if (me.error || !me.data) {
      session.forget();
      return show("login");
    }
    $("who").textContent = me.data.sub;
  } catch (e) {
    unreachable(e);
    return show("login");
  }
  const auction = Number(params.get("auction"));
  if (auction > 0) enter(auction);
  else show("join");
}
void main();

// The open lot: the player, the high bid and its team, the clock, the bid form with quick bids
// (+1, +5, your max) and the lot's bid history.
import { clock, fill, h } from "../dom.ts";
import { alerts } from "./alerts.ts";
import type { Room, Section } from "./context.ts";
import { clockOf, lotOf, maxBid, phaseName, playerLabel } from "./model.ts";

export function lotSection(): Section {
  const player = h("div", { class: "lot-player", id: "lot-player" });
  const high = h("div", { class: "lot-line" });
  const ends = h("div", { class: "lot-line" });
  const amount = h("input", { id: "bid-amount", type: "number", inputmode: "numeric", min: 1, "aria-label": "Bid amount" });
  const bid = h("button", { type: "submit", id: "bid" }, "Bid");
  const plus1 = h("button", { type: "button", class: "quick" }, "+1");
  const plus5 = h("button", { type: "button", class: "quick" }, "+5");
  const max = h("button", { type: "button", class: "quick" }, "Max");
  const maxNote = h("span", { class: "muted" });
  const form = h("form", { class: "row", id: "bid-form" }, amount, bid, plus1, plus5, max, maxNote);
  const history = h("ol", { class: "bids", id: "lot-bids", "aria-label": "Bids on this lot", tabindex: 0 });
  const el = h("section", { class: "lot card", "aria-labelledby": "lot-heading" },
    h("h2", { id: "lot-heading" }, "On the block"), player, high, ends, form, history);
  let room: Room | null = null;
  let shownLot = 0;
  const place = async (value: number) => {
    const lot = room?.state ? lotOf(room.state.phase) : null;
    if (!room || !lot) return;
    const ack = await room.socket
      .timeout(10000)
      .emitWithAck("bid:place", { auction_id: room.id, lot_id: lot.id, amount: value, expected_version: lot.version, client_bid_id: crypto.randomUUID() })
      .catch(() => null);
    alerts.say(!ack ? "No answer to your bid: offline?" : ack.ok ? `Your bid of ${value} is the high bid` : `Bid ${value} refused: ${ack.error.detail}`);
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void place(amount.valueAsNumber);
  });
  const quick = (f: (high: number, max: number) => number) => () => {
    const lot = room?.state ? lotOf(room.state.phase) : null;
    if (room?.state && lot && room.team !== null) void place(f(lot.high_bid, maxBid(room.state, room.team)));
  };
  plus1.addEventListener("click", quick((hi) => hi + 1));
  plus5.addEventListener("click", quick((hi) => hi + 5));
  max.addEventListener("click", quick((_, m) => m));
  return {
    el,
    render(r) {
      room = r;
      const s = r.state!;
      el.hidden = phaseName(s.phase) === "lobby" || phaseName(s.phase) === "completed";
      const lot = lotOf(s.phase);
      fill(player, lot ? playerLabel(s, lot.player) : phaseName(s.phase) === "completed" ? "Auction complete" : "No lot open");
      fill(high, "High bid ", h("strong", { id: "high-bid" }, lot ? lot.high_bid : "—"), " ", h("span", { class: "muted", id: "high-team" }, lot ? s.teams[lot.high_team].name : ""));
      const c = clockOf(s.phase);
      const left = lot && c ? ("frozen" in c ? c.frozen : c.deadline - r.now()) : null;
      const endsText = left === null ? "—" : clock(left);
      if (ends.textContent !== `Ends in ${endsText}`) fill(ends, "Ends in ", h("strong", { id: "countdown" }, endsText));
      const mine = r.team;
      form.hidden = !lot || mine === null;
      if (!lot || mine === null) return renderHistory(r, history, lot?.id ?? 0);
      const top = maxBid(s, mine);
      const open = phaseName(s.phase) === "bidding";
      const next = lot.high_bid + s.settings.increment;
      const canBid = open && lot.high_team !== mine && top >= next;
      bid.disabled = !canBid;
      plus1.disabled = !canBid || 1 < s.settings.increment || lot.high_bid + 1 > top;
      plus5.disabled = !canBid || 5 < s.settings.increment || lot.high_bid + 5 > top;
      max.disabled = !canBid;
      plus1.title = `Bid ${lot.high_bid + 1}`;
      plus5.title = `Bid ${lot.high_bid + 5}`;
      max.title = `Bid ${top}`;
      maxNote.textContent = `your max ${top}`;
      amount.max = String(top);
      // The next valid amount, unless the bidder is typing a higher one.
      if (lot.id !== shownLot || amount.valueAsNumber < next || document.activeElement !== amount) amount.value = String(next);
      shownLot = lot.id;
      renderHistory(r, history, lot.id);
    },
  };
}

function renderHistory(room: Room, list: HTMLElement, lot: number) {
  const s = room.state!;
  const lines = room.bids.lot === lot ? room.bids.lines : [];
  const key = `${lot}:${lines.length}`;
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.hidden = lines.length === 0;
  fill(list, ...lines.slice(0, 30).map((b, i) => h("li", { class: i === 0 ? "lead" : "" }, `${s.teams[b.team]?.name} ${b.amount}`)));
}

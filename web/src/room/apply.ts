// Applying one live event to the room's copy of the state. Events that change budgets or
// rosters come with `team:updated`; the rest the page applies itself, or reads the state again.
import type { SeqEvent } from "../../../openapi/client/index.ts";
import type { Room } from "./context.ts";
import { lotOf } from "./model.ts";

/** Applies `e`; false when the page cannot, and must read the state again. */
export function applyEvent(room: Room, e: SeqEvent): boolean {
  const s = room.state!;
  switch (e.kind) {
    case "nomination:opened":
      s.phase = { Nominating: { nominator: e.nominator, deadline: e.deadline } };
      return true;
    case "lot:opened":
      s.phase = { Bidding: e.lot };
      s.last_lot = e.lot.id;
      room.bids = { lot: e.lot.id, lines: [] };
      return true;
    case "bid:accepted": {
      const lot = lotOf(s.phase);
      if (!lot || typeof s.phase !== "object" || !("Bidding" in s.phase)) return false;
      Object.assign(lot, { high_bid: e.amount, high_team: e.team, ends_at: e.ends_at, version: e.version });
      if (room.bids.lot === e.lot) room.bids.lines.unshift({ team: e.team, amount: e.amount, at: room.now() });
      return true;
    }
    case "lot:sold":
      // As on the server, a player leaves the pool when sold (not when nominated).
      s.pool = s.pool.filter((p) => p !== e.player);
      s.sales.push({ lot: e.lot, player: e.player, team: e.team, price: e.price, voided: false });
      return true;
    case "sale:edited": {
      const sale = s.sales.find((x) => x.player === e.player && !x.voided);
      if (sale) sale.price = e.new_price;
      return sale !== undefined;
    }
    case "auction:completed":
      s.phase = "Completed";
      return true;
    default:
      return false; // pool, settings, pauses, voids: read the state again
  }
}

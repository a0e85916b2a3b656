// Reading the auction state: the open lot, whose turn it is, what a team can still bid, and
// each event as a line of the log.
import type { AuctionEvent, AuctionState, Lot, Phase } from "../../../openapi/client/index.ts";

export type PhaseName = "lobby" | "nominating" | "bidding" | "paused" | "completed";

export function phaseName(phase: Phase | undefined): PhaseName {
  if (!phase) return "lobby";
  return (typeof phase === "string" ? phase.toLowerCase() : Object.keys(phase)[0].toLowerCase()) as PhaseName;
}

/** The lot open now, or frozen by a pause. */
export function lotOf(phase: Phase | undefined): Lot | null {
  if (!phase || typeof phase !== "object") return null;
  if ("Bidding" in phase) return phase.Bidding;
  if ("Paused" in phase) return lotOf(phase.Paused.was);
  return null;
}

/** The team whose turn it is to nominate (also while paused in that turn). */
export function nominatorOf(phase: Phase | undefined): number | null {
  if (!phase || typeof phase !== "object") return null;
  if ("Nominating" in phase) return phase.Nominating.nominator;
  if ("Paused" in phase) return nominatorOf(phase.Paused.was);
  return null;
}

/** When the running clock ends (server ms), or the time it had left while paused. */
export function clockOf(phase: Phase | undefined): { deadline: number } | { frozen: number } | null {
  if (!phase || typeof phase !== "object") return null;
  if ("Nominating" in phase) return { deadline: phase.Nominating.deadline };
  if ("Bidding" in phase) return { deadline: phase.Bidding.ends_at };
  if ("Paused" in phase) return { frozen: phase.Paused.remaining };
  return null;
}

export function openSlots(s: AuctionState, team: number): number {
  return s.settings.roster_slots - s.teams[team].roster.length;
}

/** The most `team` can bid: enough must stay to fill its other open slots at the minimum. */
export function maxBid(s: AuctionState, team: number): number {
  const open = openSlots(s, team);
  return open === 0 ? 0 : s.teams[team].budget_left - s.settings.min_bid * (open - 1);
}

export function playerLabel(s: AuctionState, p: number): string {
  const x = s.players[p];
  if (!x) return `player ${p}`;
  const extra = [x.position, x.team_bye].filter(Boolean).join(", ");
  return extra ? `${x.name} (${extra})` : x.name;
}

const teamName = (s: AuctionState, t: number) => s.teams[t]?.name ?? `team ${t + 1}`;
const playerName = (s: AuctionState, p: number) => s.players[p]?.name ?? `player ${p}`;

/** One event as a sentence of the log. */
export function describe(s: AuctionState, e: AuctionEvent): string {
  switch (e.kind) {
    case "pool:updated":
      return `${e.players.length} players added`;
    case "auction:settings":
      return "The settings changed";
    case "nomination:opened":
      return `${teamName(s, e.nominator)} to nominate`;
    case "lot:opened":
      return `${teamName(s, e.lot.nominator)} nominated ${playerName(s, e.lot.player)} at ${e.lot.high_bid}`;
    case "bid:accepted":
      return `${teamName(s, e.team)} bid ${e.amount}`;
    case "lot:sold":
      return `${playerName(s, e.player)} sold to ${teamName(s, e.team)} for ${e.price}`;
    case "lot:abandoned":
      return `Lot ${e.lot} closed without a sale`;
    case "auction:paused":
      return "Paused by the commissioner";
    case "auction:resumed":
      return "Resumed";
    case "sale:voided":
      return `The sale of ${playerName(s, e.player)} to ${teamName(s, e.team)} was voided (${e.refund} refunded)`;
    case "sale:edited":
      return `${playerName(s, e.player)}'s price changed from ${e.old_price} to ${e.new_price}`;
    case "auction:completed":
      return "The auction is complete";
  }
}

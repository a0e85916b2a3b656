// The Socket.IO events of namespace `/auction` (README, "Live"): names and payloads, for
// `socket.io-client`'s typed `Socket<ServerToClient, ClientToServer>`.

export interface Lot {
  id: number;
  player: number;
  nominator: number;
  high_bid: number;
  high_team: number;
  ends_at: number;
  version: number;
}

export interface Team {
  name: string;
  budget_left: number;
  roster: [number, number][];
}

export interface Player {
  name: string;
  rank: number;
}

export interface Settings {
  budget: number;
  roster_slots: number;
  min_bid: number;
  increment: number;
  nomination_ms: number;
  bid_ms: number;
  reset_ms: number;
}

export type Phase =
  | "Lobby"
  | "Completed"
  | { Nominating: { nominator: number; deadline: number } }
  | { Bidding: Lot }
  | { Paused: { was: Phase; remaining: number } };

export interface Sale {
  lot: number;
  player: number;
  team: number;
  price: number;
  voided: boolean;
}

export interface AuctionState {
  settings: Settings;
  teams: Team[];
  players: Player[];
  pool: number[];
  phase: Phase;
  sales: Sale[];
  last_lot: number;
}

/** Every server event carries these. */
export interface Stamped {
  auction_id: number;
  seq: number;
  server_now: number;
}

export interface ErrorBody {
  /**
   * A rule's refusal (`outbid`, `stale`, `lot_closed`, …), `forbidden`, `not_found`, `conflict`,
   * `unavailable`, `bad_request` (a malformed or oversized event; the detail quotes at most a
   * short excerpt of it) or `rate_limited` (the connection or the member sent events too fast:
   * retry later; kept up, the socket is disconnected).
   */
  type: string;
  detail: string;
}

export type Ack<T = object> = ({ ok: true; seq: number } & T) | { ok: false; error: ErrorBody };

export interface ServerToClient {
  "auction:snapshot": (e: Stamped & { state: AuctionState; commissioner: string }) => void;
  "pool:updated": (e: Stamped & { players: Player[] }) => void;
  "auction:settings": (e: Stamped & { settings: Settings }) => void;
  "nomination:opened": (e: Stamped & { nominator: number; deadline: number }) => void;
  "lot:opened": (e: Stamped & { lot: Lot }) => void;
  "bid:accepted": (e: Stamped & { lot: number; team: number; amount: number; ends_at: number; version: number }) => void;
  "bid:rejected": (e: { auction_id: number; lot_id: number; amount: number; client_bid_id?: string; error: ErrorBody; server_now: number }) => void;
  "lot:sold": (e: Stamped & { lot: number; player: number; team: number; price: number }) => void;
  "lot:abandoned": (e: Stamped & { lot: number }) => void;
  "team:updated": (e: Stamped & { team: number; name: string; budget_left: number; roster: [number, number][]; max_bid: number | null }) => void;
  "auction:paused": (e: Stamped & { remaining: number }) => void;
  "auction:resumed": (e: Stamped & { deadline: number }) => void;
  "sale:voided": (e: Stamped & { player: number; team: number; refund: number }) => void;
  "sale:edited": (e: Stamped & { player: number; team: number; old_price: number; new_price: number }) => void;
  "auction:completed": (e: Stamped) => void;
  presence: (e: { auction_id: number | null; sub: string; online: boolean }) => void;
  "policy:revoked": (e: { reason: string; detail: string; policy_version: string }) => void;
}

export interface ClientToServer {
  "auction:join": (
    req: { auction_id: number; last_seq?: number },
    ack: (a: Ack<{ role: "commissioner" | "manager" | "spectator"; team: number | null; server_now: number }>) => void,
  ) => void;
  "lot:nominate": (req: { auction_id: number; player: number; opening_bid: number }, ack: (a: Ack) => void) => void;
  "bid:place": (
    req: { auction_id: number; lot_id: number; amount: number; client_bid_id?: string; expected_version?: number },
    ack: (a: Ack) => void,
  ) => void;
  /** The server clock; naming a joined auction also returns its latest `seq` (behind it: resync). */
  "time:sync": (
    req: { sent: number; auction_id?: number },
    ack: (a: { ok: true; server_now: number; client: { sent: number; auction_id?: number }; seq?: number }) => void,
  ) => void;
}

/** The names of the events that advance an auction's `seq`. */
export const SEQ_EVENTS = [
  "pool:updated", "auction:settings", "nomination:opened", "lot:opened", "bid:accepted", "lot:sold",
  "lot:abandoned", "auction:paused", "auction:resumed", "sale:voided", "sale:edited", "auction:completed",
] as const;
export type SeqEvent = (typeof SEQ_EVENTS)[number];

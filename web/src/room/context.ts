// The room as every section of the screen sees it: the synced state and how to act on it.
import type { Socket } from "socket.io-client";
import type { AuctionState, ChatMessage, ClientToServer, Schemas, ServerToClient } from "../../../openapi/client/index.ts";

export type Member = Schemas["MemberBody"];

export type BidLine = { team: number; amount: number; at: number };

export type Room = {
  id: number;
  socket: Socket<ServerToClient, ClientToServer>;
  state: AuctionState | null;
  /** The seq the state is at; null until the first snapshot. */
  seq: number | null;
  role: "commissioner" | "manager" | "spectator" | "";
  team: number | null;
  /** The caller's name in this room. */
  name: string;
  commissionerName: string;
  /** Server clock − local clock, ms. */
  offset: number;
  /** The seq each team's row was last updated at. */
  teamSeq: number[];
  resyncing: boolean;
  members: Member[];
  /** The open lot's accepted bids, newest first. */
  bids: { lot: number; lines: BidLine[] };
  chat: ChatMessage[];
  /** The server's time now, by the synced clock. */
  now(): number;
};

/** A part of the room screen: its element and how it redraws from the room. */
export type Section = { el: HTMLElement; render(room: Room): void };

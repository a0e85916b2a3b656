// The auction's log, newest first: refilled from the auction's history after a (re)load, then
// kept up from the live events.
import type { AuctionEvent, Schemas } from "../../../openapi/client/index.ts";
import { fill, h } from "../dom.ts";
import type { Room, Section } from "./context.ts";
import { describe } from "./model.ts";

/** Lines kept (and asked for after a reload). */
export const LOG_LINES = 200;

/** The log: `fill` after a (re)load, `add` for each live event once applied. */
export type LogSection = Section & { fill(events: Schemas["NumberedEvent"][]): void; add(seq: number, e: AuctionEvent): void };

export function logSection(room: Room): LogSection {
  const list = h("ol", { class: "log", id: "log", reversed: true, "aria-label": "Auction log", tabindex: 0 });
  const el = h("section", { class: "card", "aria-labelledby": "log-heading" }, h("h2", { id: "log-heading" }, "Log"), list);
  let seen = 0;
  const add = (seq: number, e: AuctionEvent) => {
    if (!room.state || seq <= seen) return;
    seen = seq;
    list.prepend(h("li", { "data-seq": seq }, describe(room.state, e)));
    while (list.childElementCount > LOG_LINES) list.lastElementChild?.remove();
  };
  return {
    el,
    add,
    fill(events) {
      fill(list);
      seen = 0;
      for (const n of events) add(n.seq, n.event as AuctionEvent);
    },
    render() {}, // lines are added as events arrive, not redrawn
  };
}

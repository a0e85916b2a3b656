// The auction's settings as form fields: shared by the create screen and the lobby.
import type { Settings } from "../../../openapi/client/index.ts";
import { field, h, numberInput } from "../dom.ts";

/** The fields and a reader of the body the API takes (`SettingsBody`, clocks in seconds). */
export function settingsFields(s: Settings, prefix: string) {
  const n = (id: string, value: number, min: number, max?: number) => numberInput(`${prefix}-${id}`, value, { min, max });
  const budget = n("budget", s.budget, 1, 1_000_000_000);
  const slots = n("slots", s.roster_slots, 1, 100);
  const minBid = n("min-bid", s.min_bid, 1);
  const increment = n("increment", s.increment, 1);
  const nomination = n("nomination", Math.round(s.nomination_ms / 1000), 1);
  const bid = n("bid", Math.round(s.bid_ms / 1000), 1);
  const reset = n("reset", Math.round(s.reset_ms / 1000), 0);
  const fields = h("fieldset", { class: "grid-fields" },
    h("legend", {}, "Rules"),
    field("Budget", budget),
    field("Roster slots", slots),
    field("Minimum bid", minBid),
    field("Minimum increment", increment),
    field("Nomination clock (s)", nomination),
    field("Bid clock (s)", bid),
    field("Reset clock (s)", reset, "a late bid sets the clock back to this"),
  );
  const read = () => ({
    budget: budget.valueAsNumber,
    roster_slots: slots.valueAsNumber,
    min_bid: minBid.valueAsNumber,
    increment: increment.valueAsNumber,
    nomination_secs: nomination.valueAsNumber,
    bid_secs: bid.valueAsNumber,
    reset_secs: reset.valueAsNumber,
  });
  return { fields, read };
}

export const DEFAULT_SETTINGS: Settings = {
  budget: 200,
  roster_slots: 15,
  min_bid: 1,
  increment: 1,
  nomination_ms: 30_000,
  bid_ms: 20_000,
  reset_ms: 10_000,
};

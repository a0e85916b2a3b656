// The draft board: one column per team, one row per roster slot, each filled slot the player
// and the price paid.
import { fill, h } from "../dom.ts";
import type { Section } from "./context.ts";
import { phaseName } from "./model.ts";

export function gridSection(): Section {
  const table = h("table", { id: "draft-board", class: "grid" });
  const el = h("section", { class: "card", "aria-labelledby": "grid-heading" }, h("h2", { id: "grid-heading" }, "Draft board"), h("div", { class: "scroll", tabindex: 0, "aria-label": "Draft board grid" }, table));
  return {
    el,
    render(r) {
      const s = r.state!;
      el.hidden = phaseName(s.phase) === "lobby";
      const key = JSON.stringify([s.teams, s.settings.roster_slots, r.team]);
      if (el.dataset.key === key) return;
      el.dataset.key = key;
      const head = h("tr", {}, h("th", { scope: "col" }, "Slot"), ...s.teams.map((t, i) => h("th", { scope: "col", class: i === r.team ? "mine" : "" }, t.name)));
      const rows = Array.from({ length: s.settings.roster_slots }, (_, slot) =>
        h("tr", {}, h("th", { scope: "row" }, slot + 1), ...s.teams.map((t, i) => {
          const spot = t.roster[slot];
          const cls = [i === r.team ? "mine" : "", spot ? "filled" : "open"].join(" ");
          return h("td", { class: cls }, spot ? h("span", {}, s.players[spot[0]]?.name ?? "?", h("br", {}), h("small", {}, `${s.players[spot[0]]?.position ?? ""} $${spot[1]}`)) : "");
        })),
      );
      fill(table, h("thead", {}, head), h("tbody", {}, ...rows));
    },
  };
}

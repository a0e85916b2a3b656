// The teams: manager, budget left, open slots and the most each can bid; yours highlighted.
import { fill, h } from "../dom.ts";
import type { Section } from "./context.ts";
import { maxBid, openSlots } from "./model.ts";

export function teamsSection(): Section {
  const body = h("tbody", { id: "rosters" });
  const el = h("section", { class: "card", "aria-labelledby": "teams-heading" },
    h("h2", { id: "teams-heading" }, "Teams"),
    h("table", { id: "teams" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Team"), h("th", { scope: "col" }, "Left"), h("th", { scope: "col" }, "Open"), h("th", { scope: "col" }, "Max bid"))),
      body,
    ),
  );
  return {
    el,
    render(r) {
      const s = r.state!;
      const key = JSON.stringify([s.teams, r.team, r.members]);
      if (el.dataset.key === key) return;
      el.dataset.key = key;
      fill(body, ...s.teams.map((t, i) => {
        const manager = r.members.find((m) => m.role === "manager" && m.team === i);
        const open = openSlots(s, i);
        const tr = h("tr", { "data-team": i, class: i === r.team ? "mine" : "", "aria-current": i === r.team ? "true" : null },
          h("th", { scope: "row" }, t.name, i === r.team ? " (you)" : "", managerNote(manager?.name, t.name)),
          h("td", {}, t.budget_left),
          h("td", {}, open),
          h("td", {}, open === 0 ? "—" : maxBid(s, i)),
        );
        return tr;
      }));
    },
  };
}

/** Under the team's name: its manager's, unless it is the same (the default), or that it has none. */
function managerNote(manager: string | undefined, team: string) {
  if (manager === team) return null;
  return h("small", { class: "muted block" }, manager ?? "no manager yet");
}

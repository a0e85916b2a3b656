// The results once the draft is complete: each team's players and prices, and the rosters as a
// CSV download (fetched with the session's token, offered as a file link).
import { client } from "../app.ts";
import { fill, h } from "../dom.ts";
import type { Section } from "./context.ts";
import { phaseName } from "./model.ts";

export function resultsSection(): Section {
  const tables = h("div", { class: "results" });
  const link = h("a", { id: "results-csv", download: "results.csv", hidden: true }, "Download results (CSV)");
  const el = h("section", { class: "card", "aria-labelledby": "results-heading" }, h("h2", { id: "results-heading" }, "Results"), h("p", {}, link), tables);
  let fetched = -1;
  return {
    el,
    render(r) {
      const s = r.state!;
      el.hidden = phaseName(s.phase) !== "completed";
      if (el.hidden || fetched === r.seq) return;
      fetched = r.seq ?? -1;
      fill(tables, ...s.teams.map((t, i) =>
        h("table", { class: i === r.team ? "mine" : "" },
          h("caption", {}, `${t.name}: ${t.budget_left} left`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Player"), h("th", { scope: "col" }, "Pos"), h("th", { scope: "col" }, "Price"))),
          h("tbody", {}, ...t.roster.map(([p, price]) => h("tr", {}, h("td", {}, s.players[p].name), h("td", {}, s.players[p].position ?? ""), h("td", {}, price)))),
        ),
      ));
      void client.GET("/auctions/{id}/results.csv", { params: { path: { id: r.id } }, parseAs: "text" }).catch(() => ({ data: undefined })).then(({ data }) => {
        if (typeof data !== "string") return;
        if (link.href) URL.revokeObjectURL(link.href);
        link.href = URL.createObjectURL(new Blob([data], { type: "text/csv" }));
        link.download = `auction-${r.id}-results.csv`;
        link.hidden = false;
      });
    },
  };
}

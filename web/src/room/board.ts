// The player board: every player still in the pool, searchable, filtered by position and sorted
// by rank or name, with a Nominate button per row on your turn.
import { field, fill, h, numberInput } from "../dom.ts";
import { alerts } from "./alerts.ts";
import type { Room, Section } from "./context.ts";
import { lotOf, nominatorOf, phaseName } from "./model.ts";

export function boardSection(): Section {
  const search = h("input", { id: "player-search", type: "search", "aria-label": "Search players", placeholder: "Search players" });
  const position = h("select", { id: "position-filter" });
  const sort = h("select", { id: "player-sort" }, h("option", { value: "rank" }, "Rank"), h("option", { value: "name" }, "Name"));
  const opening = numberInput("opening-bid", 1, { min: 1 });
  const openingField = field("Opening bid", opening);
  const body = h("tbody", {});
  const count = h("p", { class: "muted", role: "status" });
  const el = h("section", { class: "card board", "aria-labelledby": "board-heading" },
    h("h2", { id: "board-heading" }, "Players"),
    h("div", { class: "row" }, search, field("Position", position), field("Sort by", sort), openingField),
    h("div", { class: "scroll", tabindex: 0, "aria-label": "Player list" }, h("table", { id: "players" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Rank"), h("th", { scope: "col" }, "Player"), h("th", { scope: "col" }, "Pos"), h("th", { scope: "col" }, "Team / bye"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Action")))),
      body,
    )),
    count,
  );
  let room: Room | null = null;
  const redraw = () => room && draw(room, true);
  search.addEventListener("input", redraw);
  position.addEventListener("change", redraw);
  sort.addEventListener("change", redraw);
  const nominate = async (player: number) => {
    if (!room) return;
    const ack = await room.socket.timeout(10000).emitWithAck("lot:nominate", { auction_id: room.id, player, opening_bid: opening.valueAsNumber }).catch(() => null);
    if (!ack) alerts.say("No answer to your nomination: offline?");
    else if (!ack.ok) alerts.say(`Nomination refused: ${ack.error.detail}`);
  };
  function draw(r: Room, force = false) {
    const s = r.state!;
    const myTurn = phaseName(s.phase) === "nominating" && nominatorOf(s.phase) === r.team && r.team !== null;
    openingField.hidden = r.team === null;
    const positions = [...new Set(s.players.map((p) => p.position).filter((p): p is string => !!p))].sort();
    const posKey = positions.join(",");
    if (position.dataset.key !== posKey) {
      position.dataset.key = posKey;
      const chosen = position.value;
      fill(position, h("option", { value: "" }, "All"), ...positions.map((p) => h("option", { value: p }, p)));
      position.value = positions.includes(chosen) ? chosen : "";
    }
    const key = JSON.stringify([s.pool, s.players.length, myTurn, lotOf(s.phase)?.player]);
    if (!force && el.dataset.key === key) return;
    el.dataset.key = key;
    if (Number(opening.value) < s.settings.min_bid) opening.value = String(s.settings.min_bid);
    const q = search.value.trim().toLowerCase();
    const onTheBlock = lotOf(s.phase)?.player;
    const rows = s.pool
      .filter((i) => i !== onTheBlock)
      .map((i) => ({ i, p: s.players[i] }))
      .filter(({ p }) => (!q || p.name.toLowerCase().includes(q)) && (!position.value || p.position === position.value))
      .sort((a, b) => (sort.value === "name" ? a.p.name.localeCompare(b.p.name) : a.p.rank - b.p.rank));
    const focused = body.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.player : undefined;
    fill(body, ...rows.map(({ i, p }) =>
      h("tr", { "data-player": i },
        h("td", {}, p.rank), h("th", { scope: "row" }, p.name), h("td", {}, p.position ?? ""), h("td", {}, p.team_bye ?? ""),
        h("td", {}, r.team === null ? "" : h("button", { type: "button", class: "nominate", "data-player": i, disabled: !myTurn, onclick: () => void nominate(i) }, "Nominate")),
      ),
    ));
    if (focused !== undefined) (body.querySelector(`button[data-player="${focused}"]`) as HTMLElement | null)?.focus();
    count.textContent = `${rows.length} of ${s.pool.length - (onTheBlock === undefined ? 0 : 1)} players available`;
  }
  return {
    el,
    render(r) {
      room = r;
      el.hidden = phaseName(r.state!.phase) === "completed";
      draw(r);
    },
  };
}

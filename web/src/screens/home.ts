// "My auctions": every auction the signed-in user belongs to (GET /me), and a way to create one.
import type { Schemas } from "../../../openapi/client/index.ts";
import { navigate, showScreen, screenLink } from "../app.ts";
import { h } from "../dom.ts";

type Me = Schemas["Me"];

const PHASES: Record<string, string> = {
  lobby: "Setting up",
  nominating: "Drafting",
  bidding: "Drafting",
  paused: "Paused",
  completed: "Complete",
};

export function homeScreen(me: Me) {
  const rows = me.memberships.map((m) =>
    h("li", { class: "auction-row" },
      screenLink(m.auction_name, { auction: String(m.auction_id) }),
      h("span", { class: "badge" }, PHASES[m.phase] ?? m.phase),
      h("span", { class: "muted" }, m.role === "manager" ? "Manager" : m.role === "commissioner" ? "Commissioner" : "Spectator"),
    ),
  );
  const list = rows.length
    ? h("ul", { class: "auctions card", "aria-label": "Your auctions" }, ...rows)
    : h("p", { class: "card" }, "You belong to no auction yet. Create one, or open the invitation link a commissioner sent you.");
  const create = h("button", { type: "button", onclick: () => void navigate({ view: "create" }) }, "New auction");
  showScreen("My auctions", list, h("p", {}, create));
}

// Create an auction: its name, the teams (in nomination order, optionally shuffled) with an
// optional manager email each, and the rules. Players are imported next, in the lobby.
import type { Schemas } from "../../../openapi/client/index.ts";
import { client, navigate, problemText, showError, showScreen, unreachable } from "../app.ts";
import { field, h } from "../dom.ts";
import { DEFAULT_SETTINGS, settingsFields } from "./settings.ts";

export function createScreen() {
  const name = h("input", { id: "auction-name", required: true, maxlength: 100, autocomplete: "off" });
  const myName = h("input", { id: "commissioner-name", maxlength: 40, autocomplete: "nickname", placeholder: "Commissioner" });
  const teams = h("ol", { class: "teams-edit" });
  const addTeam = () => {
    const n = teams.childElementCount + 1;
    const row = h("li", { class: "row" },
      field(`Team ${n} name`, h("input", { class: "team-name", required: true, maxlength: 100, value: `Team ${n}` })),
      field(`Team ${n} manager email (optional)`, h("input", { class: "team-manager", type: "email", autocomplete: "off" })),
    );
    teams.append(row);
  };
  for (let i = 0; i < 3; i++) addTeam();
  const order = h("select", { id: "order" }, h("option", { value: "listed" }, "As listed"), h("option", { value: "random" }, "Random"));
  const rules = settingsFields({ ...DEFAULT_SETTINGS }, "new");
  const form = h("form", { class: "card stack", id: "create-form" },
    field("Auction name", name),
    field("Your name in the room", myName),
    h("fieldset", {},
      h("legend", {}, "Teams (they nominate in this order)"),
      teams,
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: addTeam }, "Add team"),
        h("button", { type: "button", class: "secondary", onclick: () => teams.childElementCount > 2 && teams.lastElementChild?.remove() }, "Remove last team"),
        field("Nomination order", order),
      ),
    ),
    rules.fields,
    h("button", { type: "submit" }, "Create auction"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const rows = [...teams.children].map((li) => ({
      name: (li.querySelector(".team-name") as HTMLInputElement).value.trim(),
      manager: (li.querySelector(".team-manager") as HTMLInputElement).value.trim() || undefined,
    }));
    if (order.value === "random") shuffle(rows);
    await create({ name: name.value.trim(), commissioner_name: myName.value.trim() || undefined, settings: rules.read(), teams: rows, players: [] });
  });
  showScreen("New auction", form);
  name.focus();
}

function shuffle<T>(xs: T[]) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}

type CreateBody = Schemas["CreateAuction"];

async function create(body: CreateBody) {
  try {
    const { data, error } = await client.POST("/auctions", { body });
    if (error || !data) return showError(`The auction was not created: ${problemText(error)}`);
    showError(null);
    await navigate({ auction: String(data.id) });
  } catch (e) {
    unreachable(e);
  }
}

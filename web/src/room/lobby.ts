// Setting the auction up (commissioner): the rules, importing players from CSV and an
// invitation link per team and for spectators. Every member can set the name others see.
import { answered, api, client, problemText, screenUrl, session, showError } from "../app.ts";
import { field, fill, h } from "../dom.ts";
import { settingsFields } from "../screens/settings.ts";
import { alerts } from "./alerts.ts";
import type { Room, Section } from "./context.ts";
import { phaseName } from "./model.ts";

export function lobbySection(): Section {
  const rules = h("form", { class: "card stack", id: "settings-form", "aria-label": "Rules" });
  const players = playersForm();
  const invites = h("section", { class: "card", "aria-labelledby": "invites-heading" });
  const name = nameForm();
  const el = h("div", { class: "lobby" }, rules, players.el, invites, name.el);
  let room: Room | null = null;
  let shownSettings = "";
  rules.addEventListener("submit", (ev) => ev.preventDefault());
  return {
    el,
    render(r) {
      room = r;
      const s = r.state!;
      const lobby = phaseName(s.phase) === "lobby";
      const commissioner = r.role === "commissioner";
      el.hidden = !lobby && !commissioner;
      rules.hidden = players.el.hidden = !(lobby && commissioner);
      invites.hidden = !commissioner || phaseName(s.phase) === "completed";
      name.render(r);
      players.room = r;
      const key = JSON.stringify(s.settings);
      if (commissioner && lobby && key !== shownSettings && !rules.contains(document.activeElement)) {
        shownSettings = key;
        const f = settingsFields(s.settings, "lobby");
        fill(rules, f.fields, h("button", { type: "button", onclick: () => room && void saveSettings(room, f.read()) }, "Save settings"));
      }
      if (commissioner) renderInvites(r, invites);
    },
  };
}

async function saveSettings(room: Room, body: ReturnType<ReturnType<typeof settingsFields>["read"]>) {
  const { error } = await answered(client.PUT("/auctions/{id}/settings", { params: { path: { id: room.id } }, body }));
  if (error) return showError(`The settings were not saved: ${problemText(error)}`);
  showError(null);
  alerts.say("Settings saved");
}

function playersForm() {
  const csv = h("textarea", { id: "players-csv", rows: 6, spellcheck: "false", placeholder: "name,rank,position,team_bye\nPatrick Mahomes,1,QB,KC / 6" });
  const file = h("input", { id: "players-file", type: "file", accept: ".csv,text/csv" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) csv.value = await f.text();
  });
  const state = { room: null as Room | null };
  const form = h("form", { class: "card stack", "aria-labelledby": "players-heading" },
    h("h2", { id: "players-heading" }, "Add players"),
    h("p", { class: "muted" }, "Paste or upload a CSV with a header row: name and rank are required; position and team_bye (e.g. \"KC / 6\") are optional."),
    h("label", { class: "field wide" }, h("span", {}, "Players CSV"), csv),
    field("CSV file", file),
    h("button", { type: "submit" }, "Import players"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!state.room || !csv.value.trim()) return;
    // CSV goes as text/csv, which the API takes as it is (the typed client sends JSON).
    const answer = await fetch(`${api}/api/auctions/${state.room.id}/players`, {
      method: "POST",
      headers: { "content-type": "text/csv", authorization: `Bearer ${session.access()}` },
      body: csv.value,
    }).catch(() => null);
    if (!answer) return showError("The players were not imported: no answer");
    if (!answer.ok) return showError(`The players were not imported: ${problemText(await answer.json().catch(() => null))}`);
    showError(null);
    const lines = csv.value.trim().split(/\r?\n/).length - 1;
    csv.value = "";
    alerts.say(`${lines} players imported`);
  });
  return {
    el: form,
    get room() {
      return state.room;
    },
    set room(r: Room | null) {
      state.room = r;
    },
  };
}

/** The link that redeems `code` on this page (and signs in first if needed). */
function invitationLink(room: Room, code: string): string {
  return `${location.origin}${screenUrl({ auction: String(room.id), invite: code })}`;
}

function renderInvites(room: Room, section: HTMLElement) {
  const s = room.state!;
  const key = JSON.stringify([s.teams.map((t) => t.name), room.members]);
  if (section.dataset.key === key) return;
  section.dataset.key = key;
  const items = s.teams.map((t, i) => {
    const manager = room.members.find((m) => m.role === "manager" && m.team === i);
    // The name defaults to the team's: then the address alone says who.
    const name = manager && manager.name !== t.name ? manager.name : "";
    const who = manager ? `managed by ${[name, manager.sub && `<${manager.sub}>`].filter(Boolean).join(" ") || t.name}` : "no manager yet";
    return h("li", {}, h("div", {}, h("strong", {}, t.name), " ", h("span", { class: "muted" }, who)), manager ? null : inviteButton(room, { role: "manager", team: i }, t.name));
  });
  items.push(h("li", {}, h("div", {}, h("strong", {}, "Spectators"), " ", h("span", { class: "muted" }, "watch and chat, no bids")), inviteButton(room, { role: "spectator" }, "spectators")));
  fill(section,
    h("h2", { id: "invites-heading" }, "Invitations"),
    h("p", { class: "muted" }, "Each link admits one person: send it to them. Opening it signs them in and brings them into this room."),
    h("ul", { class: "invites", "aria-labelledby": "invites-heading" }, ...items),
  );
}

function inviteButton(room: Room, body: { role: "manager" | "spectator"; team?: number }, what: string) {
  const out = h("input", { readonly: true, class: "link", "aria-label": `Invitation link for ${what}`, hidden: true });
  const button = h("button", { type: "button", class: "copy" }, "Copy invitation link");
  button.addEventListener("click", async () => {
    if (!out.value) {
      const { data, error } = await answered(client.POST("/auctions/{id}/invitations", { params: { path: { id: room.id } }, body }));
      if (error || !data) return showError(`No invitation: ${problemText(error)}`);
      out.value = invitationLink(room, data.code);
      out.hidden = false;
    }
    const copied = await navigator.clipboard?.writeText(out.value).then(() => true, () => false);
    out.select();
    alerts.say(copied ? `Invitation link for ${what} copied` : `Copy the invitation link for ${what} from the box`);
  });
  return h("div", { class: "row" }, button, out);
}

function nameForm() {
  const input = h("input", { id: "my-name", maxlength: 40, autocomplete: "nickname" });
  const form = h("form", { class: "card row", "aria-label": "Your name" }, field("Your name in the room", input), h("button", { type: "submit" }, "Save name"));
  let room: Room | null = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!room) return;
    const { error } = await answered(client.PUT("/auctions/{id}/members/me", { params: { path: { id: room.id } }, body: { display_name: input.value } }));
    if (error) return showError(`The name was not saved: ${problemText(error)}`);
    showError(null);
    room.name = input.value.trim();
    alerts.say("Name saved");
  });
  return {
    el: form,
    render(r: Room) {
      room = r;
      form.hidden = phaseName(r.state!.phase) !== "lobby";
      if (document.activeElement !== input && !input.value) input.value = r.name;
    },
  };
}

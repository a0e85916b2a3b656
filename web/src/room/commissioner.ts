// The commissioner's controls: start, pause, resume and complete, and each sale's price edit and
// void (asked for confirmation first).
import { answered, client, problemText, showError } from "../app.ts";
import { fill, h } from "../dom.ts";
import { alerts } from "./alerts.ts";
import type { Room, Section } from "./context.ts";
import { phaseName } from "./model.ts";

type Command = "/auctions/{id}/start" | "/auctions/{id}/pause" | "/auctions/{id}/resume" | "/auctions/{id}/complete";

export function commissionerSection(): Section {
  let room: Room | null = null;
  const run = (path: Command, done: string) => async () => {
    if (!room) return;
    const { error } = await answered(client.POST(path, { params: { path: { id: room.id } } }));
    if (error) return showError(problemText(error));
    showError(null);
    alerts.say(done);
  };
  const start = h("button", { type: "button", id: "start", onclick: run("/auctions/{id}/start", "The draft started") }, "Start");
  const pause = h("button", { type: "button", id: "pause", onclick: run("/auctions/{id}/pause", "Paused") }, "Pause");
  const resume = h("button", { type: "button", id: "resume", onclick: run("/auctions/{id}/resume", "Resumed") }, "Resume");
  const complete = h("button", { type: "button", id: "complete" }, "Complete");
  const sales = h("div", { class: "sales" });
  const dialog = confirmDialog();
  complete.addEventListener("click", () =>
    dialog.ask("Complete the draft now?", "Open slots stay empty and no more lots open.", "Complete draft", run("/auctions/{id}/complete", "The draft is complete")),
  );
  const el = h("section", { class: "card", id: "commissioner", "aria-labelledby": "commish-heading" },
    h("h2", { id: "commish-heading" }, "Commissioner"),
    h("div", { class: "row" }, start, pause, resume, complete),
    sales,
    dialog.el,
  );
  return {
    el,
    render(r) {
      room = r;
      const phase = phaseName(r.state!.phase);
      // Nothing is left to do once complete: the results say the rest.
      el.hidden = r.role !== "commissioner" || phase === "completed";
      if (el.hidden) return;
      // Only what the phase allows is offered (the server would refuse the rest).
      start.disabled = phase !== "lobby";
      pause.disabled = phase !== "nominating" && phase !== "bidding";
      resume.disabled = phase !== "paused";
      complete.disabled = phase === "lobby" || phase === "completed";
      renderSales(r, sales, dialog);
    },
  };
}

function renderSales(room: Room, box: HTMLElement, dialog: ReturnType<typeof confirmDialog>) {
  const s = room.state!;
  const live = s.sales.filter((x) => !x.voided);
  const editable = !["lobby", "completed"].includes(phaseName(s.phase));
  const key = JSON.stringify([live, editable]);
  // Not while a price is being typed.
  if (box.dataset.key === key || (document.activeElement instanceof HTMLInputElement && box.contains(document.activeElement))) return;
  box.dataset.key = key;
  if (!live.length || !editable) return fill(box);
  const rows = live.map((sale) => {
    const who = `${s.players[sale.player].name} → ${s.teams[sale.team].name}`;
    const price = h("input", { type: "number", min: 1, value: sale.price, "aria-label": `Price of ${s.players[sale.player].name}`, disabled: !editable });
    const save = h("button", { type: "button", disabled: !editable }, "Save price");
    save.addEventListener("click", async () => {
      const { error } = await answered(client.PUT("/auctions/{id}/sales/{player}", { params: { path: { id: room.id, player: sale.player } }, body: { price: price.valueAsNumber } }));
      if (error) return showError(`The price was not changed: ${problemText(error)}`);
      showError(null);
      alerts.say(`${s.players[sale.player].name} now costs ${price.valueAsNumber}`);
    });
    const voidIt = h("button", { type: "button", class: "danger", disabled: !editable, "aria-label": `Void the sale of ${s.players[sale.player].name}` }, "Void");
    voidIt.addEventListener("click", () =>
      dialog.ask(`Void the sale of ${who} for ${sale.price}?`, "The player goes back to the pool and the team gets its money back.", "Void sale", async () => {
        const { error } = await answered(client.POST("/auctions/{id}/sales/{player}/void", { params: { path: { id: room.id, player: sale.player } } }));
        if (error) return showError(`The sale was not voided: ${problemText(error)}`);
        showError(null);
        alerts.say(`The sale of ${s.players[sale.player].name} was voided`);
      }),
    );
    return h("li", { class: "row" }, h("span", { class: "sale" }, who), price, save, voidIt);
  });
  fill(box, h("h3", { id: "sales-heading" }, "Sales"), h("ul", { class: "sales-list", "aria-labelledby": "sales-heading" }, ...rows));
}

/** A modal confirmation: a question, what it does, and the action's own button or Cancel. */
function confirmDialog() {
  const title = h("h2", { id: "confirm-title" });
  const text = h("p", {});
  const yes = h("button", { type: "button", class: "danger" });
  const no = h("button", { type: "button", class: "secondary" }, "Cancel");
  const el = h("dialog", { "aria-labelledby": "confirm-title", class: "confirm" }, title, text, h("div", { class: "row" }, yes, no));
  let action: (() => unknown) | null = null;
  yes.addEventListener("click", () => {
    el.close();
    void action?.();
  });
  no.addEventListener("click", () => el.close());
  return {
    el,
    ask(question: string, detail: string, confirm: string, then: () => unknown) {
      title.textContent = question;
      text.textContent = detail;
      yes.textContent = confirm;
      action = then;
      el.showModal();
      no.focus();
    },
  };
}

// Telling people what happened: every bid, sale and turn change goes to the live region (screen
// readers) and the notice line; your turn and being outbid also show in the tab's title and,
// when switched on, beep.
import type { AuctionState, SeqEvent } from "../../../openapi/client/index.ts";
import { announce } from "../app.ts";
import { h } from "../dom.ts";
import type { Room } from "./context.ts";
import { describe, lotOf } from "./model.ts";

const SOUND = "gavel.sound";
let urgent: string | null = null;
let baseTitle = "";
const notice = h("p", { id: "notice", class: "notice" });

function beep() {
  if (localStorage.getItem(SOUND) !== "on") return;
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.15);
    osc.onended = () => void ctx.close();
  } catch {
    // no audio here: the title and the notice still say it
  }
}

function setUrgent(text: string | null) {
  if (text === urgent) return;
  if (urgent === null) baseTitle = document.title;
  urgent = text;
  document.title = text ? `${text} — ${baseTitle}` : baseTitle;
  notice.classList.toggle("urgent", text !== null);
}

export const alerts = {
  notice,
  /** A checkbox that switches the beep on and off (remembered in this browser). */
  soundToggle(): HTMLLabelElement {
    const box = h("input", { type: "checkbox", id: "sound", checked: localStorage.getItem(SOUND) === "on" });
    box.addEventListener("change", () => localStorage.setItem(SOUND, box.checked ? "on" : "off"));
    return h("label", { class: "toggle" }, box, " Sound alerts");
  },
  say(text: string) {
    notice.textContent = text;
    announce(text);
  },
  /** What `e` means to this member, `before` being the state it was applied to. */
  onEvent(room: Room, before: AuctionState, e: SeqEvent) {
    const mine = room.team;
    let text = describe(room.state!, e);
    if (e.kind === "nomination:opened" && e.nominator === mine) {
      text = "Your turn to nominate";
      setUrgent("Your turn!");
      beep();
    } else if (e.kind === "bid:accepted" && mine !== null && e.team !== mine && lotOf(before.phase)?.high_team === mine) {
      text = `You were outbid: ${room.state!.teams[e.team].name} bid ${e.amount}`;
      setUrgent("Outbid!");
      beep();
    } else if (e.kind === "bid:accepted" && e.team === mine) {
      // The same words as the bid's ack, whichever of the two arrives last.
      text = `Your bid of ${e.amount} is the high bid`;
      setUrgent(null);
    } else if (e.kind === "lot:opened" || e.kind === "auction:completed") {
      setUrgent(null);
    }
    this.say(text);
  },
  reset() {
    setUrgent(null);
    notice.textContent = "";
  },
};

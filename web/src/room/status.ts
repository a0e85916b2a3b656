// The line above the room: the phase, whose turn it is to nominate, and the running clock
// (frozen, with the time that was left, while paused).
import { clock, fill, h } from "../dom.ts";
import { alerts } from "./alerts.ts";
import type { Section } from "./context.ts";
import { clockOf, lotOf, nominatorOf, phaseName } from "./model.ts";

export function statusSection(): Section {
  const badge = h("span", { class: "badge", id: "phase" });
  const turn = h("strong", { id: "turn" });
  const time = h("span", { id: "clock", class: "clock" });
  const me = h("span", { class: "muted", id: "role" });
  const el = h("div", { class: "status card", id: "status" }, h("div", { class: "row" }, badge, turn, time, me, alerts.soundToggle()), alerts.notice);
  return {
    el,
    render(room) {
      const s = room.state!;
      const phase = phaseName(s.phase);
      badge.textContent = { lobby: "Lobby", nominating: "Nominating", bidding: "Bidding", paused: "Paused", completed: "Complete" }[phase];
      el.dataset.phase = phase;
      const nominator = nominatorOf(s.phase);
      const lot = lotOf(s.phase);
      let text: string;
      if (phase === "lobby") text = "Waiting for the commissioner to start";
      else if (phase === "completed") text = "The draft is complete";
      else if (lot) text = `${s.players[lot.player]?.name} is up: ${lot.high_bid} by ${s.teams[lot.high_team].name}`;
      else if (nominator === room.team) text = "Your turn to nominate";
      else text = `${s.teams[nominator ?? 0]?.name} is nominating`;
      if (phase === "paused") text = `Paused — ${text}`;
      if (turn.textContent !== text) turn.textContent = text;
      el.classList.toggle("my-turn", nominator === room.team && room.team !== null && phase === "nominating");
      const c = clockOf(s.phase);
      const left = !c ? null : "frozen" in c ? c.frozen : c.deadline - room.now();
      const label = left === null ? "" : "frozen" in c! ? `${clock(left)} left (frozen)` : `${clock(left)} left`;
      if (time.textContent !== label) time.textContent = label;
      const team = room.team === null ? null : s.teams[room.team].name;
      // A manager's name defaults to the team's: say it once.
      const you = team === null ? (room.name.toLowerCase() === room.role ? room.name : `${room.name} (${room.role})`) : room.name && room.name !== team ? `${room.name} · manager of ${team}` : `manager of ${team}`;
      if (me.textContent !== you) fill(me, you);
    },
  };
}

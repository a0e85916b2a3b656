// The room's chat: the last messages (replayed on join), a message box, and for the
// commissioner a Delete per message. Text is shown as text, never as HTML.
import { fill, h } from "../dom.ts";
import { alerts } from "./alerts.ts";
import type { Room, Section } from "./context.ts";

export function chatSection(): Section {
  const list = h("ol", { class: "chat", id: "chat", "aria-label": "Chat messages", tabindex: 0 });
  const input = h("input", { id: "chat-text", "aria-label": "Message", maxlength: 500, autocomplete: "off" });
  const form = h("form", { class: "row", id: "chat-form" }, input, h("button", { type: "submit" }, "Send"));
  const el = h("section", { class: "card", "aria-labelledby": "chat-heading" }, h("h2", { id: "chat-heading" }, "Chat"), list, form);
  let room: Room | null = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!room || !text) return;
    const ack = await room.socket.timeout(10000).emitWithAck("chat:send", { auction_id: room.id, text }).catch(() => null);
    if (!ack) return alerts.say("No answer to your message: offline?");
    if (!ack.ok) return alerts.say(`Message not sent: ${ack.error.detail}`);
    input.value = "";
  });
  const remove = async (id: number) => {
    const ack = await room?.socket.timeout(10000).emitWithAck("chat:delete", { auction_id: room.id, id }).catch(() => null);
    if (ack && !ack.ok) alerts.say(`Not deleted: ${ack.error.detail}`);
  };
  return {
    el,
    render(r) {
      room = r;
      const key = `${r.chat.map((m) => m.id).join(",")}:${r.role}`;
      if (list.dataset.key === key) return;
      list.dataset.key = key;
      const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
      fill(list, ...r.chat.map((m) =>
        h("li", { "data-id": m.id },
          h("strong", {}, m.name), " ",
          h("span", { class: "text" }, m.text),
          r.role === "commissioner" ? h("button", { type: "button", class: "link-button", "aria-label": `Delete message from ${m.name}`, onclick: () => void remove(m.id) }, "Delete") : null,
        ),
      ));
      if (stick) list.scrollTop = list.scrollHeight;
    },
  };
}

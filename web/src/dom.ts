// A small element builder: the page builds its DOM from code, and text is always set as text
// (never parsed as HTML), so nothing a user typed can become markup.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
export type Child = Node | string | number | null | undefined | false;

/** `<tag attrs…>children…</tag>`; `on*` attributes are listeners, `false`/`null` ones are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && "value" in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...kids(children));
  return el;
}

function kids(children: Child[]): (Node | string)[] {
  return children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => (typeof c === "number" ? String(c) : (c as Node | string)));
}

/** Replaces `el`'s children. */
export function fill(el: Element, ...children: Child[]) {
  el.replaceChildren(...kids(children));
}

export const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** A labelled form field: `<label>Text <input…></label>` (the label names the control). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", {}, label), control, hint ? h("small", { class: "muted" }, hint) : null);
}

/** A number input (role spinbutton). */
export function numberInput(id: string, value: number, attrs: Attrs = {}): HTMLInputElement {
  return h("input", { id, type: "number", inputmode: "numeric", min: 0, value, required: true, ...attrs });
}

/** Seconds as "m:ss" or "s.s s". */
export function clock(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s >= 60) return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  return `${s.toFixed(1)} s`;
}

/** Children an element can be given: nodes, or strings that become text nodes. */
export type Child = Node | string | null | undefined | false;

/** Properties of a new element. Text is only ever set as text, never parsed as HTML. */
export interface Props {
  class?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/**
 * Create an element. Strings become text nodes (user text can never become
 * markup: this app never assigns innerHTML).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) el.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** The element with this id, which index.html must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

/** A colour for a name, stable across sessions, so people are easy to tell apart. */
export function colorFor(name: string): string {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return `hsl(${hash % 360} 55% 48%)`;
}

/** A square avatar with the name's first letter. */
export function avatar(name: string, small = false): HTMLElement {
  const first = [...name.trim()][0] ?? "?";
  const el = h("span", { class: small ? "avatar small" : "avatar", text: first.toUpperCase() });
  el.style.background = colorFor(name);
  el.setAttribute("aria-hidden", "true");
  return el;
}

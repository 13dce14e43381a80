// Small DOM helpers: elements, tables, forms. Text goes in as text, never as HTML.
import { explain } from "./chain.js";
import { InputError } from "./inputs.js";

// A button's click handler runs one at a time: the button stays disabled until the action it started
// (its transactions included) has ended, so a double click never sends twice. Input that fails its
// check in the page (an InputError) is said next to the button, and nothing is sent.
function oneAtATime(button, handler) {
  return async (event) => {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await handler(event);
      sayInput(button, "");
    } catch (err) {
      if (!(err instanceof InputError)) console.error(err); // for the operator; the user gets a sentence
      sayInput(button, err instanceof InputError ? err.message : explain(err));
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  };
}

// Shows `message` (or clears it) in the alert that follows `anchor`.
function sayInput(anchor, message) {
  let note = anchor.nextElementSibling;
  if (!note?.classList.contains("input-error")) {
    if (!message) return;
    note = h("span", { class: "input-error", role: "alert", "data-testid": "input-error" });
    anchor.after(note);
  }
  note.textContent = message;
  note.hidden = !message;
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick" && tag === "button") el.addEventListener("click", oneAtATime(el, v));
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  return el;
}

export function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), ...children);
}

export function table(headers, rows, testid) {
  return h(
    "table",
    { "data-testid": testid },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headers.map((x) => h("th", {}, x)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((cells) =>
        h(
          "tr",
          {},
          cells.map((c, i) => h("td", { "data-label": headers[i] }, c)), // a phone shows rows as cards
        ),
      ),
    ),
  );
}

export function field(label, name, attrs = {}) {
  return h("label", {}, label, h("input", { name, ...attrs }));
}

// A form whose submit runs `onsubmit(values, form)` one at a time (the button disabled meanwhile); an
// InputError it throws is said under the button, and nothing is sent.
export function form(testid, fields, submitLabel, onsubmit) {
  const button = h("button", { type: "submit" }, submitLabel);
  const el = h("form", { "data-testid": testid }, fields, button);
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  const run = oneAtATime(button, () => onsubmit(Object.fromEntries(new FormData(el)), el));
  return el;
}

export const short = (address) => (address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "");

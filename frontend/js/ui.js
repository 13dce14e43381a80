// Small DOM helpers: elements, tables, forms. Text goes in as text, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
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
          cells.map((c) => h("td", {}, c)),
        ),
      ),
    ),
  );
}

export function field(label, name, attrs = {}) {
  return h("label", {}, label, h("input", { name, ...attrs }));
}

export function form(testid, fields, submitLabel, onsubmit) {
  const el = h("form", { "data-testid": testid }, fields, h("button", { type: "submit" }, submitLabel));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = el.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onsubmit(Object.fromEntries(new FormData(el)), el);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

export const short = (address) => (address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "");

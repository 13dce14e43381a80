// Auditor (审计): every state change from chain events, newest first, a page at a time, filterable as
// a person types (any case, "#6", part of an address), the arguments in words (DCNY, dates, names,
// statuses), exportable as CSV. Read only. The filters and the page survive a language switch.
import { api } from "../api.js";
import { manifest } from "../chain.js";
import { argsCell } from "../events.js";
import { t, when } from "../i18n.js";
import { party } from "../names.js";
import { field, h, section, table } from "../ui.js";
import { receivableLink } from "./receivable.js";

const PAGE_SIZE = 50;
const state = { filters: {}, page: 1 }; // kept across renders (a language switch renders again)

// What an event is about: a participant by name, a receivable as a link to its page, else its id.
function subjectCell(e) {
  if (!e.subject) return "";
  if (/^0x[0-9a-fA-F]{40}$/.test(e.subject)) return party(e.subject);
  return e.contract === "Receivables" ? receivableLink(e.subject) : `#${e.subject}`;
}

export async function render() {
  const results = h("div", {});
  const exportLink = h(
    "a",
    { "data-testid": "export-csv", download: "yinqi-audit.csv", href: "/api/audit/events.csv" },
    t("exportCsv"),
  );
  const filters = h(
    "form",
    { "data-testid": "audit-form" },
    h(
      "label",
      {},
      t("contract"),
      h(
        "select",
        { name: "contract" },
        ["", ...Object.keys(manifest.contracts)].map((c) =>
          h("option", { value: c, selected: state.filters.contract === c }, c ? t(`contract${c}`) : "—"),
        ),
      ),
    ),
    field(t("event"), "event", { value: state.filters.event ?? "" }),
    field(t("subject"), "subject", { value: state.filters.subject ?? "", placeholder: "#6" }),
    field(t("party"), "party", { value: state.filters.party ?? "", size: 24, placeholder: "0x9fe4…" }),
    h("button", { type: "submit" }, t("filter")),
    exportLink,
  );
  async function load() {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(state.filters)) if (v) params.set(k, v);
    exportLink.href = `/api/audit/events.csv?${params}`;
    params.set("page_size", String(PAGE_SIZE));
    params.set("page", String(state.page));
    try {
      const page = await api(`/audit/events?${params}`);
      const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
      const go = (n) =>
        h(
          "button",
          {
            class: "secondary",
            "data-testid": n < state.page ? "page-newer" : "page-older",
            disabled: n < 1 || n > pages,
            onclick: () => {
              state.page = n;
              return load();
            },
          },
          n < state.page ? t("newer") : t("older"),
        );
      results.replaceChildren(
        h(
          "p",
          { class: "muted pager", "data-testid": "pager" },
          t("eventsPage", { total: page.total, page: state.page, pages }),
          " ",
          go(state.page - 1),
          " ",
          go(state.page + 1),
        ),
        table(
          [t("block"), t("time"), t("contract"), t("event"), t("subject"), t("args")],
          page.items.map((e) => [
            e.block,
            when(e.timestamp),
            t(`contract${e.contract}`),
            e.event,
            subjectCell(e),
            argsCell(e),
          ]),
          "events-table",
        ),
      );
    } catch (err) {
      results.replaceChildren(h("p", { class: "banner" }, err.message));
    }
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters = Object.fromEntries([...new FormData(filters)].map(([k, v]) => [k, String(v).trim()]));
    state.page = 1;
    load();
  });
  await load();
  return h("div", {}, section(t("auditor"), filters, results));
}

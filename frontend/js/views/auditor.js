// Auditor (审计): every state change from chain events, filterable, exportable as CSV. Read only.
import { api } from "../api.js";
import { manifest } from "../chain.js";
import { t, when } from "../i18n.js";
import { field, h, section, table } from "../ui.js";

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
        ["", ...Object.keys(manifest.contracts)].map((c) => h("option", { value: c }, c || "—")),
      ),
    ),
    field(t("event"), "event"),
    field(t("subject"), "subject"),
    field(t("party"), "party", { size: 44 }),
    h("button", { type: "submit" }, t("filter")),
    exportLink,
  );
  async function load() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) params.set(k, v.trim());
    exportLink.href = `/api/audit/events.csv?${params}`;
    params.set("page_size", "200");
    try {
      const page = await api(`/audit/events?${params}`);
      results.replaceChildren(
        h("p", { class: "muted" }, `${page.total} ${t("events")}`),
        table(
          [t("block"), t("time"), t("contract"), t("event"), t("subject"), t("args")],
          page.items.map((e) => [
            e.block,
            when(e.timestamp),
            e.contract,
            e.event,
            e.subject || "",
            h("span", { class: "mono" }, JSON.stringify(e.args)),
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
    load();
  });
  await load();
  return h("div", {}, section(t("auditor"), filters, results));
}

// One receivable (#/receivable/ID): what it is now, its timeline from the chain's events (in words), and
// its lineage as a tree: the receivable it was split from, up to the original, and every part cut
// from that, each linked. Linked from every table that lists receivables and from the auditor.
import { api } from "../api.js";
import { argsCell } from "../events.js";
import { money, t, when, word } from "../i18n.js";
import { party } from "../names.js";
import { h, section, table } from "../ui.js";

const MAX_PARTS = 200; // a lineage larger than this is cut short (a split makes at most a few parts)

export function receivableLink(id) {
  return h("a", { href: `#/receivable/${id}`, "data-testid": `receivable-link-${id}` }, `#${id}`);
}

export async function render(ctx) {
  const id = Number.parseInt(ctx.param ?? "", 10);
  if (!Number.isInteger(id) || id < 0) return section(t("receivable"), h("p", { class: "banner" }, t("apiNotFound")));
  const r = await api(`/receivables/${id}`);
  const summary = h(
    "dl",
    { class: "args", "data-testid": "receivable-summary" },
    [
      [t("debtor"), party(r.debtor)],
      [t("holder"), r.holder ? party(r.holder) : "—"],
      [t("amount"), money(r.amount)],
      [t("outstanding"), money(r.outstanding)],
      [t("due"), when(r.due_date)],
      [t("status"), word("ReceivableStatus", r.status)],
    ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
  const timeline = table(
    [t("time"), t("event"), t("args")],
    r.history.map((e) => [when(e.timestamp), e.event, argsCell(e)]),
    "receivable-timeline",
  );
  return h(
    "div",
    {},
    section(`${t("receivable")} #${id}`, summary),
    section(t("timeline"), timeline),
    section(t("lineage"), await lineage(r)),
  );
}

// The tree this receivable belongs to: from its original down through every split, this one marked.
async function lineage(r) {
  let root = r;
  const seen = new Set([r.id]);
  while (root.parent !== null && root.parent !== undefined && !seen.has(root.parent)) {
    seen.add(root.parent);
    root = await api(`/receivables/${root.parent}`);
  }
  let budget = MAX_PARTS;
  async function node(x) {
    budget -= 1;
    const parts = budget > 0 ? await Promise.all((x.parts ?? []).map((p) => api(`/receivables/${p}`))) : [];
    const label = h(
      "span",
      { class: x.id === r.id ? "current" : "" },
      receivableLink(x.id),
      ` ${money(x.amount)} · `,
      x.holder ? party(x.holder) : t("splitUp"),
      ` · ${word("ReceivableStatus", x.status)}`,
    );
    const children = [];
    for (const p of parts) children.push(await node(p));
    return h("li", {}, label, children.length ? h("ul", {}, children) : "");
  }
  return h("ul", { class: "lineage", "data-testid": "lineage" }, await node(root));
}

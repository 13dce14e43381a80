// "My history": the latest chain events of one contract that name the connected wallet (financed,
// passed on, repaid, settled…), newest first, each linked to the receivable it is about, arguments
// in words. Settled receivables leave the working tables; their record stays here.
import { api } from "./api.js";
import { argsCell } from "./events.js";
import { t, when } from "./i18n.js";
import { h, section, table } from "./ui.js";
import { receivableLink } from "./views/receivable.js";

const SHOWN = 20;

export async function historySection(contractName, account) {
  const page = await api(`/audit/events?contract=${contractName}&party=${account}&page_size=${SHOWN}`);
  const rows = page.items.map((e) => [
    when(e.timestamp),
    e.event,
    e.subject && contractName === "Receivables" ? receivableLink(e.subject) : (e.subject ?? ""),
    argsCell(e),
  ]);
  return section(
    t("myHistory", { shown: rows.length, total: page.total }),
    table([t("time"), t("event"), t("subject"), t("args")], rows, "my-history"),
    h("p", { class: "muted" }, h("a", { href: "#/auditor" }, t("allInAuditor"))),
  );
}

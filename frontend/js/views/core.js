// Core enterprise (核心企业): issue receivables to suppliers, repay them at maturity.
import { api } from "../api.js";
import { contract, ethers, send, sendPaying } from "../chain.js";
import { decimals } from "../facts.js";
import { historySection } from "../history.js";
import { money, t, when, word } from "../i18n.js";
import { address, amount, reference, whole } from "../inputs.js";
import { party } from "../names.js";
import { field, form, h, section, short, table } from "../ui.js";
import { receivableLink } from "./receivable.js";

// How much to repay (the outstanding, ready to send; less repays part) and the button that pays it.
function repayControl(ctx, r) {
  const input = h("input", {
    "data-testid": `repay-amount-${r.id}`,
    "aria-label": t("repayAmount"),
    inputmode: "decimal",
    size: 14,
    value: ethers.formatUnits(BigInt(r.outstanding), decimals()),
  });
  const button = h("button", { "data-testid": `repay-${r.id}`, onclick: () => repay(ctx, r, input.value) }, t("repay"));
  return h("div", { class: "inline-action" }, input, button);
}

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("core"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const suppliers = (await api("/participants?role=SUPPLIER&page_size=200")).items;
  const issue = form(
    "issue-form",
    [
      h(
        "label",
        {},
        t("supplierAddr"),
        h(
          "select",
          { name: "supplier" },
          // never the core itself (a receivable to oneself is refused), and no supplier until one is chosen
          h("option", { value: "" }, t("chooseSupplier")),
          suppliers
            .filter((s) => s.address !== me)
            .map((s) => h("option", { value: s.address }, `${s.name} ${short(s.address)}`)),
        ),
      ),
      field(t("amount"), "amount", { required: true, inputmode: "decimal" }),
      field(t("dueDays"), "days", { required: true, type: "number", min: 1, value: 90 }),
      field(t("ref"), "ref", { required: true, maxlength: 32 }),
    ],
    t("submit"),
    async (v) => {
      const supplier = address(v.supplier, { label: t("supplierAddr"), self: me });
      const units = amount(v.amount);
      const days = whole(v.days, { label: t("dueDays"), min: 1, max: 3650 });
      const text = reference(v.ref);
      const signer = await ctx.signer();
      const receivables = contract("Receivables", signer);
      const latest = await signer.provider.getBlock("latest");
      const due = latest.timestamp + days * 86400;
      const ref = ethers.encodeBytes32String(text);
      if (await send(`${t("issue")} ${text}`, () => receivables.issue(supplier, units, due, ethers.id(text), ref)))
        ctx.rerender();
    },
  );
  const owed = (await api(`/receivables?party=${me}&page_size=200`)).items.filter(
    (r) => r.debtor === me && ["Active", "Financed"].includes(r.status),
  );
  const rows = owed.map((r) => [
    receivableLink(r.id),
    party(r.holder),
    money(r.amount),
    money(r.outstanding),
    when(r.due_date),
    word("ReceivableStatus", r.status),
    repayControl(ctx, r),
  ]);
  return h(
    "div",
    {},
    section(t("issue"), issue),
    section(
      t("owed"),
      table(
        [t("id"), t("holder"), t("amount"), t("outstanding"), t("due"), t("status"), t("actions")],
        rows,
        "owed-table",
      ),
    ),
    await historySection("Receivables", me),
  );
}

// Repays `text` DCNY (the whole outstanding unless the core enterprise types less) of receivable `r`.
async function repay(ctx, r, text) {
  const outstanding = BigInt(r.outstanding);
  const units = amount(text, { label: t("repayAmount"), max: outstanding });
  const signer = await ctx.signer();
  const receivables = contract("Receivables", signer);
  const label = `${t("repay")} #${r.id} ${money(units)}`;
  if (await sendPaying(signer, receivables, units, label, "repay", [r.id, units])) ctx.rerender();
}

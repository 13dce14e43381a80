// Supplier (供应商): holdings; split down the supply chain, transfer, apply for financing (the advance
// arrives in the same transaction, or the refusal says why).
import { api } from "../api.js";
import { contract, send } from "../chain.js";
import { enumName } from "../facts.js";
import { money, t, when } from "../i18n.js";
import { address, amount, InputError } from "../inputs.js";
import { h, section, short, table } from "../ui.js";

let financeResult = ""; // what the last application came to, shown once by the next render

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("supplier"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const held = (await api(`/receivables?party=${me}&page_size=200`)).items.filter(
    (r) => r.holder === me && r.status === "Active",
  );
  const result = h("p", { "data-testid": "finance-result" }, financeResult);
  financeResult = "";
  const rows = held.map((r) => {
    const parts = h("input", { placeholder: t("partsHint"), "data-testid": `split-input-${r.id}`, size: 40 });
    const to = h("input", { placeholder: t("to"), "data-testid": `transfer-input-${r.id}`, size: 20 });
    return [
      `#${r.id}`,
      short(r.debtor),
      money(r.outstanding),
      when(r.due_date),
      h(
        "div",
        {},
        h("button", { "data-testid": `finance-${r.id}`, onclick: () => finance(ctx, r) }, t("finance")),
        " ",
        parts,
        h(
          "button",
          { class: "secondary", "data-testid": `split-${r.id}`, onclick: () => split(ctx, r, parts.value) },
          t("split"),
        ),
        " ",
        to,
        h(
          "button",
          { class: "secondary", "data-testid": `transfer-${r.id}`, onclick: () => transfer(ctx, r, to.value) },
          t("transfer"),
        ),
      ),
    ];
  });
  return h(
    "div",
    {},
    section(
      t("held"),
      result,
      table([t("id"), t("debtor"), t("outstanding"), t("due"), t("actions")], rows, "held-table"),
    ),
  );
}

async function finance(ctx, r) {
  const receivables = contract("Receivables", await ctx.signer());
  const receipt = await send(`${t("finance")} #${r.id}`, () => receivables.applyForFinancing(r.id));
  if (!receipt) return;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== receivables.target.toLowerCase()) continue; // the pool's and token's own events
    const parsed = receivables.interface.parseLog(log);
    if (parsed?.name === "ReceivableFinanced") financeResult = t("advance", { amount: money(parsed.args.advance) });
    if (parsed?.name === "FinancingRefused")
      financeResult = t("refused", { reason: enumName("Refusal", parsed.args.reason) });
  }
  ctx.rerender(); // no timer: send returned once the block was confirmed and indexed
}

async function split(ctx, r, spec) {
  const parts = spec
    .split(/[,，]/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.length) throw new InputError(t("inputParts", { text: spec }));
  const holders = [];
  const amounts = [];
  for (const part of parts) {
    const [to, units, ...rest] = part.split("=");
    if (units === undefined || rest.length) throw new InputError(t("inputParts", { text: part }));
    holders.push(address(to));
    amounts.push(amount(units));
  }
  const receivables = contract("Receivables", await ctx.signer());
  if (await send(`${t("split")} #${r.id}`, () => receivables.split(r.id, amounts, holders))) ctx.rerender();
}

async function transfer(ctx, r, to) {
  const recipient = address(to, { label: t("to"), self: ctx.wallet.account });
  const receivables = contract("Receivables", await ctx.signer());
  if (await send(`${t("transfer")} #${r.id}`, () => receivables.transferFrom(ctx.wallet.account, recipient, r.id)))
    ctx.rerender();
}

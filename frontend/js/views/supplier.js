// Supplier (供应商): holdings; split down the supply chain, transfer, apply for financing (the advance
// arrives in the same transaction, or the refusal says why).
import { api } from "../api.js";
import { contract, send } from "../chain.js";
import { enumName } from "../facts.js";
import { historySection } from "../history.js";
import { money, t, when, word } from "../i18n.js";
import { address, amount, InputError } from "../inputs.js";
import { party } from "../names.js";
import { h, section, table } from "../ui.js";
import { receivableLink } from "./receivable.js";

let financeResult = null; // what the last application came to: { text, refused }, kept until closed

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("supplier"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const held = (await api(`/receivables?party=${me}&page_size=200`)).items.filter(
    (r) => r.holder === me && r.status === "Active",
  );
  const result = h(
    "p",
    { "data-testid": "finance-result", class: financeResult?.refused ? "error" : "notice" },
    financeResult?.text ?? "",
    financeResult
      ? h(
          "button",
          {
            class: "secondary",
            onclick: () => {
              financeResult = null;
              result.replaceChildren();
            },
          },
          t("dismiss"),
        )
      : "",
  );
  const suppliers = (await api("/participants?role=SUPPLIER&page_size=200")).items;
  const rows = held.map((r) => {
    const to = pick(
      suppliers.filter((s) => s.address !== me),
      `transfer-to-${r.id}`,
      t("to"),
    );
    return [
      receivableLink(r.id),
      party(r.debtor),
      money(r.outstanding),
      when(r.due_date),
      h(
        "div",
        {},
        financeControl(ctx, r),
        " ",
        splitControl(ctx, r, suppliers),
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
    await historySection("Receivables", me),
  );
}

// Finance asks first: the bank's quote now (advance, discount, rate, days, fee), or why it would refuse;
// then a second click applies.
function financeControl(ctx, r) {
  const box = h("div", { class: "inline-action" });
  const start = h("button", { "data-testid": `finance-${r.id}`, onclick: () => showQuote() }, t("finance"));
  async function showQuote() {
    const { quote } = await api(`/receivables/${r.id}`);
    if (quote?.refusal !== "None") {
      const reason = quote ? word("Refusal", quote.refusal) : t("notFinanceable");
      box.replaceChildren(
        h("span", { class: "error", "data-testid": `quote-${r.id}` }, t("wouldBeRefused", { reason })),
        h("button", { class: "secondary", onclick: () => box.replaceChildren(start) }, t("cancel")),
      );
      return;
    }
    const days = Math.max(0, Math.ceil((Number(r.due_date) - Date.now() / 1000) / 86400));
    const text = t("quoteText", {
      advance: money(quote.advance),
      share: `${Number(quote.advance_rate_bps) / 100}%`,
      outstanding: money(r.outstanding),
      discount: money(quote.discount),
      rate: `${Number(quote.rate_bps) / 100}%`,
      days,
      fee: money(quote.fee),
    });
    const cancel = h("button", { class: "secondary", onclick: () => box.replaceChildren(start) }, t("cancel"));
    const apply = async () => {
      cancel.disabled = true; // no way back to a second application while this one is pending
      try {
        await finance(ctx, r);
      } finally {
        cancel.disabled = false;
      }
    };
    box.replaceChildren(
      h("span", { "data-testid": `quote-${r.id}` }, text),
      h("button", { "data-testid": `apply-${r.id}`, onclick: apply }, t("applyNow")),
      cancel,
    );
  }
  box.append(start);
  return box;
}

async function finance(ctx, r) {
  const receivables = contract("Receivables", await ctx.signer());
  const receipt = await send(`${t("finance")} #${r.id}`, () => receivables.applyForFinancing(r.id));
  if (!receipt) return;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== receivables.target.toLowerCase()) continue; // the pool's and token's own events
    const parsed = receivables.interface.parseLog(log);
    if (parsed?.name === "ReceivableFinanced")
      financeResult = { text: `#${r.id}: ${t("advance", { amount: money(parsed.args.advance) })}`, refused: false };
    if (parsed?.name === "FinancingRefused") {
      const reason = word("Refusal", enumName("Refusal", parsed.args.reason));
      financeResult = { text: `#${r.id}: ${t("refused", { reason })}`, refused: true };
    }
  }
  ctx.rerender(); // no timer: send returned once the block was confirmed and indexed
}

// A picker of participants by name (the address is the value): never a free-text address.
function pick(people, testid, label) {
  return h(
    "select",
    { "data-testid": testid, "aria-label": label },
    h("option", { value: "" }, `— ${label} —`),
    people.map((p) => h("option", { value: p.address }, p.name)),
  );
}

// Split opens a row per part (whom to, how much; two to start, more on request), then splits.
function splitControl(ctx, r, suppliers) {
  const box = h("div", { class: "split" });
  const rowsBox = h("div", {});
  const addRow = () => {
    const i = rowsBox.children.length;
    rowsBox.append(
      h(
        "div",
        { class: "inline-action" },
        pick(suppliers, `split-to-${r.id}-${i}`, t("to")),
        h("input", {
          "data-testid": `split-amount-${r.id}-${i}`,
          "aria-label": t("amount"),
          placeholder: t("amount"),
          inputmode: "decimal",
          size: 12,
        }),
      ),
    );
  };
  const start = h(
    "button",
    {
      class: "secondary",
      "data-testid": `split-${r.id}`,
      onclick: () => {
        addRow();
        addRow();
        box.replaceChildren(
          rowsBox,
          h(
            "button",
            { class: "secondary", "data-testid": `split-add-${r.id}`, onclick: () => addRow() },
            t("addPart"),
          ),
          h(
            "button",
            { "data-testid": `split-go-${r.id}`, onclick: () => split(ctx, r, rowsBox) },
            t("splitNow", { total: money(r.amount) }),
          ),
        );
      },
    },
    t("split"),
  );
  box.append(start);
  return box;
}

async function split(ctx, r, rowsBox) {
  const holders = [];
  const amounts = [];
  for (const row of rowsBox.children) {
    const [to, units] = row.querySelectorAll("select, input");
    holders.push(address(to.value, { label: t("to") }));
    amounts.push(amount(units.value));
  }
  const total = amounts.reduce((a, b) => a + b, 0n);
  if (total !== BigInt(r.amount))
    throw new InputError(t("inputPartsTotal", { total: money(total), amount: money(r.amount) }));
  const receivables = contract("Receivables", await ctx.signer());
  if (await send(`${t("split")} #${r.id}`, () => receivables.split(r.id, amounts, holders))) ctx.rerender();
}

async function transfer(ctx, r, to) {
  // `to`: the picked address
  const recipient = address(to, { label: t("to"), self: ctx.wallet.account });
  const receivables = contract("Receivables", await ctx.signer());
  if (await send(`${t("transfer")} #${r.id}`, () => receivables.transferFrom(ctx.wallet.account, recipient, r.id)))
    ctx.rerender();
}

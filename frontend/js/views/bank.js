// Bank staff (银行): onboard participants, set a core enterprise's limit and rate, fund the pool, act
// on risk alerts (freeze a lease), confirm held credit-limit raises.
import { api } from "../api.js";
import { contract, ethers, send, sendPaying } from "../chain.js";
import { flagBits } from "../facts.js";
import { money, t, when } from "../i18n.js";
import { address, amount, whole } from "../inputs.js";
import { field, form, h, section, short, table } from "../ui.js";

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("bank"), h("p", {}, t("connectFirst")));
  const roles = flagBits("Role"); // [name, bit], from the contracts via the manifest
  const onboard = form(
    "onboard-form",
    [
      field(t("address"), "address", { required: true, size: 44 }),
      field(t("name"), "name", { required: true }),
      field(t("merchantIdToBind"), "merchantId", {}),
      h(
        "label",
        {},
        t("roles"),
        h(
          "div",
          { class: "checks" },
          roles.map(([name], i) => h("label", {}, h("input", { type: "checkbox", name: `role${i}` }), name)),
        ),
      ),
    ],
    t("submit"),
    async (v) => {
      const mask = roles.reduce((sum, [, bit], i) => (v[`role${i}`] ? sum | bit : sum), 0);
      const account = address(v.address);
      const registry = contract("ParticipantRegistry", await ctx.signer());
      const merchantId = (v.merchantId || "").trim();
      if (
        !(await send(`${t("onboard")} ${v.name}`, () =>
          registry.onboard(account, mask, ethers.id(`KYC: ${v.name}`), v.name),
        ))
      )
        return;
      // the merchant id the data platform knows it by: the credit oracle scores this wallet under that id only
      if (merchantId)
        await send(`${t("bindMerchantId")} ${merchantId}`, () =>
          registry.bindMerchantId(account, ethers.id(merchantId)),
        );
      ctx.rerender();
    },
  );
  const terms = form(
    "terms-form",
    [
      field(t("address"), "debtor", { required: true, size: 44 }),
      field(t("limit"), "limit", { required: true }),
      field(t("rate"), "rate", { required: true, type: "number", min: 0, max: 4000 }),
      field(t("advanceRate"), "advanceRate", { required: true, type: "number", min: 1, max: 10000, value: "9000" }),
      field(t("feeBps"), "fee", { required: true, type: "number", min: 0, max: 1000, value: "0" }),
    ],
    t("submit"),
    async (v) => {
      const debtor = address(v.debtor);
      const limit = amount(v.limit, { label: t("limit"), zeroOk: true });
      const rate = whole(v.rate, { label: t("rate"), min: 0, max: 4000 });
      const advanceRate = whole(v.advanceRate, { label: t("advanceRate"), min: 1, max: 10000 });
      const fee = whole(v.fee, { label: t("feeBps"), min: 0, max: 1000 });
      const receivables = contract("Receivables", await ctx.signer());
      await send(t("terms"), () => receivables.setDebtorTerms(debtor, limit, rate, advanceRate, fee));
    },
  );
  const liquidity = form(
    "deposit-form",
    [field(t("amount"), "amount", { required: true })],
    t("deposit"),
    async (v) => {
      const units = amount(v.amount);
      const signer = await ctx.signer();
      const pool = contract("FinancingPool", signer);
      await sendPaying(signer, pool, units, t("deposit"), "deposit", [units]);
    },
  );
  const alerts = (await api("/alerts?page_size=200")).items;
  const alertRows = alerts.map((a) => [
    `#${a.lease_id}`,
    a.device_id,
    short(a.lessee),
    a.flags.map((f) => h("span", { class: "flag" }, f)),
    a.lease_status,
    when(a.timestamp),
    a.lease_status === "Active"
      ? h("button", { "data-testid": `freeze-${a.lease_id}`, onclick: () => freeze(ctx, a) }, t("freeze"))
      : "",
  ]);
  const held = (await api("/credit-lines?page_size=200")).items
    .filter((line) => BigInt(line.pending_limit) > 0n)
    .map((line) => [
      short(line.merchant),
      money(line.pending_limit),
      h(
        "button",
        {
          "data-testid": `confirm-${line.merchant.toLowerCase()}`,
          onclick: () => confirmLimit(ctx, line.merchant, line.pending_limit),
        },
        t("confirm"),
      ),
    ]);
  return h(
    "div",
    {},
    section(
      t("alerts"),
      table(
        [t("id"), t("device"), t("lessee"), t("flags"), t("status"), t("time"), t("actions")],
        alertRows,
        "alerts-table",
      ),
    ),
    section(t("onboard"), onboard),
    section(t("terms"), terms),
    section(t("liquidity"), liquidity),
    section(t("heldLimits"), table([t("merchant"), t("limit"), t("actions")], held, "held-limits")),
  );
}

async function freeze(ctx, a) {
  const lease = contract("EquipmentLease", await ctx.signer());
  if (
    await send(`${t("freeze")} #${a.lease_id}`, () =>
      lease.freeze(a.lease_id, ethers.encodeBytes32String(a.flags.join("+").slice(0, 31))),
    )
  )
    ctx.rerender();
}

// Confirms the held raise the bank sees in the list; the contract refuses it if a report replaced it since.
async function confirmLimit(ctx, merchant, pendingLimit) {
  const line = contract("CreditLine", await ctx.signer());
  if (await send(t("confirm"), () => line.confirmLimit(merchant, BigInt(pendingLimit)))) ctx.rerender();
}

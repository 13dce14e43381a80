// Bank staff (银行): the pool's money and the wallet's own; each core enterprise's limit, rate and
// exposure and the form that sets them; funding the pool; risk alerts (freeze a lease, with a reason
// and a confirmation); onboarding; held credit-limit raises. Only what the wallet's roles on the
// contracts allow is offered.
import { api } from "../api.js";
import { contract, ethers, send, sendPaying } from "../chain.js";
import { decimals, flagBits } from "../facts.js";
import { money, t, when, word } from "../i18n.js";
import { address, amount, InputError, percent, reference, text } from "../inputs.js";
import { loadNames, party } from "../names.js";
import { field, form, h, section, table } from "../ui.js";

// What the connected wallet may do here: each of the bank's roles, as the contracts grant it.
async function staffRoles(runner, me) {
  const check = async (name, role) => {
    const c = contract(name, runner);
    return c.hasRole(await c[role](), me);
  };
  const [registrar, creditManager, treasurer, leaseManager, lineManager] = await Promise.all([
    check("ParticipantRegistry", "REGISTRAR_ROLE"),
    check("Receivables", "CREDIT_MANAGER_ROLE"),
    check("FinancingPool", "TREASURER_ROLE"),
    check("EquipmentLease", "LEASE_MANAGER_ROLE"),
    check("CreditLine", "CREDIT_MANAGER_ROLE"),
  ]);
  return { registrar, creditManager, treasurer, leaseManager, lineManager };
}

const pct = (bps) => `${(Number(bps) / 100).toLocaleString(undefined, { maximumFractionDigits: 2 })}%`;

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("bank"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const signer = await ctx.signer();
  const can = await staffRoles(signer, me);
  if (!Object.values(can).some(Boolean))
    return section(t("bank"), h("p", { class: "banner", "data-testid": "not-bank-staff" }, t("notBankStaff")));
  const token = contract("SettlementToken", signer);
  const pool = contract("FinancingPool", signer);
  const [available, balance] = await Promise.all([pool.available(), token.balanceOf(me)]);
  const funds = h(
    "div",
    { class: "cards", "data-testid": "bank-funds" },
    h(
      "div",
      { class: "card" },
      h("b", { "data-testid": "pool-available" }, money(available)),
      h("span", {}, t("poolAvailable")),
    ),
    h("div", { class: "card" }, h("b", { "data-testid": "my-balance" }, money(balance)), h("span", {}, t("myBalance"))),
  );
  const sections = [section(t("liquidity"), funds, can.treasurer ? depositForm(ctx) : "")];
  if (can.creditManager) sections.push(await debtorsSection(ctx, signer));
  if (can.leaseManager) sections.push(await alertsSection(ctx));
  if (can.registrar) sections.push(section(t("onboard"), onboardForm(ctx)));
  if (can.lineManager) sections.push(await heldSection(ctx));
  return h("div", {}, sections);
}

function onboardForm(ctx) {
  const roles = flagBits("Role"); // [name, bit], from the contracts via the manifest
  return form(
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
          roles.map(([name], i) =>
            h("label", {}, h("input", { type: "checkbox", name: `role${i}` }), word("Role", name)),
          ),
        ),
      ),
    ],
    t("submit"),
    async (v) => {
      const mask = roles.reduce((sum, [, bit], i) => (v[`role${i}`] ? sum | bit : sum), 0);
      const account = address(v.address);
      const name = text(v.name, { label: t("name"), max: 200 });
      if (!mask) throw new InputError(t("inputMissing", { label: t("roles") }));
      const registry = contract("ParticipantRegistry", await ctx.signer());
      const merchantId = (v.merchantId || "").trim();
      if (
        !(await send(`${t("onboard")} ${v.name}`, () =>
          registry.onboard(account, mask, ethers.id(`KYC: ${name}`), name),
        ))
      )
        return;
      // the merchant id the data platform knows it by: the credit oracle scores this wallet under that id only
      if (merchantId)
        await send(`${t("bindMerchantId")} ${merchantId}`, () =>
          registry.bindMerchantId(account, ethers.id(merchantId)),
        );
      await loadNames(true);
      ctx.rerender();
    },
  );
}

// Each debtor's terms as the chain has them, and the form that sets them (rates in %).
async function debtorsSection(ctx, signer) {
  const receivables = contract("Receivables", signer);
  // debtors are core enterprises (the contract's rule): a lessee whose billed rent is to be financed is
  // onboarded as one too
  const cores = (await api("/participants?role=CORE_ENTERPRISE&page_size=200")).items;
  const terms = await Promise.all(cores.map((c) => receivables.debtorTerms(c.address)));
  const rows = cores.map((c, i) => [
    party(c.address),
    money(terms[i].limit),
    pct(terms[i].rateBps),
    money(terms[i].exposure),
    pct(terms[i].advanceRateBps),
    pct(terms[i].feeBps),
    String(terms[i].openDefaults),
  ]);
  const picker = h(
    "select",
    { name: "debtor" },
    h("option", { value: "" }, t("chooseDebtor")),
    cores.map((c) => h("option", { value: c.address }, c.name)),
  );
  const setTerms = form(
    "terms-form",
    [
      h("label", {}, t("debtor"), picker),
      field(t("limit"), "limit", { required: true, inputmode: "decimal" }),
      field(t("rate"), "rate", { required: true, inputmode: "decimal" }),
      field(t("advanceRate"), "advanceRate", { required: true, inputmode: "decimal", value: "90" }),
      field(t("feeBps"), "fee", { required: true, inputmode: "decimal", value: "0" }),
    ],
    t("submit"),
    async (v) => {
      const debtor = address(v.debtor, { label: t("debtor") });
      const limit = amount(v.limit, { label: t("limit"), zeroOk: true, max: 2n ** 96n - 1n });
      const rate = percent(v.rate, { label: t("rate"), max: 4000 });
      const advanceRate = percent(v.advanceRate, { label: t("advanceRate"), min: 1 });
      const fee = percent(v.fee, { label: t("feeBps"), max: 1000 });
      const receivables = contract("Receivables", await ctx.signer());
      if (await send(t("terms"), () => receivables.setDebtorTerms(debtor, limit, rate, advanceRate, fee)))
        ctx.rerender();
    },
  );
  picker.addEventListener("change", () => {
    const i = cores.findIndex((c) => c.address === picker.value); // start from what is in force
    if (i < 0) return;
    setTerms.elements.limit.value = ethers.formatUnits(terms[i].limit, decimals());
    setTerms.elements.rate.value = String(Number(terms[i].rateBps) / 100);
    setTerms.elements.advanceRate.value = String(Number(terms[i].advanceRateBps || 9000n) / 100);
    setTerms.elements.fee.value = String(Number(terms[i].feeBps) / 100);
  });
  return section(
    t("debtors"),
    table(
      [t("debtor"), t("limit"), t("rate"), t("exposure"), t("advanceRate"), t("feeBps"), t("openDefaults")],
      rows,
      "debtors-table",
    ),
    setTerms,
  );
}

function depositForm(ctx) {
  return form("deposit-form", [field(t("amount"), "amount", { required: true })], t("deposit"), async (v) => {
    const units = amount(v.amount);
    const signer = await ctx.signer();
    const pool = contract("FinancingPool", signer);
    if (await sendPaying(signer, pool, units, t("deposit"), "deposit", [units])) ctx.rerender();
  });
}

async function alertsSection(ctx) {
  const alerts = (await api("/alerts?page_size=200")).items;
  const rows = alerts.map((a) => [
    `#${a.lease_id}`,
    a.device_id,
    party(a.lessee),
    a.flags.map((f) => h("span", { class: "flag" }, word("RiskFlag", f))),
    word("LeaseStatus", a.lease_status),
    when(a.timestamp),
    a.lease_status === "Active" ? freezeControl(ctx, a) : "",
  ]);
  return section(
    t("alerts"),
    table([t("id"), t("device"), t("lessee"), t("flags"), t("status"), t("time"), t("actions")], rows, "alerts-table"),
  );
}

// Freeze asks first: a reason (the flags, unless the bank writes its own) and a second click to confirm.
function freezeControl(ctx, a) {
  const reason = h("input", {
    "data-testid": `freeze-reason-${a.lease_id}`,
    "aria-label": t("freezeReason"),
    placeholder: t("freezeReason"),
    maxlength: 31,
    value: a.flags.join("+").slice(0, 31),
  });
  const confirm = h(
    "button",
    { "data-testid": `confirm-freeze-${a.lease_id}`, onclick: () => freeze(ctx, a, reason.value) },
    t("confirmFreeze"),
  );
  const cancel = h("button", { class: "secondary", onclick: () => ask.replaceChildren(start) }, t("cancel"));
  const start = h(
    "button",
    { "data-testid": `freeze-${a.lease_id}`, onclick: () => ask.replaceChildren(reason, confirm, cancel) },
    t("freeze"),
  );
  const ask = h("div", { class: "inline-action" }, start);
  return ask;
}

async function heldSection(ctx) {
  const held = (await api("/credit-lines?page_size=200")).items
    .filter((line) => BigInt(line.pending_limit) > 0n)
    .map((line) => [
      party(line.merchant),
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
  return section(t("heldLimits"), table([t("merchant"), t("limit"), t("actions")], held, "held-limits"));
}

async function freeze(ctx, a, text) {
  const why = reference(text, { label: t("freezeReason") });
  const lease = contract("EquipmentLease", await ctx.signer());
  if (await send(`${t("freeze")} #${a.lease_id}`, () => lease.freeze(a.lease_id, ethers.encodeBytes32String(why))))
    ctx.rerender();
}

// Confirms the held raise the bank sees in the list; the contract refuses it if a report replaced it since.
async function confirmLimit(ctx, merchant, pendingLimit) {
  const line = contract("CreditLine", await ctx.signer());
  if (await send(t("confirm"), () => line.confirmLimit(merchant, BigInt(pendingLimit)))) ctx.rerender();
}

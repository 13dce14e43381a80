// Lessor (出租人, the machinery maker or a leasing company): offer a device on a tier schedule; my
// leases with usage, flags and periods; withdraw an offer; turn a billed period into a receivable on
// the lessee and finance it from the bank's pool.
import { api } from "../api.js";
import { contract, send } from "../chain.js";
import { enumName } from "../facts.js";
import { money, t, word } from "../i18n.js";
import { address, amount, text, whole } from "../inputs.js";
import { leaseSection } from "../leases.js";
import { field, form, h, section } from "../ui.js";

const TIER_ROWS = 4; // the contract's MAX_TIERS
const NO_BOUND = 0xffffffff;
let lastResult = ""; // what the last financing paid or why it was refused, shown above the leases

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("lessor"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const offer = form(
    "offer-form",
    [
      field(t("lesseeAddress"), "lessee", { required: true, size: 44 }),
      field(t("deviceId"), "device", { required: true, maxlength: 64 }),
      field(t("periodHours"), "periodHours", { required: true, type: "number", min: 1, max: 8784, value: "24" }),
      field(t("periods"), "periods", { required: true, type: "number", min: 1, max: 120, value: "30" }),
      field(t("leaseDeposit"), "deposit", { required: true, value: "0" }),
      field(t("minimumRent"), "minimumRent", { required: true, value: "0" }),
      h(
        "fieldset",
        { class: "tiers" },
        h("legend", {}, t("tierSchedule")),
        Array.from({ length: TIER_ROWS }, (_, i) =>
          h(
            "div",
            { class: "tier-row" },
            field(`${t("tierUpTo")} ${i + 1}`, `hours${i}`, { type: "number", min: 1, placeholder: "∞" }),
            field(t("pricePerHour"), `price${i}`, { required: i === 0 }),
          ),
        ),
      ),
    ],
    t("offer"),
    async (v) => {
      const lessee = address(v.lessee, { label: t("lesseeAddress"), self: me });
      const device = text(v.device, { label: t("deviceId"), max: 64 }); // MAX_DEVICE_ID_BYTES
      const tiers = [];
      for (let i = 0; i < TIER_ROWS; i++) {
        if (!(v[`price${i}`] || "").trim()) break;
        const last = !(v[`price${i + 1}`] || "").trim();
        const label = `${t("tierUpTo")} ${i + 1}`;
        const upTo = last ? NO_BOUND : whole(v[`hours${i}`], { label, min: 1, max: 8784 });
        tiers.push([upTo, amount(v[`price${i}`], { label: t("pricePerHour") })]);
      }
      const terms = [
        whole(v.periodHours, { label: t("periodHours"), min: 1, max: 8784 }) * 3600,
        whole(v.periods, { label: t("periods"), min: 1, max: 120 }),
        amount(v.deposit || "0", { label: t("leaseDeposit"), zeroOk: true }),
        amount(v.minimumRent || "0", { label: t("minimumRent"), zeroOk: true }),
      ];
      const lease = contract("EquipmentLease", await ctx.signer());
      if (await send(`${t("offer")} ${device}`, () => lease.offer(lessee, device, terms, tiers))) ctx.rerender();
    },
  );
  const rows = (await api(`/leases?party=${me}&page_size=200`)).items.filter((l) => l.lessor === me);
  const blocks = [];
  for (const row of rows) blocks.push(await leaseBlock(ctx, await api(`/leases/${row.id}`)));
  return h(
    "div",
    {},
    section(t("offerLease"), offer),
    section(
      t("leasesOut"),
      h("p", { class: "notice", "data-testid": "lessor-result" }, lastResult),
      h("p", { class: "muted" }, rows.length ? "" : t("none")),
    ),
    blocks,
  );
}

async function leaseBlock(ctx, lease) {
  const actions = [];
  if (lease.status === "Offered")
    actions.push(
      h("button", { "data-testid": `cancel-${lease.id}`, onclick: () => cancel(ctx, lease) }, t("cancelOffer")),
    );
  const now = Math.floor(Date.now() / 1000);
  for (const p of lease.period_details) {
    const assignable = lease.status === "Active" && p.billed && !p.assigned && BigInt(p.paid) === 0n;
    if (!assignable || BigInt(p.rent) === 0n || now >= p.due_at) continue;
    actions.push(
      h(
        "button",
        { "data-testid": `assign-${lease.id}-${p.period}`, onclick: () => assign(ctx, lease, p.period, false) },
        `${t("assign")} ${p.period + 1}`,
      ),
      h(
        "button",
        { "data-testid": `finance-${lease.id}-${p.period}`, onclick: () => assign(ctx, lease, p.period, true) },
        `${t("assignFinance")} ${p.period + 1} (${money(p.rent)})`,
      ),
    );
  }
  return leaseSection(lease, { party: "lessee", outstandingId: `lessor-outstanding-${lease.id}`, actions });
}

async function cancel(ctx, lease) {
  const contractLease = contract("EquipmentLease", await ctx.signer());
  if (await send(`${t("cancelOffer")} #${lease.id}`, () => contractLease.cancelOffer(lease.id))) ctx.rerender();
}

async function assign(ctx, lease, period, finance) {
  const signer = await ctx.signer();
  const contractLease = contract("EquipmentLease", signer);
  const receipt = await send(`${t("assign")} #${lease.id}/${period + 1}`, () =>
    contractLease.assignPeriod(lease.id, period),
  );
  if (!receipt) return;
  const assigned = parsed(receipt, contractLease, "PeriodAssigned");
  lastResult = t("assignedAs", { id: assigned.args.receivableId });
  if (finance) {
    const receivables = contract("Receivables", signer);
    const rid = assigned.args.receivableId;
    const financed = await send(`${t("finance")} #${rid}`, () => receivables.applyForFinancing(rid));
    if (financed) {
      const ok = parsed(financed, receivables, "ReceivableFinanced");
      const refused = parsed(financed, receivables, "FinancingRefused");
      if (ok) lastResult = t("advanceFee", { amount: money(ok.args.advance), fee: money(ok.args.fee) });
      if (refused) lastResult = t("refused", { reason: word("Refusal", enumName("Refusal", refused.args.reason)) });
    }
  }
  ctx.rerender();
}

// The receipt's first `name` event from `c` (a receipt also holds the token's and the pool's events).
function parsed(receipt, c, name) {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== c.target.toLowerCase()) continue;
    const event = c.interface.parseLog(log);
    if (event?.name === name) return event;
  }
  return null;
}

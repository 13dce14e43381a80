// Lessee (承租人): my leases with usage, flags and periods; accept an offer (pays the deposit), pay rent.
import { api } from "../api.js";
import { contract, sendPaying } from "../chain.js";
import { money, t } from "../i18n.js";
import { leaseSection } from "../leases.js";
import { h, section } from "../ui.js";

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("lessee"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const leases = (await api(`/leases?party=${me}&page_size=200`)).items.filter((l) => l.lessee === me);
  const blocks = [];
  for (const row of leases) {
    const lease = await api(`/leases/${row.id}`);
    const actions = [];
    if (lease.status === "Offered" && lease.offer_lapsed)
      actions.push(h("span", { class: "muted", "data-testid": `lapsed-${lease.id}` }, t("offerLapsed")));
    else if (lease.status === "Offered")
      actions.push(
        h("button", { "data-testid": `accept-${lease.id}`, onclick: () => accept(ctx, lease) }, t("accept")),
      );
    if (BigInt(lease.outstanding) > 0n)
      actions.push(
        h(
          "button",
          { "data-testid": `pay-${lease.id}`, onclick: () => pay(ctx, lease) },
          `${t("payRent")} ${money(lease.outstanding)}`,
        ),
      );
    blocks.push(leaseSection(lease, { outstandingId: `outstanding-${lease.id}`, actions }));
  }
  return h("div", {}, section(t("myLeases"), h("p", { class: "muted" }, leases.length ? "" : t("none"))), blocks);
}

async function accept(ctx, lease) {
  const signer = await ctx.signer();
  const contractLease = contract("EquipmentLease", signer);
  const deposit = BigInt(lease.deposit);
  const label = `${t("accept")} #${lease.id}`;
  if (await sendPaying(signer, contractLease, deposit, label, "accept", [lease.id])) ctx.rerender();
}

async function pay(ctx, lease) {
  const signer = await ctx.signer();
  const contractLease = contract("EquipmentLease", signer);
  const amount = BigInt(lease.outstanding);
  const label = `${t("payRent")} #${lease.id}`;
  if (await sendPaying(signer, contractLease, amount, label, "payRent", [lease.id, amount])) ctx.rerender();
}

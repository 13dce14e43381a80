// Lessee (承租人): my leases with usage, flags and periods; accept an offer (pays the deposit), pay rent.
import { api } from "../api.js";
import { contract, send } from "../chain.js";
import { money, t, when } from "../i18n.js";
import { h, section, table } from "../ui.js";

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("lessee"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const leases = (await api(`/leases?party=${me}&page_size=200`)).items.filter((l) => l.lessee === me);
  const blocks = [];
  for (const row of leases) {
    const lease = await api(`/leases/${row.id}`);
    const actions = [];
    if (lease.status === "Offered")
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
    const periods = table(
      [t("period"), t("usage"), t("rent"), t("paid"), t("due")],
      lease.periods.map((p) => [
        p.period + 1,
        p.usage_hours.toFixed(2),
        p.billed ? money(p.rent) : "—",
        money(p.paid),
        when(p.due_at),
      ]),
      `periods-${lease.id}`,
    );
    blocks.push(
      section(
        `#${lease.id} ${lease.device_id} · ${lease.status}`,
        h(
          "p",
          {},
          t("flags"),
          ": ",
          lease.flags.length ? lease.flags.map((f) => h("span", { class: "flag" }, f)) : t("none"),
          " · ",
          t("outstandingRent"),
          ": ",
          h("b", { "data-testid": `outstanding-${lease.id}` }, money(lease.outstanding)),
        ),
        h("div", {}, actions),
        periods,
      ),
    );
  }
  return h("div", {}, section(t("myLeases"), h("p", { class: "muted" }, leases.length ? "" : t("none"))), blocks);
}

async function approveThen(ctx, spender, amount) {
  const token = contract("SettlementToken", await ctx.signer());
  if ((await token.allowance(ctx.wallet.account, spender)) >= amount) return true;
  return Boolean(await send("approve", () => token.approve(spender, amount)));
}

async function accept(ctx, lease) {
  const contractLease = contract("EquipmentLease", await ctx.signer());
  if (!(await approveThen(ctx, contractLease.target, BigInt(lease.deposit)))) return;
  if (await send(`${t("accept")} #${lease.id}`, () => contractLease.accept(lease.id))) ctx.rerender();
}

async function pay(ctx, lease) {
  const contractLease = contract("EquipmentLease", await ctx.signer());
  const amount = BigInt(lease.outstanding);
  if (!(await approveThen(ctx, contractLease.target, amount))) return;
  if (await send(`${t("payRent")} #${lease.id}`, () => contractLease.payRent(lease.id, amount))) ctx.rerender();
}

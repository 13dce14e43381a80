// What the lessor's and the lessee's pages both show of a lease: its terms (the rent schedule, the
// minimum rent, the deposit, the settings it keeps for life) and its periods, so a bill can be checked.
import { money, t, when, word } from "./i18n.js";
import { party as nameParty } from "./names.js";
import { h, section, table } from "./ui.js";

const NO_BOUND = 0xffffffff; // the last tier's bound: it has none

const hours = (seconds) => `${(seconds / 3600).toLocaleString()} h`;

export function termsBlock(lease) {
  const tiers = lease.tiers.map((tier, i) => {
    const from = i === 0 ? 0 : lease.tiers[i - 1].up_to_hours;
    const to = tier.up_to_hours === NO_BOUND || i === lease.tiers.length - 1 ? "∞" : tier.up_to_hours;
    return [`${from}–${to} h`, money(tier.price_per_hour)];
  });
  return h(
    "div",
    { class: "terms", "data-testid": `terms-${lease.id}` },
    h(
      "p",
      {},
      `${t("periodLength")}: ${hours(lease.period_seconds)} × ${lease.periods}`,
      " · ",
      `${t("minimumRent")}: ${money(lease.minimum_rent)}`,
      " · ",
      `${t("leaseDeposit")}: ${money(lease.deposit)}`,
    ),
    h(
      "p",
      { class: "muted" },
      t("leaseSettings", {
        due: hours(lease.payment_term),
        billed: hours(lease.report_delay),
        grace: hours(lease.grace_period),
      }),
    ),
    table([t("tierHours"), t("pricePerHour")], tiers, `tiers-${lease.id}`),
  );
}

export function periodsTable(lease) {
  return table(
    [t("period"), t("usage"), t("rent"), t("paid"), t("due")],
    lease.period_details.map((p) => [
      p.period + 1,
      p.usage_hours.toFixed(2),
      p.billed ? money(p.rent) : "—",
      p.assigned ? `${money(p.paid)} (#${p.receivable_id})` : money(p.paid),
      when(p.due_at),
    ]),
    `periods-${lease.id}`,
  );
}

// One lease as a section: device and status, the other party (`party`: "lessor" or "lessee", the role
// shown), flags and rent due (its test id `outstandingId`), the viewer's `actions`, terms and periods.
export function leaseSection(lease, { party, outstandingId, actions }) {
  return section(
    `#${lease.id} ${lease.device_id} · ${word("LeaseStatus", lease.status)}`,
    h(
      "p",
      {},
      party ? [`${t(party)}: `, nameParty(lease[party]), " · "] : [],
      t("flags"),
      ": ",
      lease.flags.length ? lease.flags.map((f) => h("span", { class: "flag" }, word("RiskFlag", f))) : t("none"),
      " · ",
      t("outstandingRent"),
      ": ",
      h("b", { "data-testid": outstandingId }, money(lease.outstanding)),
    ),
    h("div", {}, actions),
    termsBlock(lease),
    periodsTable(lease),
  );
}

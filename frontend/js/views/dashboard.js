// The operations dashboard (运营看板): the article's applications, approval rate and NPL rate, and more.
import { api } from "../api.js";
import { money, t } from "../i18n.js";
import { h, section } from "../ui.js";

const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);

export async function render() {
  const [k, series] = await Promise.all([api("/kpis"), api("/kpis/series?bucket=day")]);
  const card = (label, value, testid) =>
    h("div", { class: "card", "data-testid": testid }, h("b", {}, value), h("span", {}, label));
  const cards = h(
    "div",
    { class: "cards" },
    card(t("applications"), k.financing_applications, "kpi-applications"),
    card(t("approvalRate"), pct(k.approval_rate), "kpi-approval-rate"),
    card(t("nplRate"), pct(k.npl_rate), "kpi-npl-rate"),
    card(t("financedVolume"), money(k.financed_volume), "kpi-financed"),
    card(t("advanceRateKpi"), pct(k.advance_rate), "kpi-advance-rate"),
    card(t("feesCharged"), money(k.fees_charged), "kpi-fees"),
    card(t("defaultsCured"), k.defaults_cured, "kpi-cured"),
    card(
      t("appToCash"),
      k.application_to_cash_seconds === 0 ? t("sameTx") : (k.application_to_cash_seconds ?? "—"),
      "kpi-cash",
    ),
    card(t("utilisation"), pct(k.credit_utilisation), "kpi-utilisation"),
    card(t("openFlags"), k.leases_with_open_flags, "kpi-flags"),
  );
  const canvas = h("canvas", { height: 90, "data-testid": "kpi-chart" });
  const labels = series.points.map((p) => new Date(p.start * 1000).toISOString().slice(0, 10));
  if (window.Chart) {
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: t("applications"), data: series.points.map((p) => p.applications) },
          { label: t("approvalRate"), data: series.points.map((p) => p.approval_rate), type: "line", yAxisID: "rate" },
        ],
      },
      options: {
        animation: false,
        scales: {
          y: { position: "left", beginAtZero: true, ticks: { precision: 0 } }, // applications: a count
          rate: { position: "right", min: 0, max: 1, ticks: { callback: (v) => `${Math.round(v * 100)}%` } },
        },
      },
    });
  }
  return h("div", {}, section(t("dashboard"), cards), section(t("series"), canvas));
}

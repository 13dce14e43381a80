// Merchant (商户): consent to scoring (EIP-712, signed in the wallet), the line with the reasons for
// its score, draw and repay any time (随借随还).
import { api } from "../api.js";
import { contract, ethers, send, sendPaying } from "../chain.js";
import { money, t, when, word } from "../i18n.js";
import { amount } from "../inputs.js";
import { field, form, h, section } from "../ui.js";

export async function render(ctx) {
  if (!ctx.wallet.account) return section(t("merchant"), h("p", {}, t("connectFirst")));
  const me = ctx.wallet.account;
  const line = await api(`/credit-lines/${me}`);
  const reasons = line.reasons?.reasons || [];
  const summary = h(
    "div",
    { class: "cards", "data-testid": "line" },
    card(t("score"), line.score),
    card(t("limit"), money(line.limit)),
    card(t("available"), money(line.available), "available"),
    card(t("drawn"), money(line.drawn), "drawn"),
    card(t("rateYear"), `${Number(line.rate_bps) / 100}%`, "rate"),
    card(t("interest"), money(line.interest), "interest"),
    card(t("status"), word("LineStatus", line.status)),
  );
  const why = h(
    "ul",
    { "data-testid": "reasons", class: "reasons" },
    reasons.map((r) => h("li", { "data-feature": r.feature }, reasonSentence(r))),
  );
  const draw = form("draw-form", [field(t("amount"), "amount", { required: true })], t("draw"), async (v) => {
    const units = amount(v.amount);
    const credit = contract("CreditLine", await ctx.signer());
    if (await send(`${t("draw")} ${v.amount}`, () => credit.draw(units))) ctx.rerender();
  });
  const repay = form("repay-form", [field(t("amount"), "amount", { required: true })], t("repay"), async (v) => {
    const units = amount(v.amount);
    const signer = await ctx.signer();
    const credit = contract("CreditLine", signer);
    if (await sendPaying(signer, credit, units, `${t("repay")} ${v.amount}`, "repay", [units])) ctx.rerender();
  });
  const owed = BigInt(line.drawn) + BigInt(line.interest);
  const repayAll = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "data-testid": "repay-all",
      disabled: owed === 0n,
      onclick: async () => {
        // what is owed now plus ten minutes' interest, as the most to take: the contract takes what is
        // owed when the transaction runs (interest accrues by the second), no more
        const margin = (BigInt(line.drawn) * BigInt(line.rate_bps) * 600n) / (365n * 86400n * 10000n) + 1n;
        const most = owed + margin;
        const signer = await ctx.signer();
        const credit = contract("CreditLine", signer);
        if (await sendPaying(signer, credit, most, `${t("repayAll")} ≈ ${money(owed)}`, "repayAll", [most]))
          ctx.rerender();
      },
    },
    `${t("repayAll")} (${money(owed)})`,
  );
  const consentError = h("p", { class: "error", role: "alert", "data-testid": "consent-error" });
  const consent = form(
    "consent-form",
    [field(t("merchantId"), "merchantId", { required: true })],
    t("sign"),
    async (v) => {
      const merchantId = v.merchantId.trim();
      // the credit oracle scores this wallet only under the id the bank bound to it: check before signing
      if (!line.merchant_id_hash || ethers.id(merchantId) !== line.merchant_id_hash) {
        consentError.textContent = t(line.merchant_id_hash ? "merchantIdMismatch" : "merchantIdNotBound");
        return;
      }
      consentError.textContent = "";
      const signer = await ctx.signer();
      // the typed data's one definition (backend/core/consent_types.py), the credit oracle's too
      const definition = await api("/credit-lines/consent");
      // ethers derives the domain's type from the domain itself
      const types = Object.fromEntries(Object.entries(definition.types).filter(([name]) => name !== "EIP712Domain"));
      const latest = await signer.provider.getBlock("latest");
      const message = {
        merchant: me,
        merchantId,
        scope: definition.scope,
        expiresAt: latest.timestamp + 365 * 86400,
        // the CreditLine's now (not when the page loaded): revoking moves it on and voids this consent
        nonce: Number(await contract("CreditLine", signer).consentNonce(me)), // one step per revocation
      };
      const signature = await signer.signTypedData(definition.domain, types, message);
      const doc = {
        ...message,
        chainId: definition.domain.chainId,
        verifyingContract: definition.domain.verifyingContract,
        signature,
      };
      const a = h("a", {
        href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 1)], { type: "application/json" })),
        download: `consent-${merchantId}.json`,
      });
      a.click();
      consentNext.textContent = t("consentNext", {
        file: `consent-${merchantId}.json`,
        expires: when(message.expiresAt),
      });
    },
  );
  const consentNext = h("p", { class: "notice", "data-testid": "consent-next" });
  const revoke = h(
    "button",
    {
      type: "button",
      "data-testid": "revoke-consent",
      onclick: async () => {
        const credit = contract("CreditLine", await ctx.signer());
        if (await send(t("revokeConsent"), () => credit.revokeConsent())) ctx.rerender();
      },
    },
    t("revokeConsent"),
  );
  // the credit oracle writes reasons only for merchants whose consent it holds and scored
  const onFile = line.reasons
    ? t("consentOnFile", { when: line.scored_at ? when(line.scored_at) : "—" })
    : t("consentNotOnFile");
  const consentNote = h(
    "div",
    { "data-testid": "consent-status" },
    h("p", { class: line.reasons ? "notice" : "banner", "data-testid": "consent-on-file" }, onFile),
    h("p", { class: "muted" }, line.merchant_id_hash ? t("merchantIdBound") : t("merchantIdNotBound")),
  );
  return h(
    "div",
    {},
    section(t("myLine"), summary, h("p", { class: "muted" }, line.scored_at ? when(line.scored_at) : "")),
    section(t("reasons"), h("p", { class: "muted" }, t("reasonsHow")), why),
    section(t("draw"), draw),
    section(t("repay"), repay, repayAll),
    section(t("consent"), consentNote, consent, consentError, consentNext, revoke),
  );
}

// One reason as a sentence in the merchant's own figures, saying which way it moved the score (the
// model's contribution is to the risk of default: positive lowers the score).
function reasonSentence(r) {
  const n = Number(r.value);
  const known = t(`reason_${r.feature}`) !== `reason_${r.feature}`;
  const args = {
    feature: r.feature,
    value: Number.isFinite(n) ? n.toLocaleString(undefined, { maximumFractionDigits: 2 }) : String(r.value),
    pct: Number.isFinite(n) ? `${(n * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })}%` : "—",
  };
  const fact = t(known ? `reason_${r.feature}` : "reason_other", args); // each sentence takes {value} or {pct}
  return t(r.contribution > 0 ? "reasonLowered" : "reasonRaised", { fact });
}

function card(label, value, testid) {
  return h("div", { class: "card", "data-testid": testid }, h("b", {}, value), h("span", {}, label));
}

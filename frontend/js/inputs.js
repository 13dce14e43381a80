// What a user types, checked in the page before any wallet prompt: each check returns the value the
// contract takes, or throws an InputError whose message is a sentence in the user's language. Forms
// and action buttons (ui.js) show that sentence next to the input and send nothing.
import { ethers } from "/vendor/ethers.min.js";
import { decimals } from "./facts.js";
import { money, t } from "./i18n.js";

export class InputError extends Error {}

const AMOUNT = /^\d+(\.\d+)?$/;

// An amount typed in DCNY ("1,000.5") as token units (a BigInt), never through a float: digits with at
// most the token's decimals, above zero (or zero with `zeroOk`), at most `max` units when given.
export function amount(text, { label = t("amount"), zeroOk = false, max } = {}) {
  const plain = String(text ?? "")
    .replace(/[,，\s]/g, "")
    .trim();
  if (!plain) throw new InputError(t("inputMissing", { label }));
  if (!AMOUNT.test(plain)) throw new InputError(t("inputNotAmount", { label, text }));
  const fraction = plain.split(".")[1] ?? "";
  if (fraction.length > decimals()) throw new InputError(t("inputDecimals", { label, decimals: decimals() }));
  const units = ethers.parseUnits(plain, decimals());
  if (units === 0n && !zeroOk) throw new InputError(t("inputZero", { label }));
  if (max !== undefined && units > max) throw new InputError(t("inputTooLarge", { label, max: money(max) }));
  return units;
}

// A whole number from `min` to `max`.
export function whole(text, { label, min = 0, max }) {
  const plain = String(text ?? "").trim();
  if (!/^\d+$/.test(plain)) throw new InputError(t("inputWhole", { label }));
  const n = Number(plain);
  if (n < min || (max !== undefined && n > max)) throw new InputError(t("inputRange", { label, min, max: max ?? "∞" }));
  return n;
}

// A percentage ("6.5" for 6.5 %) as basis points (650): at most 2 decimals, from `min` to `max` bps.
export function percent(text, { label, min = 0, max = 10_000 }) {
  const plain = String(text ?? "")
    .replace(/[%％\s]/g, "")
    .trim();
  if (!/^\d+(\.\d{1,2})?$/.test(plain)) throw new InputError(t("inputPercent", { label, text }));
  const bps = Math.round(Number(plain) * 100);
  if (bps < min || bps > max)
    throw new InputError(t("inputRange", { label, min: `${min / 100}%`, max: `${max / 100}%` }));
  return bps;
}

// A checksummed account address; never `self` (the user's own account) when given.
export function address(text, { label = t("address"), self } = {}) {
  const plain = String(text ?? "").trim();
  if (!plain) throw new InputError(t("inputMissing", { label }));
  if (!ethers.isAddress(plain)) throw new InputError(t("inputNotAddress", { label, text: plain }));
  const checksummed = ethers.getAddress(plain);
  if (self && checksummed === ethers.getAddress(self)) throw new InputError(t("inputSelf", { label }));
  return checksummed;
}

// Text the chain keeps: not blank, at most `max` bytes of UTF-8 (a Chinese character takes 3).
export function text(value, { label, max }) {
  const plain = String(value ?? "").trim();
  if (!plain) throw new InputError(t("inputMissing", { label }));
  const bytes = new TextEncoder().encode(plain).length;
  if (bytes > max) throw new InputError(t("inputTooLong", { label, bytes, max }));
  return plain;
}

// A reference kept on chain in 32 bytes: at most 31 bytes of UTF-8.
export function reference(value, { label = t("ref") } = {}) {
  return text(value, { label, max: 31 });
}

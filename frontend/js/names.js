// Who an address is, in words: the participant register's name (read from the API when a page renders,
// at most once a minute) or, for a contract of this deployment, what it is ("Financing pool"). Shown
// with the address on hover; a click copies the address.
import { api } from "./api.js";
import { manifest } from "./chain.js";
import { t } from "./i18n.js";
import { h, short } from "./ui.js";

const REFRESH_MS = 60_000;
let names = new Map(); // lower-case address → registered name
let loadedAt = 0;

// Reads the register again if it is older than a minute (or `force`, after onboarding someone).
export async function loadNames(force = false) {
  if (!force && Date.now() - loadedAt < REFRESH_MS) return;
  const found = new Map();
  for (let page = 1; ; page++) {
    const { items, total, page_size } = await api(`/participants?page_size=200&page=${page}`);
    for (const p of items) if (p.name?.trim()) found.set(p.address.toLowerCase(), p.name.trim());
    if (page * page_size >= total) break;
  }
  names = found;
  loadedAt = Date.now();
}

// The name of `address`, or null when neither the register nor the deployment knows it.
export function nameOf(address) {
  if (!address) return null;
  const key = String(address).toLowerCase();
  if (names.has(key)) return names.get(key);
  for (const [contract, record] of Object.entries(manifest?.contracts ?? {}))
    if (record.address.toLowerCase() === key) return t(`contract${contract}`);
  return null;
}

// `address` as its name (or shortened, when unknown): the whole address on hover; a click copies it.
export function party(address) {
  if (!address) return "";
  return h(
    "span",
    {
      class: "party",
      title: `${address} (${t("clickToCopy")})`,
      "data-address": address,
      onclick: () => navigator.clipboard?.writeText(address),
    },
    nameOf(address) ?? short(address),
  );
}

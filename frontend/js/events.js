// A chain event's arguments in words: amounts in DCNY, times as dates, addresses as names, statuses,
// reasons, roles and flags in the user's language, short texts kept as bytes32 as text. The auditor's
// table and a receivable's timeline both show events this way.
import { enumName, flagBits } from "./facts.js";
import { money, when, word } from "./i18n.js";
import { party } from "./names.js";
import { h } from "./ui.js";

// How an argument reads, by its name in the events (one table for every contract's events).
const MONEY = new Set([
  "amount",
  "advance",
  "discount",
  "fee",
  "limit",
  "outstanding",
  "exposure",
  "drawn",
  "rent",
  "deposit",
  "paid",
  "recovered",
  "writtenOff",
  "requested",
  "current",
  "interest",
  "principal",
  "interestPaid",
  "principalPaid",
  "balance",
  "depositReturned",
  "depositToLessee",
  "depositToLessor",
  "maxLimit",
  "maxLimitStep",
  "value",
]);
const DATES = new Set(["dueDate", "asOf", "start", "acceptSchedule", "effectSchedule"]); // and every "…At"
const PERCENT = new Set(["rateBps", "advanceRateBps", "feeBps"]);

function flagNames(kind, bits) {
  const set = flagBits(kind).filter(([, bit]) => BigInt(bits) & BigInt(bit));
  return set.length ? set.map(([name]) => word(kind, name)).join(", ") : "—";
}

function readable(event, name, value) {
  if (typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value)) return party(value);
  if (MONEY.has(name)) return money(value);
  if (DATES.has(name) || name.endsWith("At")) return when(value);
  if (PERCENT.has(name)) return `${Number(value) / 100}%`;
  if (event === "RiskFlagsChanged" && (name === "flags" || name === "previous")) return flagNames("RiskFlag", value);
  if (name === "roles" || name === "previousRoles" || name === "newRoles") return flagNames("Role", value);
  if (name === "reason" && event === "FinancingRefused") return word("Refusal", enumName("Refusal", value));
  if (name === "reason" && event === "ReportItemIgnored")
    return word("IgnoredReason", enumName("IgnoredReason", value));
  if (name === "usage") return `${Number(value) / 100} h`; // hundredths of an hour
  if (typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value)) {
    const text = bytes32Text(value); // a short reason or reference kept as bytes32
    if (text) return text;
  }
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

function bytes32Text(hex) {
  const bytes = hex
    .slice(2)
    .match(/../g)
    .map((b) => Number.parseInt(b, 16));
  const end = bytes.indexOf(0);
  const used = bytes.slice(0, end < 0 ? 32 : end);
  if (!used.length || bytes.slice(used.length).some(Boolean)) return null;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(used));
    return /^[\p{L}\p{N}\p{P}\p{Zs}+]+$/u.test(text) ? text : null;
  } catch {
    return null;
  }
}

export function argsCell(e) {
  return h(
    "dl",
    { class: "args" },
    Object.entries(e.args).flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, readable(e.event, name, value))]),
  );
}

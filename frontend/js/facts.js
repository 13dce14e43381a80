// The contracts' facts, from the deployment manifest (generated from the Solidity sources by
// backend/core/facts.py): enum names by their uint8, role and risk-flag bits, the settlement token's
// decimals. The frontend keeps no copy of any of them.
let facts = null;

export function setFacts(value) {
  if (!value?.enums || !value?.flags || !value?.constants)
    throw new Error("The deployment manifest carries no contract facts: redeploy with `yinqi deploy`.");
  facts = value;
}

// The Solidity name of `value` in enum `name`: enumName("Refusal", 3) is "NoFacility".
export function enumName(name, value) {
  const names = facts.enums[name];
  if (!names) throw new Error(`The contracts have no enum ${name}.`);
  return names[Number(value)] ?? String(value);
}

// The bits of a flag set ("Role", "RiskFlag") as [name, bit] pairs, lowest bit first.
export function flagBits(name) {
  const bits = facts.flags[name];
  if (!bits) throw new Error(`The contracts have no flags ${name}.`);
  return Object.entries(bits).sort((a, b) => a[1] - b[1]);
}

// The settlement token's decimals (SETTLEMENT_DECIMALS in the contracts).
export const decimals = () => facts.constants.SETTLEMENT_DECIMALS;

// Contracts from the deployment manifest (never pasted addresses or ABIs) and sending a transaction
// with its pending / confirmed / failed states, reverts explained as sentences.
import { ethers } from "/vendor/ethers.min.js";
import { api } from "./api.js";
import { setFacts } from "./facts.js";
import { explainError, money, t } from "./i18n.js";
import { InputError } from "./inputs.js";

export let manifest = null;
let errorsInterface = null;

export async function loadManifest() {
  manifest = await api("/manifest");
  setFacts(manifest.facts);
  const errors = new Map();
  for (const { abi } of Object.values(manifest.contracts)) {
    for (const item of abi)
      if (item.type === "error")
        errors.set(ethers.id(`${item.name}(${item.inputs.map((i) => i.type).join(",")})`), item);
  }
  errorsInterface = new ethers.Interface([...errors.values()]);
  return manifest;
}

// A wallet's provider whose gas estimates leave the margin the backend's own sends leave
// (backend/core/chain.py, served in the manifest): the node estimates against the latest block, and a
// second later the same call may cost more (a slot holding a timestamp now changes), so an exact
// estimate can run out of gas once mined. Unused gas is not paid.
export class MarginedProvider extends ethers.BrowserProvider {
  async estimateGas(tx) {
    const estimate = await super.estimateGas(tx);
    const { margin_percent: margin, max_tx_gas: cap } = manifest.gas;
    const padded = (estimate * BigInt(margin)) / 100n;
    const ceiling = estimate > BigInt(cap) ? estimate : BigInt(cap);
    return padded < ceiling ? padded : ceiling;
  }
}

export function contract(name, runner) {
  const record = manifest.contracts[name];
  return new ethers.Contract(record.address, record.abi, runner);
}

// The decoded custom error of a failed call, as a sentence; or the wallet's own message.
export function explain(err) {
  if (err?.code === "ACTION_REJECTED" || err?.code === 4001 || err?.info?.error?.code === 4001) return t("rejected");
  if (err?.revert?.name) return explainError(err.revert.name, namedArgs(err.revert));
  const data = findData(err);
  if (data && data !== "0x") {
    try {
      const parsed = errorsInterface.parseError(data);
      if (parsed) return explainError(parsed.name, namedArgs(parsed));
    } catch {
      /* not one of ours */
    }
  }
  return err?.shortMessage || err?.message || String(err);
}

function namedArgs(decoded) {
  const out = {};
  const inputs = decoded.fragment?.inputs || [];
  inputs.forEach((input, i) => {
    out[input.name] = decoded.args[i];
  });
  return out;
}

function findData(err) {
  for (const candidate of [err?.data, err?.info?.error?.data, err?.error?.data, err?.info?.error?.data?.data]) {
    if (typeof candidate === "string" && candidate.startsWith("0x")) return candidate;
  }
  return null;
}

// Send one transaction, showing its state in the transactions panel; the receipt, or null if it failed.
export async function send(label, build) {
  const item = document.createElement("div");
  item.className = "tx";
  item.dataset.testid = "tx";
  const state = document.createElement("span");
  state.className = "state";
  const text = document.createElement("div");
  const dismiss = document.createElement("button");
  dismiss.className = "dismiss";
  dismiss.dataset.testid = "dismiss";
  dismiss.setAttribute("aria-label", t("dismiss"));
  dismiss.textContent = "×";
  dismiss.addEventListener("click", () => item.remove());
  item.append(state, document.createTextNode(` ${label}`), text, dismiss);
  document.getElementById("txs").prepend(item);
  const set = (cls, message) => {
    item.className = `tx ${cls}`;
    item.dataset.state = cls;
    state.textContent = t(cls);
    text.textContent = message || "";
  };
  set("pending");
  try {
    const tx = await build();
    set("pending", tx.hash);
    const receipt = await tx.wait();
    await indexed(receipt.blockNumber); // lists come from the index: let it see this block first
    set(receipt.status === 1 ? "confirmed" : "failed", `#${receipt.blockNumber} ${receipt.hash.slice(0, 18)}…`);
    const panel = document.getElementById("txs");
    if (receipt.status === 1) panel.dataset.confirmed = String(Number(panel.dataset.confirmed || 0) + 1); // this visit
    setTimeout(() => item.remove(), 15000);
    return receipt.status === 1 ? receipt : null;
  } catch (err) {
    set("failed", explain(err));
    return null;
  }
}

const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
const PERMIT_SECONDS = 1800n; // a permit signed now is good for half an hour

// Pays `amount` of the settlement token into `target` (a contract with SelfPermit) by its `method(...args)`,
// with no approval left standing: the user signs an EIP-2612 permit for exactly `amount` (a signature,
// not a transaction), and one transaction sends `multicall([selfPermit, method])`. The wallet estimates
// that transaction before sending it, so a call that would fail is explained and nothing is sent; an
// allowance exists only inside a payment that succeeds. The balance is checked in the page first (an
// InputError). The receipt, or null if it failed.
export async function sendPaying(signer, target, amount, label, method, args) {
  const token = contract("SettlementToken", signer);
  const owner = await signer.getAddress();
  const balance = await token.balanceOf(owner);
  if (balance < amount) throw new InputError(t("inputBalance", { amount: money(amount), balance: money(balance) }));
  const call = target.interface.encodeFunctionData(method, args);
  if (amount === 0n) return send(label, () => target[method](...args));
  return send(label, async () => {
    const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
    const nonce = await token.nonces(owner);
    const deadline = BigInt((await signer.provider.getBlock("latest")).timestamp) + PERMIT_SECONDS;
    const message = { owner, spender: target.target, value: amount, nonce, deadline };
    const domain = { name, version, chainId, verifyingContract };
    const sig = ethers.Signature.from(await signer.signTypedData(domain, PERMIT_TYPES, message));
    const permit = target.interface.encodeFunctionData("selfPermit", [amount, deadline, sig.v, sig.r, sig.s]);
    return target.multicall([permit, call]);
  });
}

async function indexed(block, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await api("/health")).indexed_block >= block) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export { ethers };

// The user's own wallet: EIP-6963 discovery (any number of wallets announce themselves), EIP-1193
// requests, and the chain check with an offer to switch to (or add) Yinqi's chain. The page never
// sees a key: every transaction is signed in the wallet.
import { ethers } from "/vendor/ethers.min.js";
import { MarginedProvider } from "./chain.js";

const announced = new Map();
window.addEventListener("eip6963:announceProvider", (event) => {
  announced.set(event.detail.info.uuid, event.detail);
});
window.dispatchEvent(new Event("eip6963:requestProvider"));

export function providers() {
  const found = [...announced.values()];
  if (!found.length && window.ethereum)
    found.push({ info: { name: "Browser wallet", uuid: "legacy" }, provider: window.ethereum });
  return found;
}

export class Wallet {
  constructor(chainId, rpcUrl) {
    this.chainId = chainId;
    this.rpcUrl = rpcUrl;
    this.eip1193 = null;
    this.account = null;
    this.listeners = [];
  }

  onChange(fn) {
    this.listeners.push(fn);
  }
  changed() {
    for (const fn of this.listeners) fn(this);
  }

  async connect() {
    await new Promise((r) => setTimeout(r, 50)); // let wallets answer the discovery request
    const [first] = providers();
    if (!first) throw new Error("noWallet");
    this.eip1193 = first.provider;
    const accounts = await this.eip1193.request({ method: "eth_requestAccounts" });
    this.account = ethers.getAddress(accounts[0]);
    this.eip1193.on?.("accountsChanged", (list) => {
      this.account = list[0] ? ethers.getAddress(list[0]) : null;
      this.changed();
    });
    this.eip1193.on?.("chainChanged", () => this.changed());
    this.changed();
    return this.account;
  }

  async currentChain() {
    return Number(await this.eip1193.request({ method: "eth_chainId" }));
  }

  async switchChain() {
    const chainId = ethers.toQuantity(this.chainId);
    try {
      await this.eip1193.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (err) {
      if (err.code !== 4902) throw err; // 4902: the wallet does not know the chain yet
      await this.eip1193.request({
        method: "wallet_addEthereumChain",
        params: [
          {
            chainId,
            chainName: "Yinqi local",
            rpcUrls: [this.rpcUrl],
            nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          },
        ],
      });
    }
    this.changed();
  }

  async signer() {
    if (!this.eip1193) throw new Error("connectFirst");
    return new MarginedProvider(this.eip1193).getSigner(this.account);
  }
}

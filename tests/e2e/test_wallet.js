// A test wallet injected into the page as an EIP-1193 provider (announced over EIP-6963) that signs
// with one local dev key through ethers: the UI's real signing path runs, as with MetaMask.
// Placeholders are filled by the test: KEY (a public anvil dev key), RPC, CHAIN.
(() => {
  const KEY = "__KEY__", RPC = "__RPC__", CHAIN = __CHAIN__;
  let current = __START_CHAIN__; // the chain the wallet is on when the page opens (the test may start it elsewhere)
  let ready;
  const load = () => (ready ||= import("/vendor/ethers.min.js").then(({ ethers }) => {
    const provider = new ethers.JsonRpcProvider(RPC, CHAIN, { staticNetwork: true, cacheTimeout: -1 });
    return { ethers, signer: new ethers.Wallet(KEY, provider) };
  }));
  async function rpc(method, params) {
    const response = await fetch(RPC, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), body.error); // code, message, data
    return body.result;
  }
  const listeners = {};
  const provider = {
    isYinqiTestWallet: true,
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    removeListener() {},
    async request({ method, params = [] }) {
      const { ethers, signer } = await load();
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return [signer.address];
        case "eth_chainId":
          return ethers.toQuantity(current);
        case "wallet_switchEthereumChain":
          if (Number(params[0].chainId) !== CHAIN) throw Object.assign(new Error("Unrecognized chain"), { code: 4902 });
          current = CHAIN;
          for (const fn of listeners.chainChanged || []) fn(ethers.toQuantity(current));
          return null;
        case "wallet_addEthereumChain":
          return null;
        case "eth_sendTransaction": {
          const tx = params[0];
          const sent = await signer.sendTransaction({ to: tx.to, data: tx.data, value: tx.value || 0, gasLimit: tx.gas || undefined });
          return sent.hash;
        }
        case "eth_signTypedData_v4": {
          const { domain, types, message } = JSON.parse(params[1]);
          delete types.EIP712Domain;
          return signer.signTypedData(domain, types, message);
        }
        default:
          return rpc(method, params);
      }
    },
  };
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", {
    detail: Object.freeze({ info: { uuid: "yinqi-test-wallet", name: "Yinqi test wallet", icon: "data:,", rdns: "dev.yinqi.test" }, provider }),
  }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();

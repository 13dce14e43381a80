// Yinqi's web UI: one page, a tab per role, the user's own wallet signing every action.
import { api } from "./api.js";
import { loadManifest, manifest } from "./chain.js";
import { getLang, setLang, t } from "./i18n.js";
import { h } from "./ui.js";
import { Wallet } from "./wallet.js";

const VIEWS = ["dashboard", "core", "supplier", "bank", "merchant", "lessor", "lessee", "auditor"];
const ROLE_OF_VIEW = {
  core: "CORE_ENTERPRISE",
  supplier: "SUPPLIER",
  lessor: "SUPPLIER", // a lessor offers leases as a supplier of equipment
  bank: "BANK",
  merchant: "MERCHANT",
  lessee: "LESSEE",
};
let wallet;
let myRoles = [];

async function main() {
  setLang(getLang());
  await loadManifest();
  wallet = new Wallet(manifest.chain_id, manifest.rpc_url);
  wallet.onChange(async () => {
    await refreshIdentity();
    render();
  });
  document.getElementById("connect").addEventListener("click", connect);
  document.getElementById("lang").addEventListener("click", () => {
    setLang(getLang() === "en" ? "zh" : "en");
    render();
  });
  window.addEventListener("hashchange", render);
  render();
}

async function connect() {
  try {
    await wallet.connect();
  } catch (err) {
    banner(t(err.message === "noWallet" ? "noWallet" : "connectFirst"));
  }
}

async function refreshIdentity() {
  myRoles = [];
  if (!wallet.account) return;
  try {
    myRoles = (await api(`/participants/${wallet.account}`)).roles;
  } catch {
    /* not onboarded: auditor view only */
  }
}

function banner(message, action) {
  const view = document.getElementById("view");
  view.prepend(h("div", { class: "banner", "data-testid": "banner" }, message, action || ""));
}

async function render() {
  const current = location.hash.replace("#/", "") || "dashboard";
  const name = VIEWS.includes(current) ? current : "dashboard";
  document.getElementById("lang").textContent = getLang() === "en" ? "中文" : "EN";
  document.getElementById("connect").textContent = wallet.account ? t("connected") : t("connect");
  document.getElementById("account").textContent = wallet.account || "";
  const tabs = document.getElementById("tabs");
  tabs.replaceChildren(
    ...VIEWS.map((v) =>
      h(
        "a",
        {
          href: `#/${v}`,
          "data-testid": `tab-${v}`,
          class: [v === name ? "active" : "", myRoles.includes(ROLE_OF_VIEW[v]) ? "mine" : ""].join(" "),
        },
        t(v),
      ),
    ),
  );
  const view = document.getElementById("view");
  view.replaceChildren(h("p", { class: "muted" }, "…"));
  const module = await import(`./views/${name}.js`);
  const ctx = { wallet, roles: myRoles, rerender: render, signer: () => wallet.signer() };
  const content = await module.render(ctx).catch((err) => h("p", { class: "banner" }, err.message));
  view.replaceChildren(content);
  if (wallet.account) {
    const have = await wallet.currentChain();
    if (have !== manifest.chain_id) {
      banner(
        t("wrongChain", { have, want: manifest.chain_id }),
        h("button", { "data-testid": "switch-chain", onclick: () => wallet.switchChain() }, t("switchChain")),
      );
    }
  }
}

main().catch((err) => banner(err.message)); // e.g. a manifest without the contracts' facts

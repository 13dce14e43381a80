// Yinqi's web UI: one page, a tab per role, the user's own wallet signing every action.
import { api } from "./api.js";
import { loadManifest, manifest } from "./chain.js";
import { getLang, setLang, t, word } from "./i18n.js";
import { loadNames } from "./names.js";
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
const PAGES = ["receivable"]; // reached by links (#/receivable/6), not tabs
let wallet;
let myRoles = [];

let ready; // the manifest and the wallet: a click while the page loads waits for them, never gets lost

async function main() {
  setLang(getLang());
  document.getElementById("connect").addEventListener("click", connect);
  document.getElementById("lang").addEventListener("click", () => {
    setLang(getLang() === "en" ? "zh" : "en");
    ready.then(render);
  });
  ready = loadManifest().then(() => {
    wallet = new Wallet(manifest.chain_id, manifest.rpc_url);
    wallet.onChange(async () => {
      await refreshIdentity();
      render();
    });
  });
  await ready;
  window.addEventListener("hashchange", render);
  render();
}

async function connect() {
  await ready;
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

// A wallet not onboarded in the view's role gets no forms, only what to do about it.
function notOnboarded(view, role) {
  return h(
    "section",
    {},
    h("h2", {}, t(view)),
    h("p", { class: "banner", "data-testid": "not-onboarded" }, t("notOnboarded", { role: word("Role", role) })),
  );
}

// What Yinqi is, for a first visit; closed for good by its button.
function welcome() {
  const box = h(
    "section",
    { class: "welcome", "data-testid": "welcome" },
    h("h2", {}, t("welcomeTitle")),
    h("p", {}, t("welcomeText")),
    h(
      "ul",
      {},
      ["welcomeReceivables", "welcomeCredit", "welcomeLeasing"].map((k) => h("li", {}, t(k))),
    ),
    h("p", {}, t("welcomeHow")),
  );
  box.append(
    h(
      "button",
      {
        "data-testid": "welcome-close",
        onclick: () => {
          localStorage.setItem("yinqi.welcomed", "1");
          box.remove();
        },
      },
      t("welcomeClose"),
    ),
  );
  return box;
}

function banner(message, action) {
  const view = document.getElementById("view");
  view.prepend(h("div", { class: "banner", "data-testid": "banner" }, message, action || ""));
}

async function render() {
  const [current, param] = (location.hash.replace("#/", "") || "dashboard").split("/");
  const name = VIEWS.includes(current) || PAGES.includes(current) ? current : "dashboard";
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
  await loadNames().catch(() => {}); // names are a nicety: a page still renders with addresses
  const ctx = { wallet, roles: myRoles, rerender: render, signer: () => wallet.signer(), param };
  const role = ROLE_OF_VIEW[name];
  const outsider = wallet.account && role && role !== "BANK" && !myRoles.includes(role); // bank: by contract roles
  const content = outsider
    ? notOnboarded(name, role)
    : await module.render(ctx).catch((err) => h("p", { class: "banner" }, err.message));
  view.replaceChildren(content);
  if (name === "dashboard" && !localStorage.getItem("yinqi.welcomed")) view.prepend(welcome());
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

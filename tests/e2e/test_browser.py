"""End to end in Debian's chromium (headless, Playwright): the real API server, a real anvil seeded
like the demo, and per role a test wallet injected as an EIP-1193 provider that signs with that
role's dev key through ethers — the UI's real signing path. Screenshots go to tests/artifacts/e2e/."""

import csv
import io
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from backend.core.codec import credit_payload, lease_payload, pack_credit_word, pack_lease_word
from backend.core.consent_types import merchant_id_hash
from backend.core.dev_accounts import dev_account
from backend.core.enums import LeaseStatus, ReceivableStatus, Role
from backend.core.feeds import CREDIT_FEED, IOT_FEED
from backend.core.money import UNIT
from backend.demo.seeding import BANK, CORE, LESSEE, LESSOR, TIER1, TIER2
from backend.services.leasing import LeaseService
from backend.services.participants import bind_merchant_id
from oracles.credit.consent import ConsentError, from_document, verify
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox
from tests.conftest import free_port, seeded_chain

playwright_api = pytest.importorskip("playwright.sync_api")

YINQI = str(Path(sys.executable).with_name("yinqi"))
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e"
WALLET_JS = (Path(__file__).with_name("test_wallet.js")).read_text()
MERCHANT = dev_account(5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """anvil + contracts + the demo's seeds + a lease with a billed period + `yinqi api`."""
    tmp = tmp_path_factory.mktemp("e2e")
    with seeded_chain(tmp, credit=True) as (settings, w3, manifest):
        leases = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, ["EXC-001"])
        w3.provider.make_request("evm_increaseTime", [3 * 86_400])  # past period 1 and its report window
        w3.provider.make_request("evm_mine", [])
        from backend.core.chain import send

        lease = manifest.contract(w3, "EquipmentLease")
        send(w3, BANK, lease.functions.bill(leases["EXC-001"]), decoder=manifest.revert_decoder())
        outbox = Outbox(tmp / "iot-outbox.sqlite")  # the IoT oracle's operator flags the device's geofence
        ReportPublisher(w3, manifest, dev_account(8), outbox, IOT_FEED).publish(
            lease_payload([pack_lease_word(leases["EXC-001"], 3, 0, 2)]),
            {"flags:EXC-001:1": "2"},
            as_of=w3.eth.get_block("latest")["timestamp"],
        )
        outbox.close()
        with api_server(settings, tmp) as base:
            yield base, w3, manifest, leases


@contextmanager
def api_server(settings, tmp):
    """`yinqi api` on a free port for the chain of `settings`; its base URL. Stops gracefully."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YINQI_")}
    env.update(
        YINQI_HOME=str(settings.home),
        YINQI_DEPLOYMENTS=str(settings.deployments_dir),
        YINQI_CHAIN_PORT=str(settings.chain_port),
    )
    log = (tmp / "api.log").open("w")
    server = subprocess.Popen([YINQI, "api", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        server.kill()
        raise AssertionError((tmp / "api.log").read_text())
    try:
        yield base
    finally:
        server.terminate()
        assert server.wait(30) == 0  # graceful shutdown
        log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )  # no calls home: the network here is closed
        yield instance
        instance.close()


def wallet_page(browser, base, account=None, lang="en", start_chain=31337, viewport=None):
    """A fresh browser page, with the test wallet for `account` injected (none: no wallet at all)."""
    context = browser.new_context(accept_downloads=True, **({"viewport": viewport} if viewport else {}))
    context.add_init_script(f"localStorage.setItem('yinqi.lang', '{lang}')")
    if account is not None:
        script = WALLET_JS.replace("__KEY__", "0x" + account.key.hex().removeprefix("0x"))
        script = (
            script.replace("__RPC__", requests.get(f"{base}/api/manifest", timeout=5).json()["rpc_url"])
            .replace("__CHAIN__", "31337")
            .replace("__START_CHAIN__", str(start_chain))
        )
        context.add_init_script(script)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def open_as(page, base, view):
    page.goto(f"{base}/#/{view}")
    page.get_by_test_id("connect").click()
    page.wait_for_function("document.getElementById('account').textContent.startsWith('0x')")
    page.get_by_test_id("view").locator("section").first.wait_for()


def wait_indexed(base):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        health = requests.get(f"{base}/api/health", timeout=5).json()
        if health["indexed_block"] >= health["latest_block"]:
            return
        time.sleep(0.2)
    raise AssertionError("the index did not catch up")


def settle(page, count):
    """Wait until `count` transactions are confirmed since the page loaded (the panel counts them; a
    confirmed notice leaves the panel after 15 s); fail on any failure."""
    page.wait_for_function(
        f"Number(document.getElementById('txs').dataset.confirmed || 0) >= {count}"
        " || document.querySelector('[data-testid=tx][data-state=failed]')",
        timeout=30_000,
    )
    failed = page.locator("[data-testid=tx][data-state=failed]")
    assert failed.count() == 0, failed.first.inner_text()


def issue_in_ui(page, supplier, amount, ref, days="30", click=True):
    """The core enterprise's issue form, filled in (and submitted, unless `click` is False)."""
    form = page.get_by_test_id("issue-form")
    form.locator("select[name=supplier]").select_option(supplier)
    form.locator("input[name=amount]").fill(amount)
    form.locator("input[name=days]").fill(days)
    form.locator("input[name=ref]").fill(ref)
    if click:
        form.locator("button[type=submit]").click()
    return form


def shot(page, name):
    page.get_by_test_id("view").locator("section").first.wait_for()  # after any re-render
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_dashboard_shows_the_kpis_and_switches_language(stack, browser):
    base, *_ = stack
    page = wallet_page(browser, base, lang="zh")
    page.goto(base)
    page.get_by_test_id("kpi-applications").wait_for()
    assert page.get_by_test_id("kpi-applications").locator("b").inner_text() == "2"
    assert page.get_by_test_id("kpi-approval-rate").locator("b").inner_text() == "100.0%"
    assert "运营看板" in page.get_by_test_id("tab-dashboard").inner_text()
    page.get_by_test_id("lang").click()
    page.wait_for_function("document.querySelector('[data-testid=tab-dashboard]').textContent === 'Dashboard'")
    shot(page, "dashboard")
    assert not page.errors


def test_issue_split_finance_repay(stack, browser):
    base, w3, manifest, _ = stack
    receivables = manifest.contract(w3, "Receivables")
    first_new = receivables.functions.nextId().call()

    core = wallet_page(browser, base, CORE)
    open_as(core, base, "core")
    issue_in_ui(core, TIER1.address, "1000", "E2E-PO-1")
    settle(core, 1)
    assert receivables.functions.ownerOf(first_new).call() == TIER1.address
    # the same reference again: the revert comes back as a sentence, not a hex blob
    issue_in_ui(core, TIER1.address, "5", "E2E-PO-1")
    failed = core.locator("[data-testid=tx][data-state=failed]")
    failed.wait_for(timeout=30_000)
    assert "You have already used this reference." in failed.inner_text()
    shot(core, "core-issue")

    wait_indexed(base)
    supplier = wallet_page(browser, base, TIER1)
    open_as(supplier, base, "supplier")
    supplier.get_by_test_id(f"split-{first_new}").click()  # a row per part: whom to (by name), how much
    supplier.get_by_test_id(f"split-to-{first_new}-0").select_option(TIER1.address)
    supplier.get_by_test_id(f"split-amount-{first_new}-0").fill("600")
    tier2 = "Hengtong Castings 恒通铸造 (tier-2 supplier)"  # picked by name
    supplier.get_by_test_id(f"split-to-{first_new}-1").select_option(label=tier2)
    supplier.get_by_test_id(f"split-amount-{first_new}-1").fill("400")
    supplier.get_by_test_id(f"split-go-{first_new}").click()
    settle(supplier, 1)
    mine, theirs = first_new + 1, first_new + 2
    assert receivables.functions.ownerOf(theirs).call() == TIER2.address
    wait_indexed(base)
    page = wallet_page(browser, base)  # a receivable's page: anyone may read it, linked from every table
    page.goto(f"{base}/#/receivable/{theirs}")
    lineage = page.get_by_test_id("lineage")
    lineage.locator(f"[data-testid=receivable-link-{first_new}]").wait_for()  # the original, at the root
    text = lineage.inner_text()
    assert f"#{mine}" in text and f"#{theirs}" in text and "Hengtong Castings" in text and "split into parts" in text
    assert lineage.locator(".current").inner_text().startswith(f"#{theirs}")
    assert "ReceivablePartCreated" in page.get_by_test_id("receivable-timeline").inner_text()
    lineage.locator(f"[data-testid=receivable-link-{first_new}]").click()  # up the tree
    page.get_by_test_id("receivable-timeline").filter(has_text="ReceivableSplit").wait_for()
    assert not page.errors
    wait_indexed(base)
    supplier.reload()
    supplier.get_by_test_id("connect").click()
    supplier.get_by_test_id(f"finance-{mine}").click()  # the quote first, then a second click applies
    quote = supplier.get_by_test_id(f"quote-{mine}").inner_text()
    assert "Advance" in quote and "of 600 DCNY" in quote and "a year for" in quote
    supplier.get_by_test_id(f"apply-{mine}").click()
    settle(supplier, 1)
    supplier.get_by_test_id("finance-result").wait_for()
    supplier.wait_for_function(
        "document.querySelector('[data-testid=finance-result]').textContent.includes('Advance received')"
    )
    assert receivables.functions.ownerOf(mine).call() == manifest.record("FinancingPool").address
    shot(supplier, "supplier-finance")

    wait_indexed(base)
    core.reload()
    core.get_by_test_id("connect").click()
    token = manifest.contract(w3, "SettlementToken")
    owed = core.get_by_test_id("owed-table").inner_text()  # holders by name, never as hex
    assert "Bank's financing pool" in owed and "Hengtong Castings" in owed and "0x" not in owed
    pool = core.get_by_test_id("owed-table").get_by_text("Bank's financing pool").first
    assert manifest.record("FinancingPool").address in pool.get_attribute("title")  # the address on hover
    core.get_by_test_id(f"repay-amount-{theirs}").fill("150")  # part first: the amount is the core's to choose
    core.get_by_test_id(f"repay-{theirs}").click()
    settle(core, 1)  # a signed permit and one transaction: no approval first
    assert receivables.functions.outstandingOf(theirs).call() == 250 * UNIT
    core.get_by_test_id(f"repay-amount-{theirs}").fill("250.01")
    core.get_by_test_id(f"repay-{theirs}").click()
    core.get_by_text("at most 250 DCNY").wait_for()  # more than is owed: said in the page, nothing sent
    core.get_by_test_id(f"repay-amount-{theirs}").fill("250")
    core.get_by_test_id(f"repay-{theirs}").click()
    settle(core, 2)
    assert receivables.functions.receivable(theirs).call().status == ReceivableStatus.SETTLED
    assert token.functions.allowance(CORE.address, receivables.address).call() == 0  # no approval left standing
    shot(core, "core-repay")

    # beyond 2^53 micro-units (~9 bn DCNY) JavaScript numbers round: the amount stays exact on every page
    huge = receivables.functions.nextId().call()
    issue_in_ui(core, TIER1.address, "99,999,999,999.000001", "E2E-HUGE")
    settle(core, 3)
    assert receivables.functions.receivable(huge).call().amount == 99_999_999_999 * UNIT + 1
    wait_indexed(base)
    for page in (core, supplier):
        page.reload()
        page.get_by_test_id("connect").click()
        page.get_by_text("99,999,999,999").first.wait_for()
        assert "unexpected error" not in page.get_by_test_id("view").inner_text()
    assert not core.errors and not supplier.errors


def test_bad_input_is_refused_in_the_page_in_the_users_language_before_any_wallet_prompt(stack, browser):
    """Each bad value gets a sentence next to the button and sends nothing (no transaction is started);
    a double click on a good form sends once."""
    base, *_ = stack
    core = wallet_page(browser, base, CORE)
    open_as(core, base, "core")
    cases = [  # (supplier, amount, reference) → what the page says
        ((TIER1.address, "-500", "E2E-BAD-1"), "a number in DCNY, such as 1,000.50, is needed; “-500” is not"),
        ((TIER1.address, "1.1234567", "E2E-BAD-2"), "at most 6 decimal places"),
        ((TIER1.address, "abc", "E2E-BAD-3"), "“abc” is not one"),
        ((TIER1.address, "0", "E2E-BAD-4"), "must be more than zero"),
        ((TIER1.address, "10", "R" * 32), "32 bytes long; the chain keeps at most 31"),
        ((TIER1.address, "10", "应收账款融资测试参考编号一"), "39 bytes long"),
        (("", "10", "E2E-BAD-5"), "Supplier: required"),  # none chosen: the core itself is never offered
    ]
    for (supplier, amount, ref), said in cases:
        issue_in_ui(core, supplier, amount, ref)
        core.wait_for_function(
            "(said) => document.querySelector('[data-testid=issue-form] [data-testid=input-error]')"
            "?.textContent.includes(said)",
            arg=said,
        )
    assert core.locator("[data-testid=tx]").count() == 0  # no wallet was asked

    supplier = wallet_page(browser, base, TIER1, lang="zh")
    open_as(supplier, base, "supplier")
    rid = supplier.locator("[data-testid^=transfer-to-]").first.get_attribute("data-testid").split("-")[-1]
    supplier.get_by_test_id(f"split-{rid}").click()
    supplier.get_by_test_id(f"split-to-{rid}-0").select_option(TIER2.address)
    supplier.get_by_test_id(f"split-amount-{rid}-0").fill("1")
    supplier.get_by_test_id(f"split-go-{rid}").click()
    supplier.get_by_text("转给：必填").wait_for()  # the second part names nobody
    supplier.get_by_test_id(f"split-to-{rid}-1").select_option(TIER2.address)
    supplier.get_by_test_id(f"split-amount-{rid}-1").fill("1")
    supplier.get_by_test_id(f"split-go-{rid}").click()
    supplier.get_by_text("各份合计 2 DCNY，须等于应收账款全额").wait_for()
    supplier.get_by_test_id(f"transfer-{rid}").click()
    supplier.get_by_text("转给：必填").first.wait_for()
    assert supplier.locator("[data-testid=tx]").count() == 0

    issue_in_ui(core, TIER1.address, "7", "E2E-ONCE", click=False).locator("button[type=submit]").dblclick()
    settle(core, 1)
    assert core.locator("[data-testid=tx]").count() == 1  # the second click found the button busy
    assert not core.get_by_test_id("issue-form").get_by_test_id("input-error").is_visible()
    assert not (core.errors or supplier.errors)


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("view", "account"),
    [("dashboard", None), ("core", CORE), ("supplier", TIER1), ("bank", BANK), ("lessee", LESSEE), ("auditor", BANK)],
)
def test_every_view_fits_a_phone(stack, browser, view, account):
    """At 390 x 844: nothing scrolls sideways, the header leaves the screen to the page, the language
    toggle and the account are on screen, and tables read as cards."""
    base, *_ = stack
    page = wallet_page(browser, base, account, lang="zh", viewport=PHONE)
    if account is None:
        page.goto(f"{base}/#/{view}")
        page.get_by_test_id("view").locator("section, .cards").first.wait_for()
    else:
        open_as(page, base, view)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391)"
        ".slice(-3).map((e) => e.outerHTML.slice(0, 120))"
    )
    assert width <= PHONE["width"], f"{view} scrolls sideways: {width} px, past the edge: {wide}"
    assert page.evaluate("document.querySelector('header').getBoundingClientRect().height") <= 160
    for testid in ("lang", "connect"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], testid
    shot(page, f"phone-{view}")
    assert not page.errors


def test_the_bank_page_offers_only_what_the_wallets_roles_allow(stack, browser):
    """Bank staff see the pool's money and their own; a supplier opening the bank tab is told the page
    is not for it and gets no form (a deposit there used to send a real approval, then fail)."""
    base, w3, manifest, _ = stack
    bank = wallet_page(browser, base, BANK)
    open_as(bank, base, "bank")
    available = manifest.contract(w3, "FinancingPool").functions.available().call()
    assert bank.get_by_test_id("pool-available").inner_text().replace(",", "").startswith(str(available // UNIT))
    assert bank.get_by_test_id("deposit-form").count() == 1 and bank.get_by_test_id("debtors-table").count() == 1
    onboard = bank.get_by_test_id("onboard-form")
    onboard.locator("input[name=address]").fill(dev_account(7).address)
    onboard.locator("input[name=name]").fill("   ")  # blank: a participant nobody could name
    onboard.locator("button[type=submit]").click()
    onboard.get_by_text("Name: required").wait_for()
    onboard.locator("input[name=name]").fill("Someone")
    onboard.locator("button[type=submit]").click()  # no role ticked
    onboard.get_by_text("Roles: required").wait_for()
    assert bank.locator("[data-testid=tx]").count() == 0
    supplier = wallet_page(browser, base, TIER1)
    open_as(supplier, base, "bank")
    supplier.get_by_test_id("not-bank-staff").wait_for()
    assert supplier.locator("form").count() == 0
    assert not (bank.errors or supplier.errors)


def test_a_first_visitor_learns_what_yinqi_is_and_an_outsider_whom_to_ask(stack, browser):
    """The dashboard greets a first visit with what Yinqi is, until closed; a wallet the bank has not
    onboarded gets no forms on a role's page, only what to do."""
    from eth_account import Account

    base, *_ = stack
    page = wallet_page(browser, base)
    page.goto(f"{base}/#/dashboard")
    page.get_by_test_id("welcome").wait_for()
    assert "Receivables financing" in page.get_by_test_id("welcome").inner_text()
    page.get_by_test_id("welcome-close").click()
    page.reload()
    page.get_by_test_id("kpi-applications").wait_for()
    assert page.get_by_test_id("welcome").count() == 0  # once closed, gone for good
    outsider = wallet_page(browser, base, Account.create())
    open_as(outsider, base, "supplier")
    outsider.get_by_test_id("not-onboarded").filter(has_text="Ask the bank to onboard you").wait_for()
    assert outsider.locator("form").count() == 0 and outsider.locator("[data-testid^=finance-]").count() == 0
    assert not (page.errors or outsider.errors)


def test_merchant_draws_and_repays(stack, browser):
    base, w3, manifest, _ = stack
    credit = manifest.contract(w3, "CreditLine")
    page = wallet_page(browser, base, MERCHANT)
    open_as(page, base, "merchant")
    reasons = page.get_by_test_id("reasons").locator("li")
    assert reasons.count() == 3  # the top three, as sentences in the merchant's own figures
    assert all(text.endswith(("raised your score.", "lowered your score.")) for text in reasons.all_inner_texts())
    assert "_" not in " ".join(reasons.all_inner_texts())  # no raw feature names
    page.get_by_test_id("draw-form").locator("input[name=amount]").fill("100")
    page.get_by_test_id("draw-form").locator("button[type=submit]").click()
    settle(page, 1)
    assert credit.functions.lineOf(MERCHANT.address).call().drawn == 100 * UNIT
    page.get_by_test_id("repay-form").locator("input[name=amount]").fill("50")
    page.get_by_test_id("repay-form").locator("button[type=submit]").click()
    settle(page, 2)  # + repay (a permit and one transaction)
    line = credit.functions.lineOf(MERCHANT.address).call()
    assert line.drawn + line.interest <= 50 * UNIT + 10  # 50 paid, interest first
    assert page.get_by_test_id("rate").locator("b").inner_text().endswith("%")  # the rate, in % a year
    page.get_by_test_id("repay-all").click()
    settle(page, 3)
    line = credit.functions.lineOf(MERCHANT.address).call()
    assert (line.drawn, line.interest) == (0, 0)  # all of it, to the second
    shot(page, "merchant")
    assert not page.errors


def test_lessee_pays_rent(stack, browser):
    base, w3, manifest, leases = stack
    lease = manifest.contract(w3, "EquipmentLease")
    lease_id = leases["EXC-001"]
    assert lease.functions.outstanding(lease_id).call() > 0
    page = wallet_page(browser, base, LESSEE)
    open_as(page, base, "lessee")
    page.get_by_test_id(f"pay-{lease_id}").click()
    settle(page, 1)  # a permit and one transaction
    assert lease.functions.outstanding(lease_id).call() == 0
    shot(page, "lessee")
    assert not page.errors


def test_auditor_filters_and_exports_csv(stack, browser):
    base, *_ = stack
    wait_indexed(base)
    page = wallet_page(browser, base)  # an auditor needs no wallet
    page.goto(f"{base}/#/auditor")
    page.get_by_test_id("events-table").wait_for()
    form = page.get_by_test_id("audit-form")
    form.locator("select[name=contract]").select_option("Receivables")
    form.locator("input[name=party]").fill(CORE.address)
    form.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('[data-testid=events-table] tbody tr')")
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:6] == ["block", "log_index", "timestamp", "tx", "contract", "event"]
    assert len(rows) > 5 and {r[4] for r in rows[1:]} == {"Receivables"}
    assert any(r[5] == "ReceivableRepaid" for r in rows[1:])  # what the core repaid above

    # as a person types: any case, "#0", a part of an address; newest first, a page at a time
    form.locator("select[name=contract]").select_option("")
    form.locator("input[name=party]").fill(CORE.address[-6:])
    form.locator("input[name=event]").fill("receivableissued")
    form.locator("input[name=subject]").fill("#0")
    form.locator("button[type=submit]").click()
    page.get_by_test_id("pager").filter(has_text="1 events").wait_for()
    row = page.get_by_test_id("events-table").locator("tbody tr").first
    assert "ReceivableIssued" in row.inner_text() and "Huaxia Heavy Machinery" in row.inner_text()  # names, not hex
    assert "DCNY" in row.inner_text()  # the amount in DCNY, not micro-units
    page.get_by_test_id("lang").click()  # the filters survive a language switch
    page.get_by_test_id("pager").filter(has_text="共 1 条事件").wait_for()
    assert page.get_by_test_id("audit-form").locator("input[name=subject]").input_value() == "#0"
    page.get_by_test_id("lang").click()
    form = page.get_by_test_id("audit-form")
    for name in ("party", "event", "subject"):
        form.locator(f"input[name={name}]").fill("")
    form.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=events-table] tbody tr').length === 50")
    blocks = [int(c.inner_text()) for c in page.locator("[data-testid=events-table] tbody tr td:first-child").all()]
    assert blocks == sorted(blocks, reverse=True) and len(blocks) == 50  # newest first, a page of 50
    page.get_by_test_id("page-older").click()
    page.get_by_test_id("pager").filter(has_text="page 2 of").wait_for()
    shot(page, "auditor")
    assert not page.errors


def test_a_wallet_on_another_chain_is_offered_the_switch(stack, browser):
    base, *_ = stack
    page = wallet_page(browser, base, CORE, start_chain=1)
    page.goto(f"{base}/#/dashboard")
    page.get_by_test_id("connect").click()
    banner = page.get_by_test_id("banner")
    banner.wait_for()
    assert "chain 1" in banner.inner_text() and "31337" in banner.inner_text()
    page.get_by_test_id("switch-chain").click()
    page.wait_for_function("!document.querySelector('[data-testid=banner]')")
    shot(page, "switched-chain")
    assert not page.errors


def test_bank_onboards_and_freezes_a_flagged_lease(stack, browser):
    base, w3, manifest, leases = stack
    registry = manifest.contract(w3, "ParticipantRegistry")
    newcomer = dev_account(9).address
    page = wallet_page(browser, base, BANK)
    open_as(page, base, "bank")
    row = page.get_by_test_id("alerts-table").locator("tbody tr")
    assert row.count() == 1 and "Out of region" in row.inner_text() and "EXC-001" in row.inner_text()
    page.get_by_test_id(f"freeze-{leases['EXC-001']}").click()  # asks for a reason and a confirmation first
    assert page.get_by_test_id(f"freeze-reason-{leases['EXC-001']}").input_value() == "GEOFENCE"
    page.get_by_test_id(f"freeze-reason-{leases['EXC-001']}").fill("left the region 驶出区域")
    page.get_by_test_id(f"confirm-freeze-{leases['EXC-001']}").click()
    settle(page, 1)
    assert (
        manifest.contract(w3, "EquipmentLease").functions.leaseOf(leases["EXC-001"]).call().status == LeaseStatus.FROZEN
    )
    form = page.get_by_test_id("onboard-form")
    form.locator("input[name=address]").fill(newcomer)
    form.locator("input[name=name]").fill("Xinghe Logistics 星河物流")
    form.locator(f"input[name=role{Role.SUPPLIER.bit_length() - 1}]").check()
    form.locator(f"input[name=role{Role.MERCHANT.bit_length() - 1}]").check()
    form.locator("input[name=merchantId]").fill("M-XINGHE")  # the id its data platform knows it by
    form.locator("button[type=submit]").click()
    settle(page, 3)
    assert registry.functions.participant(newcomer).call().roles == Role.SUPPLIER | Role.MERCHANT
    assert bytes(registry.functions.merchantIdHashOf(newcomer).call()) == merchant_id_hash("M-XINGHE")
    # the wallet was asked for a margin over the node's estimate (an exact estimate, taken in the second
    # the onboarding landed, ran out of gas when the bind was mined a second later: the record's
    # updatedAt slot then changes), so each limit is above the gas the transaction used
    assert requests.get(f"{base}/api/manifest", timeout=5).json()["gas"]["margin_percent"] > 100
    latest = w3.eth.block_number
    for number in range(latest - 2, latest + 1):  # freeze, onboard, bind
        (tx,) = w3.eth.get_block(number, full_transactions=True).transactions
        assert tx["from"] == BANK.address and tx.gas > w3.eth.get_transaction_receipt(tx.hash).gasUsed
    shot(page, "bank")
    assert not page.errors


def test_merchant_signs_a_consent_the_credit_oracle_accepts_and_revokes_it(stack, browser):
    base, w3, manifest, _ = stack
    credit_line = manifest.contract(w3, "CreditLine")
    bind_merchant_id(w3, manifest, BANK, MERCHANT.address, "M-E2E")  # the bank's record of who it is
    page = wallet_page(browser, base, MERCHANT)
    open_as(page, base, "merchant")
    assert "bound your wallet" in page.get_by_test_id("consent-status").inner_text()
    form = page.get_by_test_id("consent-form")
    form.locator("input[name=merchantId]").fill("M-E2F")  # a typo: refused in the page, nothing signed
    form.locator("button[type=submit]").click()
    assert "not the merchant id the bank bound" in page.get_by_test_id("consent-error").inner_text()

    def sign_consent():
        form = page.get_by_test_id("consent-form")
        form.locator("input[name=merchantId]").fill("M-E2E")
        with page.expect_download() as download:
            form.locator("button[type=submit]").click()
        return from_document(json.loads(Path(download.value.path()).read_text()))

    def oracle_check(consent, signature):  # what the credit oracle verifies
        nonce = credit_line.functions.consentNonce(MERCHANT.address).call()
        now = w3.eth.get_block("latest")["timestamp"]
        verify(consent, signature, now=now, chain_id=31337, credit_line=credit_line.address, nonce=nonce)

    consent, signature = sign_consent()
    assert consent.merchant == MERCHANT.address and consent.merchant_id == "M-E2E"
    assert "hand this file to the bank" in page.get_by_test_id("consent-next").inner_text()  # the next step
    assert "holds your consent" in page.get_by_test_id("consent-on-file").inner_text()  # the seeded one, scored
    oracle_check(consent, signature)
    page.get_by_test_id("revoke-consent").click()
    settle(page, 1)
    with pytest.raises(ConsentError, match="revoked"):
        oracle_check(consent, signature)
    oracle_check(*sign_consent())  # a new consent carries the new nonce
    assert not page.errors


def test_bank_confirms_a_held_limit_raise(stack, browser, tmp_path):
    base, w3, manifest, _ = stack
    credit = manifest.contract(w3, "CreditLine")
    line = credit.functions.lineOf(MERCHANT.address).call()
    unit = UNIT
    raised = (line.limit + credit.functions.maxLimitStep().call()) // unit + 1  # beyond the step: held
    assert raised * unit <= credit.functions.maxLimit().call()
    outbox = Outbox(tmp_path / "credit-outbox.sqlite")  # the credit oracle's operator reports the raise
    word = pack_credit_word(MERCHANT.address, raised, line.score, line.rateBps)
    ReportPublisher(w3, manifest, dev_account(7), outbox, CREDIT_FEED).publish(
        credit_payload(b"\x01" * 32, b"\x02" * 32, [word]),
        {f"credit:{MERCHANT.address}": str(raised)},
        as_of=w3.eth.get_block("latest")["timestamp"],
    )
    outbox.close()
    assert credit.functions.lineOf(MERCHANT.address).call().pendingLimit == raised * unit
    wait_indexed(base)
    page = wallet_page(browser, base, BANK)
    open_as(page, base, "bank")
    row = page.get_by_test_id("held-limits").locator("tbody tr")
    assert row.count() == 1 and f"{raised:,} DCNY" in row.inner_text()  # one request for the list, money exact
    page.get_by_test_id(f"confirm-{MERCHANT.address.lower()}").click()
    settle(page, 1)
    after = credit.functions.lineOf(MERCHANT.address).call()
    assert after.limit == raised * unit and after.pendingLimit == 0
    page.wait_for_function("!document.querySelector('[data-testid=held-limits] tbody tr')")  # re-rendered
    shot(page, "bank-held-limit")
    assert not page.errors


@pytest.fixture
def fleet_stack(tmp_path):
    """A fresh seeded chain whose clock is the wall clock (the simulated devices stamp their messages
    with it), a real mosquitto, one IoT oracle (the seeded gateway's quorum for its feed is one) and
    `yinqi api`."""
    from backend.local.broker import LocalBroker
    from oracles.iot.simulator import rules_toml

    with (
        seeded_chain(tmp_path) as (settings, w3, manifest),
        LocalBroker(tmp_path / "mosquitto", settings.mqtt_port) as broker,
        api_server(settings, tmp_path) as base,
    ):
        rules = tmp_path / "rules.toml"
        rules.write_text(rules_toml(max_meter_rate=2 * SPEEDUP))  # the simulator's meters run fast
        env = {k: v for k, v in os.environ.items() if not k.startswith("YINQI_")}
        env.update(
            YINQI_HOME=str(settings.home),
            YINQI_DEPLOYMENTS=str(settings.deployments_dir),
            YINQI_CHAIN_PORT=str(settings.chain_port),
        )
        log_path = tmp_path / "iot-oracle.log"
        with log_path.open("w") as log:
            oracle = subprocess.Popen(
                [
                    *(YINQI, "-v", "iot-oracle", "run", "--signer", "dev:8", "--broker", broker.address),
                    *("--rules", str(rules), "--state", str(tmp_path / "iot.sqlite")),
                    *("--lease-refresh", "0.5", "--flush-interval", "0.5"),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(lambda: b'"ready": true' in log_path.read_bytes(), 60, log_path)
                yield base, w3, manifest, broker, env
            finally:
                oracle.terminate()
                oracle.wait(30)


SPEEDUP = 3_600  # the simulated meter: an hour of work per second


def wait_for(condition, seconds, log_path=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(log_path.read_text()[-4_000:] if log_path else "timed out")


def test_lessor_offers_lessee_accepts_usage_is_billed_and_a_period_is_assigned_and_financed(fleet_stack, browser):
    """The whole lease from the UI: the lessor offers on a tier schedule, the lessee reads the terms and
    accepts, the simulated device's telemetry goes over MQTT to the IoT oracle, whose usage report
    lands on chain, the keeper bills the period, the bank sets the lessee's factoring terms, and the
    lessor assigns the billed period and finances it in one click."""
    base, w3, manifest, broker, env = fleet_stack
    lease = manifest.contract(w3, "EquipmentLease")
    receivables = manifest.contract(w3, "Receivables")
    lessor = wallet_page(browser, base, LESSOR)
    open_as(lessor, base, "lessor")
    form = lessor.get_by_test_id("offer-form")
    form.locator("input[name=lessee]").fill(LESSEE.address)
    form.locator("input[name=device]").fill("EXC-001")
    form.locator("input[name=periods]").fill("3")
    form.locator("input[name=deposit]").fill("100")
    form.locator("input[name=minimumRent]").fill("50")
    form.locator("input[name=hours0]").fill("8")
    form.locator("input[name=price0]").fill("150")
    form.locator("input[name=price1]").fill("100")
    form.locator("button[type=submit]").click()
    settle(lessor, 1)
    lease_id = lease.functions.leaseCount().call() - 1
    assert [tuple(t) for t in lease.functions.tiersOf(lease_id).call()] == [(8, 150 * UNIT), (0xFFFFFFFF, 100 * UNIT)]
    lessor.get_by_test_id(f"cancel-{lease_id}").wait_for()  # the lessor sees its offer, and may withdraw it

    lessee = wallet_page(browser, base, LESSEE)
    open_as(lessee, base, "lessee")
    terms = lessee.get_by_test_id(f"terms-{lease_id}")
    text = terms.inner_text()
    assert "24 h × 3" in text and "150 DCNY" in text and "100 DCNY" in text and "50 DCNY" in text
    lessee.get_by_test_id(f"accept-{lease_id}").click()
    settle(lessee, 1)  # a permit for the deposit and one transaction
    assert lease.functions.leaseOf(lease_id).call().status == LeaseStatus.ACTIVE

    time.sleep(1.5)  # the oracle looks the lease up (every 0.5 s) before the device speaks
    subprocess.run(
        [
            *(YINQI, "devices", "simulate", "--broker", broker.address, "--count", "1", "--scenario", "normal"),
            *("--rate", "4", "--messages", "12", "--speedup", str(SPEEDUP)),
        ],
        env=env,
        check=True,
        timeout=60,
    )  # ~3 s of messages: ~3 hours of work
    service = LeaseService(w3, manifest)
    wait_for(lambda: service.period(lease_id, 0).usage >= 2_00, 60)  # on chain, from the oracle's report
    w3.provider.make_request("evm_increaseTime", [2 * 86_400 + 60])  # period 0 over, its report window too
    w3.provider.make_request("evm_mine", [])
    assert lease_id in service.due_for_billing()  # what the demo's keeper (`yinqi lease keep`) does
    service.bill(BANK, lease_id)
    usage, rent = service.period(lease_id, 0).usage, service.period(lease_id, 0).rent  # fixed by the bill
    assert rent == -(-min(usage, 8_00) * 150 * UNIT // 100) + (-(-max(usage - 8_00, 0) * 100 * UNIT // 100))
    assert rent == lease.functions.rentFor(lease_id, usage).call() and rent > 50 * UNIT

    bank = wallet_page(browser, base, BANK)
    open_as(bank, base, "bank")
    form = bank.get_by_test_id("terms-form")
    form.locator("select[name=debtor]").select_option(LESSEE.address)
    form.locator("input[name=limit]").fill("1,000,000")
    form.locator("input[name=rate]").fill("6")  # % a year
    form.locator("input[name=advanceRate]").fill("90")
    form.locator("input[name=fee]").fill("0.2")
    form.locator("button[type=submit]").click()
    settle(bank, 1)
    debtors = bank.get_by_test_id("debtors-table")
    debtors.get_by_text("1,000,000 DCNY").wait_for()  # the terms now in force, in the bank's own table
    assert "6%" in debtors.inner_text() and "0.2%" in debtors.inner_text()

    wait_indexed(base)
    lessor = wallet_page(browser, base, LESSOR)
    open_as(lessor, base, "lessor")
    lessor.get_by_test_id(f"finance-{lease_id}-0").click()
    settle(lessor, 2)  # assign, finance
    lessor.get_by_test_id("lessor-result").filter(has_text="Advance received").wait_for()
    rid = service.period(lease_id, 0).receivable_id
    assert rid is not None and receivables.functions.receivable(rid).call().status == ReceivableStatus.FINANCED
    (financed,) = receivables.events.ReceivableFinanced().get_logs(from_block=0, argument_filters={"id": rid})
    assert financed.args.fee == -(-rent * 20 // 10_000)  # 0.2 % of the rent, rounded up
    assert "(fee " in lessor.get_by_test_id("lessor-result").inner_text()
    shot(lessor, "lessor")
    assert not (lessor.errors or lessee.errors or bank.errors)

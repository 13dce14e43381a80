import ape
import pytest

from tests.contracts.conftest import UNIT

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def funded(pool, token, bank):
    token.mint(bank, 1_000 * UNIT, sender=bank)
    token.approve(pool, 1_000 * UNIT, sender=bank)
    return pool


def test_bank_holds_treasurer_and_pauser_roles(pool, bank, token):
    assert pool.defaultAdmin() == bank.address
    assert pool.hasRole(pool.TREASURER_ROLE(), bank)
    assert pool.hasRole(pool.PAUSER_ROLE(), bank)
    assert not pool.hasRole(pool.LENDER_ROLE(), bank)
    assert pool.settlementToken() == token.address
    assert pool.available() == 0


def test_deposit_pulls_tokens_and_emits(funded, token, bank):
    tx = funded.deposit(600 * UNIT, sender=bank)
    assert tx.events.filter(funded.LiquidityDeposited) == [funded.LiquidityDeposited(bank, 600 * UNIT, 600 * UNIT)]
    assert funded.available() == token.balanceOf(funded) == 600 * UNIT


def test_deposit_without_allowance_reverts(pool, token, bank):
    token.mint(bank, 1, sender=bank)
    with ape.reverts(token.ERC20InsufficientAllowance):
        pool.deposit(1, sender=bank)


def test_zero_amounts_revert(funded, bank):
    with ape.reverts(funded.PoolZeroAmount):
        funded.deposit(0, sender=bank)
    with ape.reverts(funded.PoolZeroAmount):
        funded.withdraw(bank, 0, sender=bank)


def test_withdraw_sends_idle_liquidity_and_emits(funded, token, bank, auditor):
    funded.deposit(600 * UNIT, sender=bank)
    tx = funded.withdraw(auditor, 100 * UNIT, sender=bank)
    assert tx.events.filter(funded.LiquidityWithdrawn) == [funded.LiquidityWithdrawn(auditor, 100 * UNIT, 500 * UNIT)]
    assert token.balanceOf(auditor) == 100 * UNIT


def test_withdraw_more_than_available_reverts(funded, bank):
    funded.deposit(10, sender=bank)
    with ape.reverts(funded.PoolInsufficientLiquidity, available=10, requested=11):
        funded.withdraw(bank, 11, sender=bank)


def test_withdraw_to_zero_address_reverts(funded, bank):
    funded.deposit(10, sender=bank)
    with ape.reverts(funded.PoolZeroAddress):
        funded.withdraw(ZERO, 1, sender=bank)


def test_disburse_pays_for_an_admitted_lender(funded, token, bank, oracle, supplier):
    funded.deposit(100, sender=bank)
    funded.grantRole(funded.LENDER_ROLE(), oracle, sender=bank)
    tx = funded.disburse(supplier, 40, sender=oracle)
    assert tx.events.filter(funded.Disbursed) == [funded.Disbursed(oracle, supplier, 40, 60)]
    assert token.balanceOf(supplier) == 40


def test_disburse_more_than_available_reverts(funded, bank, oracle, supplier):
    funded.grantRole(funded.LENDER_ROLE(), oracle, sender=bank)
    with ape.reverts(funded.PoolInsufficientLiquidity, available=0, requested=1):
        funded.disburse(supplier, 1, sender=oracle)


def test_disburse_stops_while_paused_but_withdrawal_goes_on(funded, bank, oracle, supplier):
    funded.deposit(100, sender=bank)
    funded.grantRole(funded.LENDER_ROLE(), oracle, sender=bank)
    tx = funded.pause(sender=bank)
    assert tx.events == [funded.Paused(bank)]
    assert funded.paused()
    with ape.reverts(funded.EnforcedPause):
        funded.disburse(supplier, 1, sender=oracle)
    funded.withdraw(bank, 1, sender=bank)
    tx = funded.unpause(sender=bank)
    assert tx.events == [funded.Unpaused(bank)]
    funded.disburse(supplier, 1, sender=oracle)


GUARDED = {
    "deposit": ("TREASURER_ROLE", lambda a: (1,)),
    "withdraw": ("TREASURER_ROLE", lambda a: (a, 1)),
    "disburse": ("LENDER_ROLE", lambda a: (a, 1)),
    "pause": ("PAUSER_ROLE", lambda a: ()),
    "unpause": ("PAUSER_ROLE", lambda a: ()),
}


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_guarded_function_rejects_caller_without_role(pool, stranger, function):
    role_name, args = GUARDED[function]
    with ape.reverts(
        pool.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=getattr(pool, role_name)()
    ):
        getattr(pool, function)(*args(stranger), sender=stranger)

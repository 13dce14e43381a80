import ape

from tests.contracts.conftest import ADMIN_DELAY, permit_signature

UNIT = 10**6
ZERO = "0x0000000000000000000000000000000000000000"


def test_metadata(token):
    assert token.name() == "Digital CNY (test)"
    assert token.symbol() == "DCNY"
    assert token.decimals() == 6
    assert token.totalSupply() == 0


def test_bank_holds_admin_and_minter_roles(token, bank, stranger):
    assert token.hasRole(token.DEFAULT_ADMIN_ROLE(), bank)
    assert token.hasRole(token.MINTER_ROLE(), bank)
    assert not token.hasRole(token.MINTER_ROLE(), stranger)


def test_the_mints_admin_changes_hands_in_two_steps_after_a_delay(token, bank, supplier, chain):
    """A mistyped address or a stolen admin key cannot hand the mint over at once."""
    with ape.reverts(token.AccessControlEnforcedDefaultAdminRules):
        token.grantRole(token.DEFAULT_ADMIN_ROLE(), supplier, sender=bank)
    tx = token.beginDefaultAdminTransfer(supplier, sender=bank)
    schedule = tx.timestamp + ADMIN_DELAY
    assert token.pendingDefaultAdmin() == (supplier.address, schedule)
    with ape.reverts(token.AccessControlEnforcedDefaultAdminDelay, schedule=schedule):
        token.acceptDefaultAdminTransfer(sender=supplier)
    chain.mine(timestamp=schedule + 1)
    token.acceptDefaultAdminTransfer(sender=supplier)
    assert token.defaultAdmin() == supplier.address and not token.hasRole(token.DEFAULT_ADMIN_ROLE(), bank)
    assert token.hasRole(token.MINTER_ROLE(), bank)  # roles it granted stay until the new admin revokes them


def test_mint_credits_and_emits_transfer(token, bank, supplier):
    tx = token.mint(supplier, 1_000 * UNIT, sender=bank)
    assert tx.events == [token.Transfer(ZERO, supplier, 1_000 * UNIT)]
    assert token.balanceOf(supplier) == 1_000 * UNIT
    assert token.totalSupply() == 1_000 * UNIT


def test_mint_requires_minter_role(token, stranger):
    with ape.reverts(token.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=token.MINTER_ROLE()):
        token.mint(stranger, 1, sender=stranger)


def test_mint_to_zero_address_reverts(token, bank):
    with ape.reverts(token.ERC20InvalidReceiver, receiver=ZERO):
        token.mint(ZERO, 1, sender=bank)


def test_granted_minter_can_mint(token, bank, oracle):
    tx = token.grantRole(token.MINTER_ROLE(), oracle, sender=bank)
    assert tx.events == [token.RoleGranted(token.MINTER_ROLE(), oracle, bank)]
    token.mint(oracle, 5, sender=oracle)
    assert token.balanceOf(oracle) == 5


def test_burn_destroys_own_units(token, bank, supplier):
    token.mint(supplier, 10 * UNIT, sender=bank)
    tx = token.burn(4 * UNIT, sender=supplier)
    assert tx.events == [token.Transfer(supplier, ZERO, 4 * UNIT)]
    assert token.balanceOf(supplier) == 6 * UNIT
    assert token.totalSupply() == 6 * UNIT


def test_burn_more_than_balance_reverts(token, bank, supplier):
    token.mint(supplier, 1, sender=bank)
    with ape.reverts(token.ERC20InsufficientBalance, sender=supplier.address, balance=1, needed=2):
        token.burn(2, sender=supplier)


def test_transfer_moves_money_and_emits(token, bank, supplier, debtor):
    token.mint(supplier, 100, sender=bank)
    tx = token.transfer(debtor, 40, sender=supplier)
    assert tx.events == [token.Transfer(supplier, debtor, 40)]
    assert (token.balanceOf(supplier), token.balanceOf(debtor)) == (60, 40)


def test_transfer_from_needs_allowance(token, bank, supplier, debtor):
    token.mint(supplier, 100, sender=bank)
    with ape.reverts(token.ERC20InsufficientAllowance, spender=debtor.address, allowance=0, needed=1):
        token.transferFrom(supplier, debtor, 1, sender=debtor)
    tx = token.approve(debtor, 30, sender=supplier)
    assert tx.events == [token.Approval(supplier, debtor, 30)]
    token.transferFrom(supplier, debtor, 30, sender=debtor)
    assert token.balanceOf(debtor) == 30
    assert token.allowance(supplier, debtor) == 0


def test_permit_sets_allowance_from_an_off_chain_signature(token, chain, supplier, debtor):
    owner = supplier
    deadline, v, r, sig_s = permit_signature(token, chain, owner, debtor, 77)
    tx = token.permit(owner, debtor, 77, deadline, v, r, sig_s, sender=debtor)
    assert tx.events == [token.Approval(owner, debtor, 77)]
    assert token.nonces(owner) == 1

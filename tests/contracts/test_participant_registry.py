import ape
import pytest

from tests.contracts.conftest import ADMIN_DELAY

ZERO = "0x0000000000000000000000000000000000000000"
KYC = b"\x11" * 32
KYC2 = b"\x22" * 32
REASON = b"AML-REVIEW".ljust(32, b"\x00")


@pytest.fixture
def onboarded(registry, bank, supplier, roles):
    registry.onboard(supplier, roles["SUPPLIER"], KYC, "Jinggong Hydraulics", sender=bank)
    return supplier


# --- deployment -------------------------------------------------------------------------------


def test_bank_holds_every_admin_role(registry, bank):
    assert registry.defaultAdmin() == bank.address
    assert registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), bank)
    assert registry.hasRole(registry.REGISTRAR_ROLE(), bank)
    assert registry.hasRole(registry.PAUSER_ROLE(), bank)
    assert registry.defaultAdminDelay() == ADMIN_DELAY
    assert not registry.paused()
    assert registry.participantCount() == 0


def test_role_bits_are_distinct_and_cover_all_roles(registry, roles):
    bits = list(roles.values())
    assert len(set(bits)) == 7
    assert all(b & (b - 1) == 0 for b in bits)  # one bit each
    assert sum(bits) == registry.ALL_ROLES()


# --- role-guarded functions behave alike (as OZ's shouldBehaveLike…) ----------------------------

GUARDED = {
    "onboard": ("REGISTRAR_ROLE", lambda a: (a, 4, KYC, "x")),
    "setRoles": ("REGISTRAR_ROLE", lambda a: (a, 4)),
    "updateKyc": ("REGISTRAR_ROLE", lambda a: (a, KYC)),
    "suspend": ("REGISTRAR_ROLE", lambda a: (a, REASON)),
    "reinstate": ("REGISTRAR_ROLE", lambda a: (a,)),
    "pause": ("PAUSER_ROLE", lambda a: ()),
    "unpause": ("PAUSER_ROLE", lambda a: ()),
}


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_guarded_function_rejects_caller_without_role(registry, stranger, supplier, function):
    role_name, args = GUARDED[function]
    role = getattr(registry, role_name)()
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=role):
        getattr(registry, function)(*args(supplier), sender=stranger)


@pytest.mark.parametrize("function", ["onboard", "setRoles", "updateKyc", "suspend", "reinstate"])
def test_registrar_granted_by_bank_may_call(registry, bank, oracle, supplier, roles, function):
    tx = registry.grantRole(registry.REGISTRAR_ROLE(), oracle, sender=bank)
    assert tx.events == [registry.RoleGranted(registry.REGISTRAR_ROLE(), oracle, bank)]
    registry.onboard(supplier, roles["SUPPLIER"], KYC, "s", sender=oracle)
    if function == "reinstate":
        registry.suspend(supplier, REASON, sender=oracle)
    if function != "onboard":
        _, args = GUARDED[function]
        getattr(registry, function)(*args(supplier), sender=oracle)


@pytest.mark.parametrize("function", ["onboard", "setRoles", "updateKyc", "suspend", "reinstate"])
def test_changes_are_refused_while_paused(registry, bank, supplier, function):
    registry.pause(sender=bank)
    _, args = GUARDED[function]
    with ape.reverts(registry.EnforcedPause):
        getattr(registry, function)(*args(supplier), sender=bank)


# --- onboard ----------------------------------------------------------------------------------


def test_onboard_records_participant_and_emits(registry, bank, supplier, roles, chain):
    tx = registry.onboard(supplier, roles["SUPPLIER"] | roles["MERCHANT"], KYC, "Jinggong Hydraulics", sender=bank)
    assert tx.events == [
        registry.ParticipantOnboarded(supplier, roles["SUPPLIER"] | roles["MERCHANT"], KYC, "Jinggong Hydraulics")
    ]
    p = registry.participant(supplier)
    assert p.roles == roles["SUPPLIER"] | roles["MERCHANT"]
    assert not p.suspended
    assert p.onboardedAt == p.updatedAt == tx.timestamp
    assert p.kycHash == KYC
    assert registry.participantCount() == 1
    assert registry.participantAt(0) == supplier.address


def test_onboard_zero_address_reverts(registry, bank, roles):
    with ape.reverts(registry.ParticipantZeroAddress):
        registry.onboard(ZERO, roles["SUPPLIER"], KYC, "nobody", sender=bank)


@pytest.mark.parametrize("bad_roles", [0, 1 << 7, 0xFF])
def test_onboard_invalid_roles_reverts(registry, bank, supplier, bad_roles):
    with ape.reverts(registry.ParticipantInvalidRoles, roles=bad_roles):
        registry.onboard(supplier, bad_roles, KYC, "x", sender=bank)


def test_onboard_twice_reverts(registry, bank, onboarded, roles):
    with ape.reverts(registry.ParticipantAlreadyOnboarded, account=onboarded.address):
        registry.onboard(onboarded, roles["MERCHANT"], KYC, "again", sender=bank)


# --- setRoles / updateKyc ---------------------------------------------------------------------


def test_set_roles_replaces_roles_and_emits(registry, bank, onboarded, roles):
    tx = registry.setRoles(onboarded, roles["MERCHANT"], sender=bank)
    assert tx.events == [registry.ParticipantRolesChanged(onboarded, roles["SUPPLIER"], roles["MERCHANT"])]
    assert registry.participant(onboarded).roles == roles["MERCHANT"]
    assert registry.participant(onboarded).updatedAt == tx.timestamp


def test_set_roles_of_unknown_account_reverts(registry, bank, stranger, roles):
    with ape.reverts(registry.ParticipantNotOnboarded, account=stranger.address):
        registry.setRoles(stranger, roles["SUPPLIER"], sender=bank)


@pytest.mark.parametrize("bad_roles", [0, 1 << 7])
def test_set_roles_invalid_reverts(registry, bank, onboarded, bad_roles):
    with ape.reverts(registry.ParticipantInvalidRoles, roles=bad_roles):
        registry.setRoles(onboarded, bad_roles, sender=bank)


def test_update_kyc_records_hash_and_emits(registry, bank, onboarded):
    tx = registry.updateKyc(onboarded, KYC2, sender=bank)
    assert tx.events == [registry.ParticipantKycUpdated(onboarded, KYC2)]
    assert registry.participant(onboarded).kycHash == KYC2


def test_update_kyc_of_unknown_account_reverts(registry, bank, stranger):
    with ape.reverts(registry.ParticipantNotOnboarded, account=stranger.address):
        registry.updateKyc(stranger, KYC2, sender=bank)


# --- suspend / reinstate ----------------------------------------------------------------------


def test_suspend_blocks_authorization_and_emits(registry, bank, onboarded, roles):
    assert registry.isAuthorized(onboarded, roles["SUPPLIER"])
    tx = registry.suspend(onboarded, REASON, sender=bank)
    assert tx.events == [registry.ParticipantSuspended(onboarded, REASON)]
    assert registry.participant(onboarded).suspended
    assert not registry.isAuthorized(onboarded, roles["SUPPLIER"])
    with ape.reverts(registry.ParticipantNotAuthorized, account=onboarded.address, requiredRoles=roles["SUPPLIER"]):
        registry.checkAuthorized(onboarded, roles["SUPPLIER"])


def test_suspend_twice_reverts(registry, bank, onboarded):
    registry.suspend(onboarded, REASON, sender=bank)
    with ape.reverts(registry.ParticipantAlreadySuspended, account=onboarded.address):
        registry.suspend(onboarded, REASON, sender=bank)


def test_suspend_unknown_account_reverts(registry, bank, stranger):
    with ape.reverts(registry.ParticipantNotOnboarded, account=stranger.address):
        registry.suspend(stranger, REASON, sender=bank)


def test_reinstate_restores_authorization_and_emits(registry, bank, onboarded, roles):
    registry.suspend(onboarded, REASON, sender=bank)
    tx = registry.reinstate(onboarded, sender=bank)
    assert tx.events == [registry.ParticipantReinstated(onboarded)]
    assert not registry.participant(onboarded).suspended
    assert registry.isAuthorized(onboarded, roles["SUPPLIER"])


def test_reinstate_active_participant_reverts(registry, bank, onboarded):
    with ape.reverts(registry.ParticipantNotSuspended, account=onboarded.address):
        registry.reinstate(onboarded, sender=bank)


def test_reinstate_unknown_account_reverts(registry, bank, stranger):
    with ape.reverts(registry.ParticipantNotOnboarded, account=stranger.address):
        registry.reinstate(stranger, sender=bank)


# --- authorization checks ---------------------------------------------------------------------


def test_is_authorized_requires_every_requested_role(registry, bank, supplier, roles):
    both = roles["SUPPLIER"] | roles["MERCHANT"]
    registry.onboard(supplier, both, KYC, "s", sender=bank)
    assert registry.isAuthorized(supplier, roles["SUPPLIER"])
    assert registry.isAuthorized(supplier, both)
    assert not registry.isAuthorized(supplier, roles["SUPPLIER"] | roles["LESSEE"])
    registry.checkAuthorized(supplier, both)  # does not revert
    with ape.reverts(registry.ParticipantNotAuthorized, account=supplier.address, requiredRoles=roles["LESSEE"]):
        registry.checkAuthorized(supplier, roles["LESSEE"])


def test_are_authorized_checks_two_accounts_at_once(registry, bank, supplier, debtor, stranger, roles):
    registry.onboard(supplier, roles["SUPPLIER"], KYC, "s", sender=bank)
    registry.onboard(debtor, roles["CORE_ENTERPRISE"], KYC, "d", sender=bank)
    assert registry.areAuthorized(debtor, roles["CORE_ENTERPRISE"], supplier, roles["SUPPLIER"]) == (True, True)
    assert registry.areAuthorized(debtor, roles["SUPPLIER"], supplier, roles["SUPPLIER"]) == (False, True)
    assert registry.areAuthorized(debtor, roles["CORE_ENTERPRISE"], stranger, roles["SUPPLIER"]) == (True, False)


def test_unknown_account_is_never_authorized(registry, stranger, roles):
    assert not registry.isAuthorized(stranger, 0)
    assert not registry.isAuthorized(stranger, roles["SUPPLIER"])
    with ape.reverts(registry.ParticipantNotAuthorized, account=stranger.address, requiredRoles=0):
        registry.checkAuthorized(stranger, 0)


def test_checks_keep_working_while_paused(registry, bank, onboarded, roles):
    registry.pause(sender=bank)
    assert registry.isAuthorized(onboarded, roles["SUPPLIER"])


def test_participant_at_out_of_range_reverts(registry):
    with ape.reverts():
        registry.participantAt(0)


# --- pause ------------------------------------------------------------------------------------


def test_pause_and_unpause_emit(registry, bank):
    tx = registry.pause(sender=bank)
    assert tx.events == [registry.Paused(bank)]
    assert registry.paused()
    with ape.reverts(registry.EnforcedPause):
        registry.pause(sender=bank)
    tx = registry.unpause(sender=bank)
    assert tx.events == [registry.Unpaused(bank)]
    assert not registry.paused()
    with ape.reverts(registry.ExpectedPause):
        registry.unpause(sender=bank)


# --- two-step admin transfer ------------------------------------------------------------------


def test_admin_transfer_takes_two_steps_and_a_delay(registry, bank, auditor, chain):
    tx = registry.beginDefaultAdminTransfer(auditor, sender=bank)
    schedule = tx.timestamp + ADMIN_DELAY
    assert tx.events == [registry.DefaultAdminTransferScheduled(auditor, schedule)]
    assert registry.pendingDefaultAdmin() == (auditor.address, schedule)

    with ape.reverts(registry.AccessControlEnforcedDefaultAdminDelay, schedule=schedule):
        registry.acceptDefaultAdminTransfer(sender=auditor)

    chain.mine(timestamp=schedule + 1)
    tx = registry.acceptDefaultAdminTransfer(sender=auditor)
    admin_role = registry.DEFAULT_ADMIN_ROLE()
    assert registry.RoleRevoked(admin_role, bank, auditor) in tx.events
    assert registry.RoleGranted(admin_role, auditor, auditor) in tx.events
    assert registry.defaultAdmin() == auditor.address
    assert not registry.hasRole(admin_role, bank)


def test_only_the_pending_admin_may_accept(registry, bank, auditor, stranger):
    registry.beginDefaultAdminTransfer(auditor, sender=bank)
    with ape.reverts(registry.AccessControlInvalidDefaultAdmin, defaultAdmin=stranger.address):
        registry.acceptDefaultAdminTransfer(sender=stranger)


def test_admin_transfer_can_be_cancelled(registry, bank, auditor):
    registry.beginDefaultAdminTransfer(auditor, sender=bank)
    tx = registry.cancelDefaultAdminTransfer(sender=bank)
    assert tx.events == [registry.DefaultAdminTransferCanceled()]
    assert registry.pendingDefaultAdmin() == (ZERO, 0)


def test_admin_role_cannot_be_granted_directly(registry, bank, auditor):
    with ape.reverts(registry.AccessControlEnforcedDefaultAdminRules):
        registry.grantRole(registry.DEFAULT_ADMIN_ROLE(), auditor, sender=bank)


# --- merchant id bindings: the wallet ↔ merchant id the credit oracle scores under -------------

ID_A, ID_B = b"\xaa" * 32, b"\xbb" * 32


@pytest.fixture
def merchant_wallet(registry, bank, merchant, roles):
    if registry.participant(merchant).roles == 0:
        registry.onboard(merchant, roles["MERCHANT"], KYC, "Chenxi Online Store", sender=bank)
    return merchant


def test_the_bank_binds_a_merchant_to_its_id_and_rebinds_it(registry, bank, merchant_wallet):
    tx = registry.bindMerchantId(merchant_wallet, ID_A, sender=bank)
    assert tx.events == [registry.MerchantIdBound(merchant_wallet, ID_A, b"\x00" * 32)]
    assert registry.merchantIdHashOf(merchant_wallet) == ID_A and registry.merchantOf(ID_A) == merchant_wallet
    tx = registry.bindMerchantId(merchant_wallet, ID_B, sender=bank)
    assert tx.events == [registry.MerchantIdBound(merchant_wallet, ID_B, ID_A)]
    assert registry.merchantOf(ID_A) == ZERO and registry.merchantOf(ID_B) == merchant_wallet
    registry.bindMerchantId(merchant_wallet, b"\x00" * 32, sender=bank)  # unbinding
    assert registry.merchantIdHashOf(merchant_wallet) == b"\x00" * 32 and registry.merchantOf(ID_B) == ZERO


def test_a_merchant_cannot_bind_itself_or_anyone(registry, merchant_wallet, stranger):
    role = registry.REGISTRAR_ROLE()
    for caller in (merchant_wallet, stranger):
        with ape.reverts(registry.AccessControlUnauthorizedAccount, account=caller.address, neededRole=role):
            registry.bindMerchantId(merchant_wallet, ID_A, sender=caller)


def test_one_id_one_wallet(registry, bank, merchant_wallet, supplier, roles):
    registry.bindMerchantId(merchant_wallet, ID_A, sender=bank)
    registry.onboard(supplier, roles["MERCHANT"] | roles["SUPPLIER"], KYC, "Another merchant", sender=bank)
    with ape.reverts(registry.ParticipantMerchantIdTaken, merchantIdHash=ID_A, holder=merchant_wallet.address):
        registry.bindMerchantId(supplier, ID_A, sender=bank)


def test_only_an_onboarded_merchant_is_bound(registry, bank, onboarded, stranger, roles):
    with ape.reverts(registry.ParticipantNotAuthorized, account=onboarded.address, requiredRoles=roles["MERCHANT"]):
        registry.bindMerchantId(onboarded, ID_A, sender=bank)  # a supplier, not a merchant
    with ape.reverts(registry.ParticipantNotOnboarded, account=stranger.address):
        registry.bindMerchantId(stranger, ID_A, sender=bank)

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    IParticipantRegistry,
    ROLE_BANK as _BANK,
    ROLE_CORE_ENTERPRISE as _CORE,
    ROLE_SUPPLIER as _SUPPLIER,
    ROLE_MERCHANT as _MERCHANT,
    ROLE_LESSEE as _LESSEE,
    ROLE_CREDIT_ORACLE as _CREDIT_ORACLE,
    ROLE_IOT_ORACLE as _IOT_ORACLE,
    ALL_PARTICIPANT_ROLES as _ALL
} from "./interfaces/IParticipantRegistry.sol";
import {AccessControlPausable} from "./utils/AccessControlPausable.sol";

/// @title ParticipantRegistry
/// @notice The bank onboards participants after KYC, gives them business roles, suspends and
/// reinstates them. Product contracts call {checkAuthorized} before letting anyone act.
/// @dev The bank's own powers are OpenZeppelin roles: `REGISTRAR_ROLE` (KYC officers) changes
/// participants, `PAUSER_ROLE` freezes changes, and the default admin (the bank) grants both.
/// The default admin is handed over in two steps with a delay ({AccessControlDefaultAdminRules}).
contract ParticipantRegistry is IParticipantRegistry, AccessControlPausable {
    /// @notice Business role bits (defined once, in IParticipantRegistry.sol). Auditors need none.
    uint8 public constant ROLE_BANK = _BANK;
    uint8 public constant ROLE_CORE_ENTERPRISE = _CORE;
    uint8 public constant ROLE_SUPPLIER = _SUPPLIER;
    uint8 public constant ROLE_MERCHANT = _MERCHANT;
    uint8 public constant ROLE_LESSEE = _LESSEE;
    uint8 public constant ROLE_CREDIT_ORACLE = _CREDIT_ORACLE;
    uint8 public constant ROLE_IOT_ORACLE = _IOT_ORACLE;
    /// @notice Every defined role bit.
    uint8 public constant ALL_ROLES = _ALL;

    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    mapping(address account => Participant) private _participants;
    address[] private _accounts;
    mapping(address account => bytes32 merchantIdHash) private _merchantIdHashOf;
    mapping(bytes32 merchantIdHash => address account) private _merchantOf;

    /// @param admin The bank's admin account: default admin, registrar and pauser.
    /// @param adminTransferDelay Seconds a default-admin handover must wait before it can be accepted.
    constructor(address admin, uint48 adminTransferDelay) AccessControlPausable(adminTransferDelay, admin) {
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Requirements: caller has `REGISTRAR_ROLE`; not paused; `account` non-zero and new;
    /// `roles` non-empty and defined. Emits {ParticipantOnboarded}.
    function onboard(
        address account,
        uint8 roles,
        bytes32 kycHash,
        string calldata name
    ) external onlyRole(REGISTRAR_ROLE) whenNotPaused {
        if (account == address(0)) revert ParticipantZeroAddress();
        _checkRoles(roles);
        Participant storage p = _participants[account];
        if (p.roles != 0) revert ParticipantAlreadyOnboarded(account);

        uint40 now_ = uint40(block.timestamp);
        p.roles = roles;
        p.onboardedAt = now_;
        p.updatedAt = now_;
        p.kycHash = kycHash;
        _accounts.push(account);
        emit ParticipantOnboarded(account, roles, kycHash, name);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Requirements: caller has `REGISTRAR_ROLE`; not paused; `account` onboarded; `roles`
    /// non-empty and defined. Emits {ParticipantRolesChanged}.
    function setRoles(address account, uint8 roles) external onlyRole(REGISTRAR_ROLE) whenNotPaused {
        _checkRoles(roles);
        Participant storage p = _onboarded(account);
        uint8 previous = p.roles;
        p.roles = roles;
        p.updatedAt = uint40(block.timestamp);
        emit ParticipantRolesChanged(account, previous, roles);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Requirements: caller has `REGISTRAR_ROLE`; not paused; `account` onboarded.
    /// Emits {ParticipantKycUpdated}.
    function updateKyc(address account, bytes32 kycHash) external onlyRole(REGISTRAR_ROLE) whenNotPaused {
        Participant storage p = _onboarded(account);
        p.kycHash = kycHash;
        p.updatedAt = uint40(block.timestamp);
        emit ParticipantKycUpdated(account, kycHash);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Requirements: caller has `REGISTRAR_ROLE`; not paused; `account` onboarded and active.
    /// Emits {ParticipantSuspended}.
    function suspend(address account, bytes32 reason) external onlyRole(REGISTRAR_ROLE) whenNotPaused {
        Participant storage p = _onboarded(account);
        if (p.suspended) revert ParticipantAlreadySuspended(account);
        p.suspended = true;
        p.updatedAt = uint40(block.timestamp);
        emit ParticipantSuspended(account, reason);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Requirements: caller has `REGISTRAR_ROLE`; not paused; `account` suspended.
    /// Emits {ParticipantReinstated}.
    function reinstate(address account) external onlyRole(REGISTRAR_ROLE) whenNotPaused {
        Participant storage p = _onboarded(account);
        if (!p.suspended) revert ParticipantNotSuspended(account);
        p.suspended = false;
        p.updatedAt = uint40(block.timestamp);
        emit ParticipantReinstated(account);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Requirements: caller has `REGISTRAR_ROLE`; not paused; `account` onboarded with
    /// `ROLE_MERCHANT` (to bind; unbinding needs only the record); the id bound to no other account.
    /// Emits {MerchantIdBound}.
    function bindMerchantId(address account, bytes32 merchantIdHash) external onlyRole(REGISTRAR_ROLE) whenNotPaused {
        Participant storage p = _onboarded(account);
        if (merchantIdHash != 0) {
            if (p.roles & ROLE_MERCHANT == 0) revert ParticipantNotAuthorized(account, ROLE_MERCHANT);
            address holder = _merchantOf[merchantIdHash];
            if (holder != address(0) && holder != account) revert ParticipantMerchantIdTaken(merchantIdHash, holder);
        }
        bytes32 previous = _merchantIdHashOf[account];
        if (previous != 0) delete _merchantOf[previous];
        _merchantIdHashOf[account] = merchantIdHash;
        if (merchantIdHash != 0) _merchantOf[merchantIdHash] = account;
        p.updatedAt = uint40(block.timestamp);
        emit MerchantIdBound(account, merchantIdHash, previous);
    }

    /// @inheritdoc IParticipantRegistry
    function merchantIdHashOf(address account) external view returns (bytes32) {
        return _merchantIdHashOf[account];
    }

    /// @inheritdoc IParticipantRegistry
    function merchantOf(bytes32 merchantIdHash) external view returns (address) {
        return _merchantOf[merchantIdHash];
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function isAuthorized(address account, uint8 requiredRoles) public view returns (bool) {
        Participant storage p = _participants[account];
        return p.roles != 0 && !p.suspended && p.roles & requiredRoles == requiredRoles;
    }

    /// @inheritdoc IParticipantRegistry
    function areAuthorized(address a, uint8 rolesA, address b, uint8 rolesB) external view returns (bool, bool) {
        return (isAuthorized(a, rolesA), isAuthorized(b, rolesB));
    }

    /// @inheritdoc IParticipantRegistry
    function checkAuthorized(address account, uint8 requiredRoles) external view {
        if (!isAuthorized(account, requiredRoles)) revert ParticipantNotAuthorized(account, requiredRoles);
    }

    /// @inheritdoc IParticipantRegistry
    function participantCount() external view returns (uint256) {
        return _accounts.length;
    }

    /// @inheritdoc IParticipantRegistry
    function participantAt(uint256 index) external view returns (address) {
        return _accounts[index];
    }

    function _onboarded(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.roles == 0) revert ParticipantNotOnboarded(account);
    }

    function _checkRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~ALL_ROLES != 0) revert ParticipantInvalidRoles(roles);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Business role bits of a participant (one participant may hold several). Auditors need none.
uint8 constant ROLE_BANK = 1 << 0;
uint8 constant ROLE_CORE_ENTERPRISE = 1 << 1;
uint8 constant ROLE_SUPPLIER = 1 << 2;
uint8 constant ROLE_MERCHANT = 1 << 3;
uint8 constant ROLE_LESSEE = 1 << 4;
uint8 constant ROLE_CREDIT_ORACLE = 1 << 5;
uint8 constant ROLE_IOT_ORACLE = 1 << 6;
uint8 constant ALL_PARTICIPANT_ROLES = (1 << 7) - 1;

/// @title IParticipantRegistry
/// @notice The bank's KYC register: who may take part in Yinqi, in which business roles, and
/// whether they are currently allowed to act. Every product contract asks it before moving value.
/// @dev Business roles are bits of a `uint8` mask so one participant may hold several (a supplier
/// that is also a merchant). Auditors need no role: all state is public and every change is logged.
interface IParticipantRegistry {
    /// @notice A participant's record. Packed into one storage slot plus the KYC hash.
    struct Participant {
        uint8 roles; // bit mask of ROLE_* constants; zero means not onboarded
        bool suspended; // true while the bank has suspended the participant
        uint40 onboardedAt; // block timestamp of onboarding
        uint40 updatedAt; // block timestamp of the last change
        bytes32 kycHash; // hash of the KYC dossier kept off chain
    }

    /// @notice The zero address cannot be a participant.
    error ParticipantZeroAddress();

    /// @notice `roles` is empty or has bits that name no role.
    error ParticipantInvalidRoles(uint8 roles);

    /// @notice `account` is already onboarded.
    error ParticipantAlreadyOnboarded(address account);

    /// @notice `account` has not been onboarded.
    error ParticipantNotOnboarded(address account);

    /// @notice `account` is already suspended.
    error ParticipantAlreadySuspended(address account);

    /// @notice `account` is not suspended, so it cannot be reinstated.
    error ParticipantNotSuspended(address account);

    /// @notice `account` is not an active participant holding every role in `requiredRoles`.
    error ParticipantNotAuthorized(address account, uint8 requiredRoles);

    /// @notice The merchant id hashing to `merchantIdHash` is already bound to another account, `holder`.
    error ParticipantMerchantIdTaken(bytes32 merchantIdHash, address holder);

    /// @notice `account` was onboarded with `roles` after KYC documented by `kycHash`.
    event ParticipantOnboarded(address indexed account, uint8 roles, bytes32 kycHash, string name);

    /// @notice The roles of `account` changed from `previousRoles` to `newRoles`.
    event ParticipantRolesChanged(address indexed account, uint8 previousRoles, uint8 newRoles);

    /// @notice The KYC dossier of `account` was renewed; its hash is now `kycHash`.
    event ParticipantKycUpdated(address indexed account, bytes32 kycHash);

    /// @notice `account` was suspended for the bank's reason code `reason`.
    event ParticipantSuspended(address indexed account, bytes32 indexed reason);

    /// @notice `account` was reinstated after a suspension.
    event ParticipantReinstated(address indexed account);

    /// @notice The bank bound `account` to the merchant id hashing to `merchantIdHash` (the id under
    /// which the data platform knows the merchant; zero: unbound), replacing `previousHash`.
    event MerchantIdBound(address indexed account, bytes32 indexed merchantIdHash, bytes32 previousHash);

    /// @notice Onboards `account` with the business `roles` after KYC.
    function onboard(address account, uint8 roles, bytes32 kycHash, string calldata name) external;

    /// @notice Replaces the business roles of an onboarded `account`.
    function setRoles(address account, uint8 roles) external;

    /// @notice Records a renewed KYC dossier for `account`.
    function updateKyc(address account, bytes32 kycHash) external;

    /// @notice Suspends `account`: it keeps its record but may not act until reinstated.
    function suspend(address account, bytes32 reason) external;

    /// @notice Lifts the suspension of `account`.
    function reinstate(address account) external;

    /// @notice Binds the merchant `account` to the merchant id hashing to `merchantIdHash`
    /// (`keccak256` of the id's UTF-8 text), replacing any earlier binding; zero unbinds. The credit
    /// oracle scores a wallet only under the id the bank bound it to, so no wallet can claim another
    /// merchant's data by naming its id.
    function bindMerchantId(address account, bytes32 merchantIdHash) external;

    /// @notice The hash of the merchant id bound to `account` (zero: none).
    function merchantIdHashOf(address account) external view returns (bytes32);

    /// @notice The account bound to the merchant id hashing to `merchantIdHash` (zero: none).
    function merchantOf(bytes32 merchantIdHash) external view returns (address);

    /// @notice The record of `account` (all zero if never onboarded).
    function participant(address account) external view returns (Participant memory);

    /// @notice Whether `account` is onboarded, not suspended, and holds every role in `requiredRoles`.
    function isAuthorized(address account, uint8 requiredRoles) external view returns (bool);

    /// @notice {isAuthorized} for two accounts in one call (a sender and a receiver, say).
    function areAuthorized(address a, uint8 rolesA, address b, uint8 rolesB) external view returns (bool, bool);

    /// @notice Reverts with {ParticipantNotAuthorized} unless {isAuthorized} holds.
    function checkAuthorized(address account, uint8 requiredRoles) external view;

    /// @notice How many accounts have ever been onboarded.
    function participantCount() external view returns (uint256);

    /// @notice The `index`-th onboarded account, in onboarding order.
    function participantAt(uint256 index) external view returns (address);
}

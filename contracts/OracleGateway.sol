// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IOracleGateway, IReportConsumer} from "./interfaces/IOracleGateway.sol";

/// @title OracleGateway
/// @notice The one door oracle data comes through: k-of-n EIP-712 signatures, a strictly increasing
/// sequence per feed (replays refused), a bounded as-of time; then the feed's consumer applies it.
/// @dev Signatures must come in ascending signer order, which makes a duplicate impossible without a
/// set. `ORACLE_MANAGER_ROLE` (the bank) admits and removes operators and configures feeds; removing
/// an operator below a feed's quorum halts that feed until the bank lowers the quorum or adds one.
contract OracleGateway is IOracleGateway, AccessControlDefaultAdminRules, EIP712 {
    bytes32 public constant ORACLE_MANAGER_ROLE = keccak256("ORACLE_MANAGER_ROLE");
    bytes32 public constant REPORT_TYPEHASH =
        keccak256("Report(bytes32 feed,uint64 sequence,uint64 asOf,bytes32 payloadHash)");
    /// @notice How far a report's as-of time may run ahead of the chain's clock.
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;

    mapping(address operator => bool) public isOperator;
    uint256 public operatorCount;
    mapping(bytes32 feed => Feed) private _feeds;

    /// @param admin The bank's admin account: default admin and oracle manager.
    /// @param adminTransferDelay Seconds a default-admin handover must wait before acceptance.
    constructor(
        address admin,
        uint48 adminTransferDelay
    ) AccessControlDefaultAdminRules(adminTransferDelay, admin) EIP712("Yinqi Oracle Gateway", "1") {
        _grantRole(ORACLE_MANAGER_ROLE, admin);
    }

    /// @inheritdoc IOracleGateway
    /// @dev Requirements: `feed` configured; `sequence` > the feed's last; now − maxAge ≤ `asOf` ≤
    /// now + {MAX_CLOCK_SKEW}; at least `quorum` signatures, each by an operator, signers ascending.
    /// Emits {ReportAccepted}, then whatever the consumer emits.
    function submit(
        bytes32 feed,
        uint64 sequence,
        uint64 asOf,
        bytes calldata payload,
        bytes[] calldata signatures
    ) external {
        Feed memory f = _feeds[feed];
        if (f.consumer == address(0)) revert GatewayUnknownFeed(feed);
        if (sequence <= f.lastSequence) revert GatewaySequenceNotIncreasing(feed, sequence, f.lastSequence);
        if (asOf > block.timestamp + MAX_CLOCK_SKEW)
            revert GatewayReportFromFuture(asOf, block.timestamp + MAX_CLOCK_SKEW);
        if (asOf + uint256(f.maxAge) < block.timestamp) revert GatewayReportTooOld(asOf, block.timestamp - f.maxAge);
        bytes32 payloadHash = keccak256(payload);
        _checkSignatures(_digest(feed, sequence, asOf, payloadHash), signatures, f.quorum);

        _feeds[feed].lastSequence = sequence;
        emit ReportAccepted(feed, sequence, asOf, payloadHash, msg.sender);
        IReportConsumer(f.consumer).onReport(feed, asOf, payload);
    }

    /// @notice Admits `operator` as a report signer.
    /// @dev Requirements: caller has `ORACLE_MANAGER_ROLE`; `operator` non-zero and not yet an operator.
    /// Emits {OperatorAdded}.
    function addOperator(address operator) external onlyRole(ORACLE_MANAGER_ROLE) {
        if (operator == address(0)) revert GatewayZeroAddress();
        if (isOperator[operator]) revert GatewayOperatorExists(operator);
        isOperator[operator] = true;
        operatorCount += 1;
        emit OperatorAdded(operator);
    }

    /// @notice Removes `operator`: its signatures no longer count.
    /// @dev Requirements: caller has `ORACLE_MANAGER_ROLE`; an operator. Emits {OperatorRemoved}.
    function removeOperator(address operator) external onlyRole(ORACLE_MANAGER_ROLE) {
        if (!isOperator[operator]) revert GatewayOperatorUnknown(operator);
        isOperator[operator] = false;
        operatorCount -= 1;
        emit OperatorRemoved(operator);
    }

    /// @notice Routes `feed` to `consumer`, needing `quorum` signatures and as-of times at most
    /// `maxAge` seconds old. Keeps the feed's sequence, so reconfiguring never reopens replays.
    /// @dev Requirements: caller has `ORACLE_MANAGER_ROLE`; `consumer` a contract; 1 ≤ `quorum` ≤
    /// operators; `maxAge` > 0. Emits {FeedConfigured}.
    function configureFeed(
        bytes32 feed,
        address consumer,
        uint8 quorum,
        uint24 maxAge
    ) external onlyRole(ORACLE_MANAGER_ROLE) {
        if (consumer.code.length == 0 || quorum == 0 || quorum > operatorCount || maxAge == 0) {
            revert GatewayInvalidFeed(consumer, quorum, maxAge);
        }
        Feed storage f = _feeds[feed];
        (f.consumer, f.quorum, f.maxAge) = (consumer, quorum, maxAge);
        emit FeedConfigured(feed, consumer, quorum, maxAge);
    }

    /// @notice The configuration and last sequence of `feed`.
    function feeds(bytes32 feed) external view returns (Feed memory) {
        return _feeds[feed];
    }

    /// @inheritdoc IOracleGateway
    function reportDigest(
        bytes32 feed,
        uint64 sequence,
        uint64 asOf,
        bytes calldata payload
    ) external view returns (bytes32) {
        return _digest(feed, sequence, asOf, keccak256(payload));
    }

    function _digest(bytes32 feed, uint64 sequence, uint64 asOf, bytes32 payloadHash) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REPORT_TYPEHASH, feed, sequence, asOf, payloadHash)));
    }

    function _checkSignatures(bytes32 digest, bytes[] calldata signatures, uint8 quorum) private view {
        if (signatures.length < quorum) revert GatewayQuorumNotMet(signatures.length, quorum);
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (!isOperator[signer]) revert GatewayNotOperator(signer);
            if (signer <= previous) revert GatewaySignersNotAscending(signer, previous);
            previous = signer;
        }
    }
}

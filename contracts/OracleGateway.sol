// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IOracleGateway, IReportConsumer} from "./interfaces/IOracleGateway.sol";

/// @title OracleGateway
/// @notice The one door oracle data comes through: k-of-n EIP-712 signatures by the feed's own
/// operators, consecutive sequences per feed (replays and gaps refused), a bounded as-of time; then the
/// feed's consumer applies it.
/// @dev Signatures must come in ascending signer order, which makes a duplicate impossible without a
/// set. `ORACLE_MANAGER_ROLE` (the bank) admits and removes each feed's operators and configures feeds.
/// A feed never has fewer operators than its quorum: {removeOperator} refuses to go below it, so the
/// bank lowers the quorum or admits a successor first (a compromised last key: add, then remove).
contract OracleGateway is IOracleGateway, AccessControlDefaultAdminRules, EIP712 {
    bytes32 public constant ORACLE_MANAGER_ROLE = keccak256("ORACLE_MANAGER_ROLE");
    bytes32 public constant REPORT_TYPEHASH =
        keccak256("Report(bytes32 feed,uint64 sequence,uint64 asOf,bytes32 payloadHash)");
    /// @notice How far a report's as-of time may run ahead of the chain's clock.
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;

    /// @notice Whether `operator`'s signatures count for reports of `feed`.
    mapping(bytes32 feed => mapping(address operator => bool)) public isOperator;
    /// @notice How many operators `feed` has (never fewer than its quorum once configured).
    mapping(bytes32 feed => uint256) public operatorCount;
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
    /// @dev Requirements: `feed` configured; `sequence` = the feed's last + 1 (a jump to the top of the
    /// uint64 range would otherwise brick the feed); now − maxAge ≤ `asOf` ≤
    /// now + {MAX_CLOCK_SKEW}; at least `quorum` signatures, each by an operator of `feed`, signers
    /// ascending.
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
        uint256 expected = uint256(f.lastSequence) + 1;
        if (sequence != expected) revert GatewaySequenceNotNext(feed, sequence, expected);
        if (asOf > block.timestamp + MAX_CLOCK_SKEW)
            revert GatewayReportFromFuture(asOf, block.timestamp + MAX_CLOCK_SKEW);
        if (asOf + uint256(f.maxAge) < block.timestamp) revert GatewayReportTooOld(asOf, block.timestamp - f.maxAge);
        bytes32 payloadHash = keccak256(payload);
        _checkSignatures(feed, _digest(feed, sequence, asOf, payloadHash), signatures, f.quorum);

        _feeds[feed].lastSequence = sequence;
        emit ReportAccepted(feed, sequence, asOf, payloadHash, msg.sender);
        IReportConsumer(f.consumer).onReport(feed, asOf, payload);
    }

    /// @notice Admits `operator` as a signer of `feed`'s reports (and of no other feed's). A feed may
    /// get operators before it is configured.
    /// @dev Requirements: caller has `ORACLE_MANAGER_ROLE`; `operator` non-zero and not yet an operator
    /// of `feed`. Emits {OperatorAdded}.
    function addOperator(bytes32 feed, address operator) external onlyRole(ORACLE_MANAGER_ROLE) {
        if (operator == address(0)) revert GatewayZeroAddress();
        if (isOperator[feed][operator]) revert GatewayOperatorExists(feed, operator);
        isOperator[feed][operator] = true;
        operatorCount[feed] += 1;
        emit OperatorAdded(feed, operator);
    }

    /// @notice Removes `operator` from `feed`: its signatures no longer count for that feed. Refused when
    /// it would leave the feed fewer operators than its quorum, which would halt the feed: the bank lowers
    /// the quorum ({configureFeed}) or admits a successor first.
    /// @dev Requirements: caller has `ORACLE_MANAGER_ROLE`; an operator of `feed`; the feed keeps at
    /// least `quorum` operators (an unconfigured feed has quorum 0). Emits {OperatorRemoved}.
    function removeOperator(bytes32 feed, address operator) external onlyRole(ORACLE_MANAGER_ROLE) {
        if (!isOperator[feed][operator]) revert GatewayOperatorUnknown(feed, operator);
        uint256 left = operatorCount[feed] - 1; // ≥ 0: `operator` is one of them
        uint8 quorum = _feeds[feed].quorum;
        if (left < quorum) revert GatewayOperatorsBelowQuorum(feed, left, quorum);
        isOperator[feed][operator] = false;
        operatorCount[feed] = left;
        emit OperatorRemoved(feed, operator);
    }

    /// @notice Routes `feed` to `consumer`, needing `quorum` signatures and as-of times at most
    /// `maxAge` seconds old. Keeps the feed's sequence, so reconfiguring never reopens replays.
    /// @dev Requirements: caller has `ORACLE_MANAGER_ROLE`; `consumer` a contract; 1 ≤ `quorum` ≤ the
    /// feed's operators; `maxAge` > 0. Emits {FeedConfigured}.
    function configureFeed(
        bytes32 feed,
        address consumer,
        uint8 quorum,
        uint24 maxAge
    ) external onlyRole(ORACLE_MANAGER_ROLE) {
        uint256 operators = operatorCount[feed];
        if (consumer.code.length == 0 || quorum == 0 || quorum > operators || maxAge == 0) {
            revert GatewayInvalidFeed(feed, consumer, quorum, operators, maxAge);
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

    function _checkSignatures(bytes32 feed, bytes32 digest, bytes[] calldata signatures, uint8 quorum) private view {
        if (signatures.length < quorum) revert GatewayQuorumNotMet(signatures.length, quorum);
        mapping(address => bool) storage operators = isOperator[feed];
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (!operators[signer]) revert GatewayNotOperator(feed, signer);
            if (signer <= previous) revert GatewaySignersNotAscending(signer, previous);
            previous = signer;
        }
    }
}

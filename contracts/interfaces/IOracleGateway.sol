// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IReportConsumer
/// @notice A contract fed by the gateway (the credit line, later the equipment lease).
interface IReportConsumer {
    /// @notice Applies a report the gateway has verified. Called only by the gateway.
    function onReport(bytes32 feed, uint64 asOf, bytes calldata payload) external;
}

/// @title IOracleGateway
/// @notice Accepts oracle reports only when k of the n operators registered for the report's feed
/// signed them (EIP-712), in consecutive sequence per feed (each exactly one above the last), with an as-of time that is neither
/// in the future nor older than the feed allows, then hands them to the feed's consumer. Each feed has
/// its own operators and quorum: a key admitted for one feed signs nothing for another.
interface IOracleGateway {
    /// @notice A feed: where its reports go and how they are checked. One storage slot.
    struct Feed {
        address consumer;
        uint64 lastSequence;
        uint8 quorum; // k: valid operator signatures a report needs
        uint24 maxAge; // seconds a report's as-of time may lie in the past
    }

    /// @notice No consumer is configured for `feed`.
    error GatewayUnknownFeed(bytes32 feed);
    /// @notice For `feed`: `consumer` is not a contract, or `quorum` is 0 or above the feed's `operators`,
    /// or `maxAge` is 0.
    error GatewayInvalidFeed(bytes32 feed, address consumer, uint8 quorum, uint256 operators, uint24 maxAge);
    /// @notice Report `sequence` of `feed` is not the next one, `expected` (one above the last accepted):
    /// a replay, an older report or a gap.
    error GatewaySequenceNotNext(bytes32 feed, uint64 sequence, uint256 expected);
    /// @notice The report's as-of time `asOf` is after `latestAccepted` (now plus the allowed clock skew).
    error GatewayReportFromFuture(uint64 asOf, uint256 latestAccepted);
    /// @notice The report's as-of time `asOf` is before `oldestAccepted` (now minus the feed's maximum age).
    error GatewayReportTooOld(uint64 asOf, uint256 oldestAccepted);
    /// @notice A signature on a report of `feed` recovers to `signer`, which is not an operator of that feed.
    error GatewayNotOperator(bytes32 feed, address signer);
    /// @notice Signer `signer` does not come after `previous`: signatures must be ordered by signer, no repeats.
    error GatewaySignersNotAscending(address signer, address previous);
    /// @notice The report carries `signatures` signatures, fewer than the feed's `quorum`.
    error GatewayQuorumNotMet(uint256 signatures, uint8 quorum);
    /// @notice `operator` is already an operator of `feed`.
    error GatewayOperatorExists(bytes32 feed, address operator);
    /// @notice The zero address cannot be an operator (no signature recovers to it).
    error GatewayZeroAddress();
    /// @notice `operator` is not an operator of `feed`, so it cannot be removed.
    error GatewayOperatorUnknown(bytes32 feed, address operator);
    /// @notice Removing an operator would leave `feed` with `operators` operators, fewer than its
    /// `quorum`: lower the quorum ({configureFeed}) or add a successor first.
    error GatewayOperatorsBelowQuorum(bytes32 feed, uint256 operators, uint8 quorum);

    /// @notice `operator` may now sign reports of `feed`.
    event OperatorAdded(bytes32 indexed feed, address indexed operator);
    /// @notice `operator`'s signatures no longer count for `feed`.
    event OperatorRemoved(bytes32 indexed feed, address indexed operator);
    event FeedConfigured(bytes32 indexed feed, address consumer, uint8 quorum, uint24 maxAge);

    /// @notice Report `sequence` of `feed` (as of `asOf`, payload hash `payloadHash`) was accepted.
    event ReportAccepted(
        bytes32 indexed feed,
        uint64 indexed sequence,
        uint64 asOf,
        bytes32 payloadHash,
        address submitter
    );

    /// @notice Verifies and delivers a report. Anyone may relay it: the signatures are what count.
    function submit(
        bytes32 feed,
        uint64 sequence,
        uint64 asOf,
        bytes calldata payload,
        bytes[] calldata signatures
    ) external;

    /// @notice The EIP-712 digest operators sign for a report.
    function reportDigest(
        bytes32 feed,
        uint64 sequence,
        uint64 asOf,
        bytes calldata payload
    ) external view returns (bytes32);
}

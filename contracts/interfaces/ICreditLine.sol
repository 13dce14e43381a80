// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ICreditLine
/// @notice Revolving credit lines for merchants (随借随还): the credit oracle sets each merchant's
/// score, limit and rate through the gateway; the merchant draws up to its limit from the bank's pool
/// and repays any time; interest accrues per second on drawn principal.
interface ICreditLine {
    enum LineStatus {
        None, // never scored
        Active,
        Frozen, // the bank froze it: repay only
        Defaulted // the bank marked it defaulted (see {markDefaulted}): repay only, terminal
    }

    /// @notice One merchant's line as {lineOf} shows it (stored as {Terms} and {Debt}).
    struct Line {
        uint64 limit; // units of the settlement token the merchant may have drawn at once
        uint16 score; // 300–900 on the policy's scale
        uint16 rateBps; // annual interest on drawn principal
        uint40 scoredAt; // the report's as-of time
        LineStatus status;
        uint64 pendingLimit; // a raise beyond the bank's step, held for the bank to confirm (0: none)
        uint64 drawn; // principal outstanding
        uint64 interest; // interest accrued and unpaid
        uint40 accruedAt; // when interest was last accrued
    }

    /// @notice What the oracle and the bank set: one slot, written whole by each oracle update.
    struct Terms {
        uint64 limit;
        uint16 rateBps;
        uint16 score;
        uint40 scoredAt;
        LineStatus status;
        uint64 pendingLimit;
    }

    /// @notice What the merchant owes: one slot, touched by draws, repayments and rate changes.
    struct Debt {
        uint64 drawn;
        uint64 interest;
        uint40 accruedAt;
    }

    /// @notice `caller` is not the oracle gateway, the only sender of score reports.
    error CreditLineNotGateway(address caller);
    /// @notice A score report's payload of `length` bytes is not a 64-byte header and whole 32-byte words.
    error CreditLineMalformedReport(uint256 length);
    /// @notice A report gives `merchant` a `limit` above {maxLimit}, a `score` above {MAX_SCORE} or a
    /// `rateBps` above {maxRateBps}.
    error CreditLineOutOfBounds(address merchant, uint256 limit, uint256 score, uint256 rateBps);
    /// @notice A report names `merchant` after `previous`: merchants must come in strictly ascending
    /// address order, so none appears twice in one report.
    error CreditLineMerchantsNotAscending(address merchant, address previous);
    /// @notice A report as of `asOf` would move `merchant`'s score back from `scoredAt`.
    error CreditLineReportOlderThanScore(address merchant, uint256 asOf, uint256 scoredAt);
    /// @notice `merchant`'s line is `status`, not active, so it cannot draw or be frozen.
    error CreditLineNotActive(address merchant, LineStatus status);
    /// @notice `merchant`'s line is `status`, not frozen, so there is no freeze to lift.
    error CreditLineNotFrozen(address merchant, LineStatus status);
    /// @notice `merchant`'s score from `scoredAt` is older than `maxAge` seconds, too old to draw on.
    error CreditLineScoreStale(address merchant, uint256 scoredAt, uint256 maxAge);
    /// @notice `merchant` asked to draw `requested` with only `available` left under its limit.
    error CreditLineLimitExceeded(address merchant, uint256 available, uint256 requested);
    /// @notice `account` is not an active participant with the merchant role.
    error CreditLineNotMerchant(address account);
    /// @notice A draw or repayment of zero was asked.
    error CreditLineZeroAmount();
    /// @notice `merchant` owes `owed` (interest and principal), less than the `amount` it tried to repay.
    error CreditLineRepaymentTooLarge(address merchant, uint256 owed, uint256 amount);
    /// @notice `merchant` owes `owed`, more than the `maxAmount` it offered to repay it all with.
    error CreditLineOwedAboveMax(address merchant, uint256 owed, uint256 maxAmount);
    /// @notice `merchant` has no held limit raise for the bank to confirm.
    error CreditLineNothingPending(address merchant);
    /// @notice `merchant`'s held raise is `pendingLimit`, not the `expectedLimit` the bank confirmed (a
    /// report changed it since the bank looked).
    error CreditLinePendingLimitMismatch(address merchant, uint256 pendingLimit, uint256 expectedLimit);
    /// @notice `merchant`'s line is not frozen, not frozen long enough, or owes nothing.
    error CreditLineNotDefaultable(address merchant);
    /// @notice The bank's bounds must all be non-zero: a limit of at most `maxLimit`, a score at most
    /// `maxScoreAge` seconds old, raises of `maxLimitStep` without confirmation, default after
    /// `defaultAfterFrozen` seconds frozen, a rate of at most `maxRateBps`.
    error CreditLineInvalidBounds(
        uint256 maxLimit,
        uint256 maxScoreAge,
        uint256 maxLimitStep,
        uint256 defaultAfterFrozen,
        uint256 maxRateBps
    );

    /// @notice A report from model `modelHash` set the lines in `updates`, as of `asOf`. `updates` is the
    /// report's packed words, one per merchant (`merchant << 96 | limit in whole tokens << 32 |
    /// score << 16 | rateBps`): one event per batch keeps a merchant's update near the storage floor
    /// while auditors still see every value. `featuresRoot` commits (Merkle root) to every merchant's
    /// input features, which stay off chain. Raises beyond the bank's step appear in `updates` as
    /// reported and are held ({LimitIncreaseHeld}).
    event ScoresApplied(bytes32 indexed modelHash, bytes32 featuresRoot, uint64 asOf, bytes updates);
    /// @notice A raise of `merchant`'s limit to `requested` exceeds the bank's step and awaits confirmation.
    event LimitIncreaseHeld(address indexed merchant, uint256 current, uint256 requested);
    event LimitIncreaseConfirmed(address indexed merchant, uint256 limit);
    event Drawn(address indexed merchant, uint256 amount, uint256 drawn);
    event Repaid(address indexed merchant, uint256 interestPaid, uint256 principalPaid, uint256 drawn);
    event InterestAccrued(address indexed merchant, uint256 amount, uint256 interest);
    event LineFrozen(address indexed merchant, bytes32 reason, uint256 defaultableAt);
    event LineUnfrozen(address indexed merchant);
    event LineDefaulted(address indexed merchant, uint256 principal, uint256 interest);
    /// @notice `merchant` revoked every consent to be scored signed with a nonce below `nonce` (its
    /// consent nonce now): the credit oracle stops scoring it from its next cycle, as the bank's policy says.
    event ConsentRevoked(address indexed merchant, uint256 nonce);
    event BoundsSet(
        uint256 maxLimit,
        uint256 maxScoreAge,
        uint256 maxLimitStep,
        uint256 defaultAfterFrozen,
        uint256 maxRateBps
    );
}

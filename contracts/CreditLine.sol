// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ICreditLine} from "./interfaces/ICreditLine.sol";
import {IFinancingPool} from "./interfaces/IFinancingPool.sol";
import {IReportConsumer} from "./interfaces/IOracleGateway.sol";
import {IParticipantRegistry, ROLE_MERCHANT} from "./interfaces/IParticipantRegistry.sol";
import {AccessControlPausable} from "./utils/AccessControlPausable.sol";
import {SelfPermit} from "./utils/SelfPermit.sol";

/// @title CreditLine
/// @notice Revolving credit (随借随还) on scores the credit oracle reports through the gateway.
/// @dev Report payload: `abi.encodePacked(bytes32 modelHash, bytes32 featuresRoot, uint256[] words)`,
/// each word `merchant << 96 | limit (whole tokens, 64 bits) << 32 | score << 16 | rateBps`, merchants
/// in strictly ascending address order (so each appears at most once, checked without a set).
/// Interest: `ceil(drawn × rateBps × seconds / (10,000 × 365 days))`, accrued before any change to
/// principal or rate, rounded in the bank's favour by less than one unit. Repayment pays interest
/// first. A limit cut below what is drawn leaves the merchant able to repay only.
/// Default rule: the bank may mark a line defaulted once it has been frozen for `defaultAfterFrozen`
/// seconds (the setting when it was frozen) with money still owed (freezing is the bank's act on a
/// missed obligation or alert).
/// Roles: `CREDIT_MANAGER_ROLE` (the bank) confirms held raises, freezes, unfreezes, marks defaults
/// and sets the bounds (maximum limit, score age, limit step, time frozen before default, maximum
/// rate); `PAUSER_ROLE` stops drawing (repayment goes on).
contract CreditLine is ICreditLine, IReportConsumer, ReentrancyGuard, AccessControlPausable, SelfPermit {
    using SafeERC20 for IERC20;

    bytes32 public constant CREDIT_MANAGER_ROLE = keccak256("CREDIT_MANAGER_ROLE");
    uint256 public constant MAX_SCORE = 1_000;
    /// @notice The maximum rate a line gets at deployment: 36.5 % a year (the bank may set another).
    uint16 public constant DEFAULT_MAX_RATE_BPS = 3_650;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _YEAR = 365 days;

    // A report's payload: a header of two bytes32 (model hash, features root), then one word per merchant.
    uint256 private constant _WORD_BYTES = 32;
    uint256 private constant _HEADER_BYTES = 2 * _WORD_BYTES;
    // Where a word's fields start (see the contract's description): merchant, limit, score; rateBps at 0.
    uint256 private constant _MERCHANT_SHIFT = 96;
    uint256 private constant _LIMIT_SHIFT = 32;
    uint256 private constant _SCORE_SHIFT = 16;
    // Where {Terms}' members start in its slot, as Solidity packs a struct (first member in the lowest
    // bits; limit at 0). {_apply} reads and writes the slot whole with these; tests pin them to the struct.
    uint256 private constant _TERMS_RATE_OFFSET = 64;
    uint256 private constant _TERMS_SCORE_OFFSET = 80;
    uint256 private constant _TERMS_SCORED_AT_OFFSET = 96;
    uint256 private constant _TERMS_STATUS_OFFSET = 136;
    uint256 private constant _TERMS_PENDING_OFFSET = 144;

    IParticipantRegistry public immutable registry;
    IERC20 public immutable settlementToken;
    IFinancingPool public immutable pool;
    address public immutable gateway;
    uint256 private immutable _unit; // token units per whole token

    // Bank-set bounds, one slot (shared with the pause flag: see {AccessControlPausable}).
    uint64 public maxLimit; // units
    uint32 public maxScoreAge; // seconds a score stays usable for drawing
    uint64 public maxLimitStep; // units a report may raise a limit by without the bank's confirmation
    uint32 public defaultAfterFrozen; // seconds frozen, with debt, before the bank may mark default (lines frozen after it is set)
    uint16 public maxRateBps; // the highest annual rate a report may set

    mapping(address merchant => Terms) private _terms;
    mapping(address merchant => Debt) private _debts;
    /// @notice When a frozen line may first be marked defaulted: fixed when it was frozen.
    mapping(address merchant => uint256) public defaultableAt;
    /// @notice The nonce a merchant's consent to be scored must carry to be valid now (see {revokeConsent}).
    mapping(address merchant => uint256 nonce) public consentNonce;

    constructor(
        IParticipantRegistry registry_,
        IERC20 token,
        uint8 tokenDecimals,
        IFinancingPool pool_,
        address gateway_,
        address admin,
        uint48 adminTransferDelay
    ) AccessControlPausable(adminTransferDelay, admin) {
        registry = registry_;
        settlementToken = token;
        pool = pool_;
        gateway = gateway_;
        _unit = 10 ** tokenDecimals;
        _grantRole(CREDIT_MANAGER_ROLE, admin);
        _setBounds(uint64(500_000 * _unit), 30 days, uint64(100_000 * _unit), 90 days, DEFAULT_MAX_RATE_BPS);
    }

    /// @inheritdoc IReportConsumer
    /// @dev Requirements: caller the gateway; payload well-formed; merchants strictly ascending (each
    /// at most once, so a raise is measured against the limit before the report: several words cannot
    /// ratchet a limit past {maxLimitStep}); every limit ≤ {maxLimit}, score ≤ {MAX_SCORE} and rate ≤
    /// {maxRateBps}; `asOf` not before any named line's `scoredAt` (reports come in sequence, so an
    /// older one is the oracle's error, not one merchant's). Any failure reverts the whole report, so the
    /// oracle keeps it unsent. Lines frozen or defaulted keep their state but record the new score.
    /// Emits {ScoresApplied}, and {LimitIncreaseHeld} for raises beyond {maxLimitStep}.
    function onReport(bytes32, uint64 asOf, bytes calldata payload) external {
        if (msg.sender != gateway) revert CreditLineNotGateway(msg.sender);
        if (payload.length < _HEADER_BYTES || (payload.length - _HEADER_BYTES) % _WORD_BYTES != 0) {
            revert CreditLineMalformedReport(payload.length);
        }
        (uint64 maxLimit_, uint64 step, uint16 maxRate) = (maxLimit, maxLimitStep, maxRateBps);
        uint256 previous; // the last word's merchant: 0, below every merchant, before the first word
        for (uint256 at = _HEADER_BYTES; at < payload.length; ) {
            uint256 word;
            assembly ("memory-safe") {
                word := calldataload(add(payload.offset, at)) // in bounds: length checked above
            }
            uint256 merchant = word >> _MERCHANT_SHIFT;
            if (merchant <= previous) {
                revert CreditLineMerchantsNotAscending(address(uint160(merchant)), address(uint160(previous)));
            }
            previous = merchant;
            _apply(word, uint40(asOf), maxLimit_, step, maxRate);
            unchecked {
                at += _WORD_BYTES; // at < payload.length, a calldata length: far below 2^256
            }
        }
        emit ScoresApplied(
            bytes32(payload[:_WORD_BYTES]), // the model's hash
            bytes32(payload[_WORD_BYTES:_HEADER_BYTES]), // the features' Merkle root
            asOf,
            payload[_HEADER_BYTES:]
        );
    }

    /// @dev The hot path of a batch: the line's {Terms} slot is read once and written once, as a word
    /// laid out as Solidity packs {Terms} (the `_TERMS_*_OFFSET`s). Kept in assembly for gas: plain
    /// struct code costs 1.71x the storage floor per merchant in a batch of 100 (the legacy code
    /// generator rewrites the slot once per member), this 1.41x (bench/credit_gas.py; target 1.5x).
    function _apply(uint256 word, uint40 asOf, uint64 maxLimit_, uint64 step, uint16 maxRate) private {
        address merchant = address(uint160(word >> _MERCHANT_SHIFT));
        uint256 limit = uint256(uint64(word >> _LIMIT_SHIFT)) * _unit;
        if (limit > maxLimit_ || uint16(word >> _SCORE_SHIFT) > MAX_SCORE || uint16(word) > maxRate) {
            revert CreditLineOutOfBounds(merchant, limit, uint16(word >> _SCORE_SHIFT), uint16(word));
        }
        Terms storage terms = _terms[merchant];
        uint256 old;
        assembly ("memory-safe") {
            old := sload(terms.slot)
        }
        if (asOf < uint40(old >> _TERMS_SCORED_AT_OFFSET)) {
            revert CreditLineReportOlderThanScore(merchant, asOf, uint40(old >> _TERMS_SCORED_AT_OFFSET));
        }
        if (uint16(old >> _TERMS_RATE_OFFSET) != uint16(word) && _debts[merchant].drawn != 0) {
            _accrue(merchant, _debts[merchant], uint16(old >> _TERMS_RATE_OFFSET)); // the old rate up to now
        }
        uint256 current = uint64(old);
        uint256 pending;
        if (limit > current + step) {
            (pending, limit) = (limit, current);
            emit LimitIncreaseHeld(merchant, current, pending);
        }
        uint256 status = uint8(old >> _TERMS_STATUS_OFFSET);
        if (status == uint256(LineStatus.None)) status = uint256(LineStatus.Active);
        // every value fits its member: limit and pending ≤ maxLimit_ (64 bits), the rest cast to size
        uint256 updated = limit | (uint256(uint16(word)) << _TERMS_RATE_OFFSET);
        updated |= uint256(uint16(word >> _SCORE_SHIFT)) << _TERMS_SCORE_OFFSET;
        updated |=
            (uint256(asOf) << _TERMS_SCORED_AT_OFFSET) |
            (status << _TERMS_STATUS_OFFSET) |
            (pending << _TERMS_PENDING_OFFSET);
        assembly ("memory-safe") {
            sstore(terms.slot, updated)
        }
    }

    /// @notice The merchant draws `amount` from its line, paid from the bank's pool now.
    /// @dev Requirements: not paused; caller an active merchant; line active; score no older than
    /// {maxScoreAge}; drawn + `amount` ≤ limit. Emits {InterestAccrued}, {Drawn}, the pool's {Disbursed}.
    function draw(uint256 amount) external whenNotPaused nonReentrant {
        if (!registry.isAuthorized(msg.sender, ROLE_MERCHANT)) revert CreditLineNotMerchant(msg.sender);
        if (amount == 0) revert CreditLineZeroAmount();
        Terms memory t = _terms[msg.sender];
        if (t.status != LineStatus.Active) revert CreditLineNotActive(msg.sender, t.status);
        if (block.timestamp > uint256(t.scoredAt) + maxScoreAge) {
            revert CreditLineScoreStale(msg.sender, t.scoredAt, maxScoreAge);
        }
        Debt storage debt = _debts[msg.sender];
        _accrue(msg.sender, debt, t.rateBps);
        uint256 room = t.limit > debt.drawn ? t.limit - debt.drawn : 0;
        if (amount > room) revert CreditLineLimitExceeded(msg.sender, room, amount);
        debt.drawn += uint64(amount); // ≤ limit, a uint64
        emit Drawn(msg.sender, amount, debt.drawn);
        pool.disburse(msg.sender, amount);
    }

    /// @notice The merchant repays `amount`: interest first, then principal, into the bank's pool.
    /// @dev Requirements: 0 < `amount` ≤ interest + principal; the caller approved it. Works in every
    /// line status and while paused. Emits {InterestAccrued}, {Repaid}.
    function repay(uint256 amount) external nonReentrant {
        if (amount == 0) revert CreditLineZeroAmount();
        Debt storage debt = _debts[msg.sender];
        _accrue(msg.sender, debt, _terms[msg.sender].rateBps);
        uint256 owed = uint256(debt.interest) + debt.drawn;
        if (amount > owed) revert CreditLineRepaymentTooLarge(msg.sender, owed, amount);
        _repay(debt, amount);
    }

    /// @notice The merchant repays all it owes now (interest to this second, then the principal), if
    /// that is at most `maxAmount`: the whole debt in one call, with no amount to guess while interest
    /// accrues by the second. Returns what it paid.
    /// @dev Requirements: something is owed, at most `maxAmount`; the caller approved it (a permit of
    /// `maxAmount` leaves the difference approved: a few seconds' interest). Works in every line status
    /// and while paused. Emits {InterestAccrued}, {Repaid}.
    function repayAll(uint256 maxAmount) external nonReentrant returns (uint256 owed) {
        Debt storage debt = _debts[msg.sender];
        _accrue(msg.sender, debt, _terms[msg.sender].rateBps);
        owed = uint256(debt.interest) + debt.drawn;
        if (owed == 0) revert CreditLineZeroAmount();
        if (owed > maxAmount) revert CreditLineOwedAboveMax(msg.sender, owed, maxAmount);
        _repay(debt, owed);
    }

    /// @dev Takes `amount` (≤ what `debt` owes, accrued) from the caller into the pool: interest first.
    function _repay(Debt storage debt, uint256 amount) private {
        uint256 toInterest = Math.min(amount, debt.interest);
        debt.interest -= uint64(toInterest);
        debt.drawn -= uint64(amount - toInterest); // amount ≤ interest + drawn
        emit Repaid(msg.sender, toInterest, amount - toInterest, debt.drawn);
        settlementToken.safeTransferFrom(msg.sender, address(pool), amount);
    }

    /// @notice Applies `merchant`'s held limit raise if it is still `expectedLimit`, the raise the bank
    /// reviewed: a report landing in between may have replaced it, and the bank confirms only what it saw.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; a raise is pending and equals `expectedLimit`.
    /// Emits {LimitIncreaseConfirmed}.
    function confirmLimit(address merchant, uint256 expectedLimit) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        uint64 pending = t.pendingLimit;
        if (pending == 0) revert CreditLineNothingPending(merchant);
        if (pending != expectedLimit) revert CreditLinePendingLimitMismatch(merchant, pending, expectedLimit);
        (t.limit, t.pendingLimit) = (pending, 0);
        emit LimitIncreaseConfirmed(merchant, pending);
    }

    /// @notice The caller withdraws its consent to be scored: every consent it signed so far (they carry
    /// the nonce {consentNonce} had) is void, and a new one must carry the nonce this returns. The
    /// credit oracle honours it on its next cycle by the bank's policy (the limit cut to zero, or the
    /// line left to go stale); what is drawn stays owed at its rate.
    /// @dev Anyone may call it, for itself only. Emits {ConsentRevoked}.
    function revokeConsent() external returns (uint256 nonce) {
        nonce = ++consentNonce[msg.sender];
        emit ConsentRevoked(msg.sender, nonce);
    }

    /// @notice Freezes a line: the merchant may repay but not draw.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; line active. Emits {LineFrozen}.
    function freeze(address merchant, bytes32 reason) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        if (t.status != LineStatus.Active) revert CreditLineNotActive(merchant, t.status);
        t.status = LineStatus.Frozen;
        uint256 at = block.timestamp + defaultAfterFrozen;
        defaultableAt[merchant] = at;
        emit LineFrozen(merchant, reason, at);
    }

    /// @notice Lifts a freeze.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; line frozen. Emits {LineUnfrozen}.
    function unfreeze(address merchant) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        if (t.status != LineStatus.Frozen) revert CreditLineNotFrozen(merchant, t.status);
        t.status = LineStatus.Active;
        emit LineUnfrozen(merchant);
    }

    /// @notice Marks a line defaulted (feeds the NPL rate).
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; line frozen, now ≥ its {defaultableAt}, with
    /// principal or interest owed. Emits {InterestAccrued}, {LineDefaulted}.
    function markDefaulted(address merchant) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        Debt storage debt = _debts[merchant];
        _accrue(merchant, debt, t.rateBps);
        if (
            t.status != LineStatus.Frozen ||
            block.timestamp < defaultableAt[merchant] ||
            debt.drawn + debt.interest == 0
        ) revert CreditLineNotDefaultable(merchant);
        t.status = LineStatus.Defaulted;
        emit LineDefaulted(merchant, debt.drawn, debt.interest);
    }

    /// @notice Sets the bank's bounds on what reports may set and how lines behave. A rate above the new
    /// `maxRateBps_` that a line already has stays until its next report.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; all non-zero. Emits {BoundsSet}.
    function setBounds(
        uint64 maxLimit_,
        uint32 maxScoreAge_,
        uint64 maxLimitStep_,
        uint32 defaultAfterFrozen_,
        uint16 maxRateBps_
    ) external onlyRole(CREDIT_MANAGER_ROLE) {
        _setBounds(maxLimit_, maxScoreAge_, maxLimitStep_, defaultAfterFrozen_, maxRateBps_);
    }

    /// @notice `merchant`'s line with interest accrued up to now.
    function lineOf(address merchant) external view returns (Line memory) {
        Terms memory t = _terms[merchant];
        Debt memory d = _debts[merchant];
        return
            Line({
                limit: t.limit,
                score: t.score,
                rateBps: t.rateBps,
                scoredAt: t.scoredAt,
                status: t.status,
                pendingLimit: t.pendingLimit,
                drawn: d.drawn,
                interest: d.interest + uint64(_interestSince(d, t.rateBps)),
                accruedAt: d.accruedAt
            });
    }

    function _accrue(address merchant, Debt storage debt, uint16 rateBps) private {
        uint256 due = _interestSince(debt, rateBps);
        debt.accruedAt = uint40(block.timestamp);
        if (due != 0) {
            debt.interest += uint64(due); // bounded by drawn × rate × time: far below 2^64 in practice
            emit InterestAccrued(merchant, due, debt.interest);
        }
    }

    function _interestSince(Debt memory debt, uint16 rateBps) private view returns (uint256) {
        if (debt.drawn == 0 || debt.accruedAt == 0) return 0;
        return
            Math.mulDiv(
                debt.drawn,
                uint256(rateBps) * (block.timestamp - debt.accruedAt),
                _BPS * _YEAR,
                Math.Rounding.Ceil
            );
    }

    function _setBounds(
        uint64 maxLimit_,
        uint32 maxScoreAge_,
        uint64 maxLimitStep_,
        uint32 defaultAfterFrozen_,
        uint16 maxRateBps_
    ) private {
        if (maxLimit_ == 0 || maxScoreAge_ == 0 || maxLimitStep_ == 0 || defaultAfterFrozen_ == 0 || maxRateBps_ == 0) {
            revert CreditLineInvalidBounds(maxLimit_, maxScoreAge_, maxLimitStep_, defaultAfterFrozen_, maxRateBps_);
        }
        (maxLimit, maxScoreAge, maxLimitStep, defaultAfterFrozen, maxRateBps) = (
            maxLimit_,
            maxScoreAge_,
            maxLimitStep_,
            defaultAfterFrozen_,
            maxRateBps_
        );
        emit BoundsSet(maxLimit_, maxScoreAge_, maxLimitStep_, defaultAfterFrozen_, maxRateBps_);
    }

    /// @dev Payments come in the settlement token: the permits {SelfPermit} takes are for it.
    function _permitToken() internal view override returns (address) {
        return address(settlementToken);
    }
}

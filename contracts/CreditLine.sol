// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ICreditLine} from "./interfaces/ICreditLine.sol";
import {IFinancingPool} from "./interfaces/IFinancingPool.sol";
import {IReportConsumer} from "./interfaces/IOracleGateway.sol";
import {IParticipantRegistry, ROLE_MERCHANT} from "./interfaces/IParticipantRegistry.sol";

/// @title CreditLine
/// @notice Revolving credit (随借随还) on scores the credit oracle reports through the gateway.
/// @dev Report payload: `abi.encodePacked(bytes32 modelHash, bytes32 featuresRoot, uint256[] words)`,
/// each word `merchant << 96 | limit (whole tokens, 64 bits) << 32 | score << 16 | rateBps`.
/// Interest: `ceil(drawn × rateBps × seconds / (10,000 × 365 days))`, accrued before any change to
/// principal or rate, rounded in the bank's favour by less than one unit. Repayment pays interest
/// first. A limit cut below what is drawn leaves the merchant able to repay only.
/// Default rule: the bank may mark a line defaulted once it has been frozen for `defaultAfterFrozen`
/// seconds with money still owed (freezing is the bank's act on a missed obligation or alert).
contract CreditLine is ICreditLine, IReportConsumer, AccessControlDefaultAdminRules, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant CREDIT_MANAGER_ROLE = keccak256("CREDIT_MANAGER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    uint256 public constant MAX_SCORE = 1_000;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _YEAR = 365 days;

    IParticipantRegistry public immutable registry;
    IERC20 public immutable settlementToken;
    IFinancingPool public immutable pool;
    address public immutable gateway;
    uint256 private immutable _unit; // token units per whole token

    // Bank-set bounds, one slot.
    uint64 public maxLimit; // units
    uint32 public maxScoreAge; // seconds a score stays usable for drawing
    uint64 public maxLimitStep; // units a report may raise a limit by without the bank's confirmation
    uint32 public defaultAfterFrozen; // seconds frozen, with debt, before the bank may mark default

    mapping(address merchant => Terms) private _terms;
    mapping(address merchant => Debt) private _debts;
    mapping(address merchant => uint40 frozenAt) private _frozenAt;

    constructor(
        IParticipantRegistry registry_,
        IERC20 token,
        uint8 tokenDecimals,
        IFinancingPool pool_,
        address gateway_,
        address admin,
        uint48 adminTransferDelay
    ) AccessControlDefaultAdminRules(adminTransferDelay, admin) {
        registry = registry_;
        settlementToken = token;
        pool = pool_;
        gateway = gateway_;
        _unit = 10 ** tokenDecimals;
        _grantRole(CREDIT_MANAGER_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _setBounds(uint64(500_000 * _unit), 30 days, uint64(100_000 * _unit), 90 days);
    }

    /// @inheritdoc IReportConsumer
    /// @dev Requirements: caller the gateway; payload well-formed; every limit ≤ {maxLimit} and score
    /// ≤ {MAX_SCORE} (else the whole report reverts, so the oracle keeps it unsent). Lines frozen or
    /// defaulted keep their state but record the new score. Emits {ScoresApplied}, and
    /// {LimitIncreaseHeld} for raises beyond {maxLimitStep}.
    function onReport(bytes32, uint64 asOf, bytes calldata payload) external {
        if (msg.sender != gateway) revert CreditLineNotGateway(msg.sender);
        if (payload.length < 64 || (payload.length - 64) % 32 != 0) revert CreditLineMalformedReport(payload.length);
        bytes32 modelHash = bytes32(payload[:32]);
        bytes32 featuresRoot = bytes32(payload[32:64]);
        uint256 count = (payload.length - 64) / 32;
        (uint64 maxLimit_, uint64 step) = (maxLimit, maxLimitStep);
        for (uint256 i; i < count; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := calldataload(add(payload.offset, add(64, shl(5, i)))) // in bounds: length checked above
            }
            _apply(word, uint40(asOf), maxLimit_, step);
        }
        emit ScoresApplied(modelHash, featuresRoot, asOf, payload[64:]);
    }

    /// @dev The hot path of a batch: the line's {Terms} slot is read once and written once, as a
    /// word laid out as Solidity packs {Terms} (first member in the lowest bits): limit [0,64),
    /// rateBps [64,80), score [80,96), scoredAt [96,136), status [136,144), pendingLimit [144,208).
    function _apply(uint256 word, uint40 asOf, uint64 maxLimit_, uint64 step) private {
        address merchant = address(uint160(word >> 96));
        uint256 limit = uint256(uint64(word >> 32)) * _unit;
        if (limit > maxLimit_ || uint16(word >> 16) > MAX_SCORE) {
            revert CreditLineOutOfBounds(merchant, limit, uint16(word >> 16));
        }
        Terms storage slot = _terms[merchant];
        uint256 old;
        assembly ("memory-safe") {
            old := sload(slot.slot)
        }
        if (uint16(old >> 64) != uint16(word) && _debts[merchant].drawn != 0) {
            _accrue(merchant, _debts[merchant], uint16(old >> 64)); // the old rate up to now
        }
        uint256 current = uint64(old);
        uint256 pending;
        if (limit > current + step) {
            (pending, limit) = (limit, current);
            emit LimitIncreaseHeld(merchant, current, pending);
        }
        uint256 status = uint8(old >> 136);
        if (status == uint8(LineStatus.None)) status = uint8(LineStatus.Active);
        // word's low 32 bits are score << 16 | rateBps: exactly rateBps then score in the Terms layout
        uint256 updated = limit |
            ((word & 0xffffffff) << 64) |
            (uint256(asOf) << 96) |
            (status << 136) |
            (pending << 144);
        assembly ("memory-safe") {
            sstore(slot.slot, updated)
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
        uint256 toInterest = Math.min(amount, debt.interest);
        debt.interest -= uint64(toInterest);
        debt.drawn -= uint64(amount - toInterest); // amount ≤ interest + drawn
        emit Repaid(msg.sender, toInterest, amount - toInterest, debt.drawn);
        settlementToken.safeTransferFrom(msg.sender, address(pool), amount);
    }

    /// @notice Applies a held limit raise.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; a raise is pending. Emits {LimitIncreaseConfirmed}.
    function confirmLimit(address merchant) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        uint64 pending = t.pendingLimit;
        if (pending == 0) revert CreditLineNothingPending(merchant);
        (t.limit, t.pendingLimit) = (pending, 0);
        emit LimitIncreaseConfirmed(merchant, pending);
    }

    /// @notice Freezes a line: the merchant may repay but not draw.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; line active. Emits {LineFrozen}.
    function freeze(address merchant, bytes32 reason) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        if (t.status != LineStatus.Active) revert CreditLineNotActive(merchant, t.status);
        t.status = LineStatus.Frozen;
        _frozenAt[merchant] = uint40(block.timestamp);
        emit LineFrozen(merchant, reason);
    }

    /// @notice Lifts a freeze.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; line frozen. Emits {LineUnfrozen}.
    function unfreeze(address merchant) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        if (t.status != LineStatus.Frozen) revert CreditLineNotActive(merchant, t.status);
        t.status = LineStatus.Active;
        emit LineUnfrozen(merchant);
    }

    /// @notice Marks a line defaulted (feeds the NPL rate).
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; line frozen for ≥ {defaultAfterFrozen}
    /// seconds with principal or interest owed. Emits {InterestAccrued}, {LineDefaulted}.
    function markDefaulted(address merchant) external onlyRole(CREDIT_MANAGER_ROLE) {
        Terms storage t = _terms[merchant];
        Debt storage debt = _debts[merchant];
        _accrue(merchant, debt, t.rateBps);
        if (
            t.status != LineStatus.Frozen ||
            block.timestamp < uint256(_frozenAt[merchant]) + defaultAfterFrozen ||
            debt.drawn + debt.interest == 0
        ) revert CreditLineNotDefaultable(merchant);
        t.status = LineStatus.Defaulted;
        emit LineDefaulted(merchant, debt.drawn, debt.interest);
    }

    /// @notice Sets the bank's bounds on what reports may set and how lines behave.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; all non-zero. Emits {BoundsSet}.
    function setBounds(
        uint64 maxLimit_,
        uint32 maxScoreAge_,
        uint64 maxLimitStep_,
        uint32 defaultAfterFrozen_
    ) external onlyRole(CREDIT_MANAGER_ROLE) {
        _setBounds(maxLimit_, maxScoreAge_, maxLimitStep_, defaultAfterFrozen_);
    }

    /// @notice Stops drawing (repayment goes on).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts {pause}.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
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
        uint32 defaultAfterFrozen_
    ) private {
        if (maxLimit_ == 0 || maxScoreAge_ == 0 || maxLimitStep_ == 0 || defaultAfterFrozen_ == 0) {
            revert CreditLineInvalidBounds();
        }
        (maxLimit, maxScoreAge, maxLimitStep, defaultAfterFrozen) = (
            maxLimit_,
            maxScoreAge_,
            maxLimitStep_,
            defaultAfterFrozen_
        );
        emit BoundsSet(maxLimit_, maxScoreAge_, maxLimitStep_, defaultAfterFrozen_);
    }
}

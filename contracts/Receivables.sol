// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IFinancingPool} from "./interfaces/IFinancingPool.sol";
import {IParticipantRegistry, ROLE_CORE_ENTERPRISE, ROLE_SUPPLIER} from "./interfaces/IParticipantRegistry.sol";
import {IReceivables} from "./interfaces/IReceivables.sol";
import {AccessControlPausable} from "./utils/AccessControlPausable.sol";
import {OptionalId} from "./utils/OptionalId.sol";
import {SelfPermit} from "./utils/SelfPermit.sol";

/// @title Receivables
/// @notice Supply-chain receivables financing (应收账款融资) on one contract: issue, split and pass
/// down the supply chain, finance against the bank's pool in one transaction, repay, default.
/// @dev Money: advances come from {FinancingPool} (this contract holds `LENDER_ROLE` there);
/// repayments go straight from the debtor to the current holder (the pool for financed receivables),
/// so this contract never holds funds. Pricing (the bank's factoring terms per debtor), with `t` =
/// seconds to maturity: the advanced share `base = floor(outstanding × advanceRateBps / 10_000)` (the
/// rest is the haircut), `discount = ceil(base × rateBps × t / (10_000 × 365 days))`,
/// `fee = ceil(outstanding × feeBps / 10_000)`, `advance = base − discount − fee`; each rounded once in
/// the pool's favour by less than one unit. The pool buys the receivable outright at that price.
/// Late fees: none on chain. After its grace period (the bank's setting when it was issued) a
/// receivable may be marked defaulted; the debtor may still repay it late, and the bank records a
/// recovery made off chain: either cures the default.
/// Roles: `CREDIT_MANAGER_ROLE` sets debtor terms and the grace period and records recoveries; `PAUSER_ROLE` stops issuing,
/// splitting, transfers and financing (repayment and default marking go on); `ISSUER_ROLE` (granted
/// to the equipment lease contract) issues on a debtor's behalf; the default admin is
/// handed over in two steps.
contract Receivables is IReceivables, ERC721, ReentrancyGuard, AccessControlPausable, SelfPermit {
    using SafeERC20 for IERC20;

    bytes32 public constant CREDIT_MANAGER_ROLE = keccak256("CREDIT_MANAGER_ROLE");
    /// @notice Contracts that may issue on a debtor's behalf (see {issueFor}).
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @notice Highest discount rate the bank may set: 40 % a year.
    uint16 public constant MAX_RATE_BPS = 4_000;
    /// @notice Longest time from issue to maturity. With {MAX_RATE_BPS} the discount stays below 80 %.
    uint256 public constant MAX_TENOR = 730 days;
    /// @notice Longest grace period after maturity.
    uint64 public constant MAX_GRACE_PERIOD = 180 days;
    /// @notice Most parts one split may create.
    uint256 public constant MAX_PARTS = 32;
    /// @notice Highest one-off financing fee the bank may set: 10 % of the outstanding amount.
    uint16 public constant MAX_FEE_BPS = 1_000;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _YEAR = 365 days;

    /// @dev The parts a split made of a receivable: ids `first` .. `first + count - 1`.
    struct Parts {
        uint64 first;
        uint16 count;
    }

    IParticipantRegistry public immutable registry;
    IERC20 public immutable settlementToken;
    IFinancingPool public immutable pool;

    // Hot state, read by every issue and split. Declared first, these pack into the slot of Pausable's
    // flag (AccessControlPausable is the last stateful base), so one cold read serves both the
    // {whenNotPaused} check and the id counter.
    uint64 private _nextId;
    /// @notice Seconds after the due date during which the debtor may still repay.
    uint64 public gracePeriod;

    mapping(uint256 id => Receivable) private _receivables;
    mapping(uint256 id => Parts) private _parts;
    mapping(address debtor => DebtorTerms) private _terms;
    mapping(address debtor => mapping(bytes32 ref => bool used)) private _references;

    /// @param registry_ The participant register every party is checked against.
    /// @param token The settlement token.
    /// @param pool_ The bank's pool: pays advances, receives repayments of financed receivables.
    /// @param admin The bank's admin account: default admin, credit manager and pauser.
    /// @param adminTransferDelay Seconds a default-admin handover must wait before acceptance.
    /// @param gracePeriod_ Initial grace period in seconds.
    constructor(
        IParticipantRegistry registry_,
        IERC20 token,
        IFinancingPool pool_,
        address admin,
        uint48 adminTransferDelay,
        uint64 gracePeriod_
    ) ERC721("Yinqi Receivable", "YQR") AccessControlPausable(adminTransferDelay, admin) {
        registry = registry_;
        settlementToken = token;
        pool = pool_;
        _grantRole(CREDIT_MANAGER_ROLE, admin);
        _setGracePeriod(gracePeriod_);
    }

    // ------------------------------------------------------------------------------------------
    // Issue
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IReceivables
    /// @dev Requirements as {issue}, without invoice hash and ref. Emits {ReceivableIssued}.
    function createReceivable(address creditor, uint256 amount, uint256 dueDate) external whenNotPaused {
        _issue(msg.sender, creditor, amount, dueDate, bytes32(0), bytes32(0));
    }

    /// @inheritdoc IReceivables
    /// @dev Requirements: not paused; caller an active core enterprise; `supplier` an active supplier
    /// other than the caller;
    /// 0 < `amount` < 2^96; now < `dueDate` ≤ now + {MAX_TENOR}; `ref` non-zero and not used
    /// before by this debtor. Emits {ReceivableIssued} and {Transfer}.
    function issue(
        address supplier,
        uint256 amount,
        uint256 dueDate,
        bytes32 invoiceHash,
        bytes32 ref
    ) external whenNotPaused returns (uint256 id) {
        _useReference(msg.sender, ref);
        id = _issue(msg.sender, supplier, amount, dueDate, invoiceHash, ref);
    }

    /// @inheritdoc IReceivables
    /// @dev For contracts where the debtor already agreed to the debt on chain (an equipment lease's
    /// billed rent). Requirements: caller has `ISSUER_ROLE`; otherwise as {issue}, with `debtor` in the
    /// caller's place. Emits {ReceivableIssued} and {Transfer}.
    function issueFor(
        address debtor,
        address supplier,
        uint256 amount,
        uint256 dueDate,
        bytes32 invoiceHash,
        bytes32 ref
    ) external whenNotPaused onlyRole(ISSUER_ROLE) returns (uint256 id) {
        _useReference(debtor, ref);
        id = _issue(debtor, supplier, amount, dueDate, invoiceHash, ref);
    }

    function _useReference(address debtor, bytes32 ref) private {
        if (ref == bytes32(0)) revert ReceivableMissingReference();
        if (_references[debtor][ref]) revert ReceivableDuplicateReference(debtor, ref);
        _references[debtor][ref] = true;
    }

    function _issue(
        address debtor,
        address supplier,
        uint256 amount,
        uint256 dueDate,
        bytes32 invoiceHash,
        bytes32 ref
    ) private returns (uint256 id) {
        if (supplier == debtor) revert ReceivableSelfIssued(debtor);
        _checkParticipants(debtor, ROLE_CORE_ENTERPRISE, supplier, ROLE_SUPPLIER);
        _checkAmount(amount);
        uint256 latest = block.timestamp + MAX_TENOR;
        if (dueDate <= block.timestamp || dueDate > latest) {
            revert ReceivableDueDateOutOfRange(dueDate, block.timestamp + 1, latest);
        }

        id = _nextId++;
        Receivable storage r = _receivables[id];
        r.debtor = debtor;
        r.dueDate = uint40(dueDate); // ≤ now + MAX_TENOR, far below 2^40
        r.status = ReceivableStatus.Active;
        r.amount = uint96(amount); // checked by _checkAmount
        r.gracePeriod = uint32(gracePeriod); // ≤ MAX_GRACE_PERIOD
        if (invoiceHash != bytes32(0)) r.invoiceHash = invoiceHash;
        _mint(supplier, id);
        emit ReceivableIssued(id, debtor, supplier, amount, uint40(dueDate), invoiceHash, ref);
    }

    // ------------------------------------------------------------------------------------------
    // Split and transfer
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IReceivables
    /// @dev Requirements: not paused; caller the holder and an active supplier; `id` active, not yet
    /// due, never partly repaid; 2 ≤ parts ≤ {MAX_PARTS}, one holder per part, each an active supplier;
    /// every part > 0 and the parts sum exactly to the face amount. The parent token is burned; its
    /// record stays (status Split) and names its parts. Emits {ReceivableSplit}, one
    /// {ReceivablePartCreated} per part, and {Transfer}s.
    function split(
        uint256 id,
        uint256[] calldata amounts,
        address[] calldata holders
    ) external whenNotPaused returns (uint256 firstPartId) {
        Receivable storage parent = _holderOnly(id);
        if (parent.status != ReceivableStatus.Active) revert ReceivableNotActive(id, parent.status);
        if (block.timestamp >= parent.dueDate) revert ReceivableExpired(id, parent.dueDate);
        if (parent.repaid != 0) revert ReceivableSplitPartiallyRepaid(id, parent.repaid);
        uint256 parts = amounts.length;
        if (parts < 2 || parts > MAX_PARTS || holders.length != parts) {
            revert ReceivableSplitPartCount(parts, holders.length);
        }
        uint256 sum;
        for (uint256 i; i < parts; ++i) {
            if (amounts[i] == 0) revert ReceivableZeroAmount();
            sum += amounts[i];
        }
        if (sum != parent.amount) revert ReceivableSplitSumMismatch(id, parent.amount, sum);

        firstPartId = _nextId;
        _nextId += uint64(parts); // parts ≤ MAX_PARTS; the sum is checked against 2^64
        parent.status = ReceivableStatus.Split;
        _parts[id] = Parts({first: uint64(firstPartId), count: uint16(parts)}); // parts ≤ MAX_PARTS
        _burn(id);
        emit ReceivableSplit(id, firstPartId, parts);

        for (uint256 i; i < parts; ++i) {
            _checkParticipant(holders[i], ROLE_SUPPLIER);
            uint256 partId = firstPartId + i;
            Receivable storage part = _receivables[partId];
            part.debtor = parent.debtor;
            part.dueDate = parent.dueDate;
            part.status = ReceivableStatus.Active;
            part.amount = uint96(amounts[i]); // each part ≤ sum == parent.amount < 2^96
            part.parentPlusOne = uint64(OptionalId.wrap(id)); // id < _nextId, a uint64
            part.gracePeriod = parent.gracePeriod;
            part.invoiceHash = parent.invoiceHash;
            _mint(holders[i], partId);
            emit ReceivablePartCreated(partId, id, holders[i], amounts[i]);
        }
    }

    /// @notice ERC-721 transfer, limited to active receivables passed between active suppliers.
    /// @dev Requirements: not paused; `id` active; `from` and `to` active suppliers; the usual ERC-721
    /// ownership/approval rules. Emits {Transfer}. {safeTransferFrom} goes through here too.
    function transferFrom(address from, address to, uint256 id) public override whenNotPaused {
        Receivable storage r = _existing(id);
        if (r.status != ReceivableStatus.Active) revert ReceivableNotActive(id, r.status);
        _checkParticipants(from, ROLE_SUPPLIER, to, ROLE_SUPPLIER);
        super.transferFrom(from, to, id);
    }

    // ------------------------------------------------------------------------------------------
    // Financing
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IReceivables
    /// @dev Requirements: not paused; caller the holder and an active supplier; `id` active.
    /// A refusal (see {Refusal}: credit, liquidity, or a holder who is the debtor) does not revert: it emits {FinancingRefused} and returns
    /// false. On approval the receivable moves to the pool and the pool pays the advance to the
    /// caller. Emits {Transfer}, {FinancingApplied}, {ReceivableFinanced}, and the pool's {Disbursed}.
    function applyForFinancing(uint256 id) external whenNotPaused nonReentrant returns (bool approved) {
        Receivable storage r = _holderOnly(id);
        if (r.status != ReceivableStatus.Active) revert ReceivableNotActive(id, r.status);
        DebtorTerms memory terms = _terms[r.debtor];
        uint256 outstanding = r.amount - r.repaid;
        (Refusal reason, Price memory price) = _assess(r.debtor, msg.sender, r.dueDate, outstanding, terms);
        if (reason != Refusal.None) {
            emit FinancingRefused(id, msg.sender, reason);
            return false;
        }

        r.status = ReceivableStatus.Financed;
        r.financed = true;
        terms.exposure += uint96(outstanding); // ≤ limit, a uint96, checked by _assess
        _terms[r.debtor].exposure = terms.exposure;
        _transfer(msg.sender, address(pool), id);
        emit FinancingApplied(id, msg.sender, outstanding);
        emit ReceivableFinanced(
            id,
            r.debtor,
            msg.sender,
            outstanding,
            price.advance,
            terms.rateBps,
            terms.exposure,
            terms.advanceRateBps,
            price.discount,
            price.fee
        );
        pool.disburse(msg.sender, price.advance);
        return true;
    }

    /// @notice What financing `id` now would give its holder: the refusal reason, or None and the price
    /// (advance, discount and fee) on the debtor's current terms.
    /// @dev Requirements: `id` active.
    function quote(uint256 id) external view returns (Refusal reason, Price memory price) {
        Receivable storage r = _existing(id);
        if (r.status != ReceivableStatus.Active) revert ReceivableNotActive(id, r.status);
        return _assess(r.debtor, _ownerOf(id), r.dueDate, r.amount - r.repaid, _terms[r.debtor]);
    }

    /// @notice The price of `outstanding` due in `secondsToMaturity` on `terms` (see the contract's
    /// description); an advance of 0 when the discount and fee take the whole advanced share.
    function priceAdvance(
        uint256 outstanding,
        uint256 secondsToMaturity,
        DebtorTerms memory terms
    ) public pure returns (Price memory price) {
        uint256 base = Math.mulDiv(outstanding, terms.advanceRateBps, _BPS);
        price.discount = Math.mulDiv(
            base,
            uint256(terms.rateBps) * secondsToMaturity,
            _BPS * _YEAR,
            Math.Rounding.Ceil
        );
        price.fee = Math.mulDiv(outstanding, terms.feeBps, _BPS, Math.Rounding.Ceil);
        uint256 cost = price.discount + price.fee;
        price.advance = cost < base ? base - cost : 0;
    }

    function _assess(
        address debtor,
        address holder,
        uint40 dueDate,
        uint256 outstanding,
        DebtorTerms memory terms
    ) private view returns (Refusal, Price memory price) {
        if (holder == debtor) return (Refusal.HolderIsDebtor, price);
        if (block.timestamp >= dueDate) return (Refusal.Matured, price);
        if (!registry.isAuthorized(debtor, ROLE_CORE_ENTERPRISE)) return (Refusal.DebtorNotAuthorized, price);
        if (terms.limit == 0) return (Refusal.NoFacility, price);
        if (terms.openDefaults != 0) return (Refusal.DebtorInDefault, price);
        if (uint256(terms.exposure) + outstanding > terms.limit) return (Refusal.ExposureLimitExceeded, price);
        if (pool.paused()) return (Refusal.PoolPaused, price);
        price = priceAdvance(outstanding, dueDate - block.timestamp, terms);
        if (price.advance == 0) return (Refusal.AdvanceTooSmall, price);
        if (price.advance > pool.available()) return (Refusal.InsufficientLiquidity, price);
        return (Refusal.None, price);
    }

    // ------------------------------------------------------------------------------------------
    // Repayment and default
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IReceivables
    /// @dev Requirements: caller the debtor, having approved `amount` to this contract; `id` active,
    /// financed or defaulted; 0 < `amount` ≤ outstanding. Paid after the due date plus its grace period
    /// it is a late repayment: the receivable is in default (marked here if nobody marked it yet), and
    /// paying the rest cures the default. Works while paused: paying a debt is never blocked. Emits
    /// {ReceivableDefaulted} if it marks the default, {ReceivableRepaid}, then {ReceivableSettled} or
    /// (late) {ReceivableCured} when paid up.
    function repay(uint256 id, uint256 amount) external nonReentrant {
        Receivable storage r = _existing(id);
        if (msg.sender != r.debtor) revert ReceivableNotDebtor(id, msg.sender);
        ReceivableStatus status = r.status;
        if (
            status != ReceivableStatus.Active &&
            status != ReceivableStatus.Financed &&
            status != ReceivableStatus.Defaulted
        ) revert ReceivableNotRepayable(id, status);
        if (amount == 0) revert ReceivableZeroAmount();
        uint256 outstanding = r.amount - r.repaid;
        if (amount > outstanding) revert ReceivableRepaymentTooLarge(id, outstanding, amount);
        if (status != ReceivableStatus.Defaulted && block.timestamp > _deadline(r)) {
            _default(id, r); // paying late: it is in default, as anyone could have marked it
            status = ReceivableStatus.Defaulted;
        }

        r.repaid += uint96(amount); // amount ≤ outstanding
        if (r.financed) _terms[r.debtor].exposure -= uint96(amount); // exposure includes this outstanding
        address payee = _ownerOf(id);
        emit ReceivableRepaid(id, msg.sender, payee, amount, outstanding - amount);
        if (amount == outstanding) {
            if (status == ReceivableStatus.Defaulted) {
                _cure(id, r, 0, 0);
            } else {
                r.status = ReceivableStatus.Settled;
                emit ReceivableSettled(id);
            }
        }
        settlementToken.safeTransferFrom(msg.sender, payee, amount);
    }

    /// @inheritdoc IReceivables
    /// @dev Requirements: `id` active or financed; now > due date + its grace period. Anyone may call.
    /// The debtor counts as in default until the default is cured (no further financing against it);
    /// a financed receivable's exposure stays with the bank. Emits {ReceivableDefaulted}.
    function markDefaulted(uint256 id) external {
        Receivable storage r = _existing(id);
        if (r.status != ReceivableStatus.Active && r.status != ReceivableStatus.Financed)
            revert ReceivableNotRepayable(id, r.status);
        uint256 deadline = _deadline(r);
        if (block.timestamp <= deadline) revert ReceivableNotOverdue(id, deadline);
        _default(id, r);
    }

    function _default(uint256 id, Receivable storage r) private {
        DebtorTerms storage terms = _terms[r.debtor];
        if (terms.openDefaults == type(uint16).max) revert ReceivableTooManyDefaults(r.debtor);
        r.status = ReceivableStatus.Defaulted;
        terms.openDefaults += 1;
        emit ReceivableDefaulted(id, r.debtor, r.amount - r.repaid, msg.sender);
    }

    /// @notice Records the recovery of defaulted receivable `id` made off chain (collateral, a court, a
    /// settlement with the debtor): `recovered` of what was outstanding came back, the rest is written
    /// off. The default is cured: it no longer stops financing against the debtor, and a financed
    /// receivable's remaining exposure is released.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; `id` defaulted; `recovered` ≤ outstanding.
    /// Emits {ReceivableCured}.
    function recordRecovery(uint256 id, uint256 recovered) external onlyRole(CREDIT_MANAGER_ROLE) {
        Receivable storage r = _existing(id);
        if (r.status != ReceivableStatus.Defaulted) revert ReceivableNotRepayable(id, r.status);
        uint256 outstanding = r.amount - r.repaid;
        if (recovered > outstanding) revert ReceivableRecoveryTooLarge(id, outstanding, recovered);
        if (r.financed) _terms[r.debtor].exposure -= uint96(outstanding); // exposure includes it
        _cure(id, r, recovered, outstanding - recovered);
    }

    function _cure(uint256 id, Receivable storage r, uint256 recovered, uint256 writtenOff) private {
        r.status = ReceivableStatus.Cured;
        _terms[r.debtor].openDefaults -= 1; // it counted one while defaulted
        emit ReceivableCured(id, r.debtor, recovered, writtenOff, msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Bank administration
    // ------------------------------------------------------------------------------------------

    /// @notice Sets `debtor`'s factoring terms: exposure limit, annual discount rate, advance rate (the
    /// share of a receivable the pool advances; the rest is the haircut) and one-off fee, all in basis
    /// points. They price every financing from now on. A limit of 0 stops financing against the debtor;
    /// a limit below the current exposure stops it until repayments catch up.
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; `debtor` an active core enterprise;
    /// `rateBps` ≤ {MAX_RATE_BPS}; 0 < `advanceRateBps` ≤ 10,000; `feeBps` ≤ {MAX_FEE_BPS}; `limit` < 2^96.
    /// Emits {DebtorTermsSet}.
    function setDebtorTerms(
        address debtor,
        uint256 limit,
        uint16 rateBps,
        uint16 advanceRateBps,
        uint16 feeBps
    ) external onlyRole(CREDIT_MANAGER_ROLE) {
        _checkParticipant(debtor, ROLE_CORE_ENTERPRISE);
        if (rateBps > MAX_RATE_BPS) revert ReceivableRateTooHigh(rateBps, MAX_RATE_BPS);
        if (advanceRateBps == 0 || advanceRateBps > _BPS || feeBps > MAX_FEE_BPS)
            revert ReceivableFactoringTermsOutOfRange(advanceRateBps, feeBps, MAX_FEE_BPS);
        if (limit > type(uint96).max) revert ReceivableAmountTooLarge(limit);
        DebtorTerms storage terms = _terms[debtor];
        (terms.limit, terms.rateBps, terms.advanceRateBps, terms.feeBps) = (
            uint96(limit),
            rateBps,
            advanceRateBps,
            feeBps
        );
        emit DebtorTermsSet(debtor, limit, rateBps, advanceRateBps, feeBps);
    }

    /// @notice Sets how long after the due date repayment is still on time, for receivables issued from
    /// now on (each keeps the grace period it was issued with; parts, their parent's).
    /// @dev Requirements: caller has `CREDIT_MANAGER_ROLE`; ≤ {MAX_GRACE_PERIOD}. Emits {GracePeriodSet}.
    function setGracePeriod(uint64 gracePeriod_) external onlyRole(CREDIT_MANAGER_ROLE) {
        _setGracePeriod(gracePeriod_);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IReceivables
    function nextId() external view returns (uint256) {
        return _nextId;
    }

    /// @inheritdoc IReceivables
    function receivables(
        uint256 id
    ) external view returns (address debtor, address creditor, uint256 amount, uint256 dueDate, bool isFinanced) {
        Receivable storage r = _receivables[id];
        return (r.debtor, _ownerOf(id), r.amount, r.dueDate, r.financed);
    }

    /// @notice The full record of `id`.
    function receivable(uint256 id) external view returns (Receivable memory) {
        return _existing(id);
    }

    /// @notice Face amount less repayments.
    function outstandingOf(uint256 id) external view returns (uint256) {
        Receivable storage r = _existing(id);
        return r.amount - r.repaid;
    }

    /// @notice Where `id` sits in its split tree: its parent (if it is a part) and its parts
    /// (ids `firstPart` .. `firstPart + partCount - 1`, if it was split).
    function lineage(
        uint256 id
    ) external view returns (bool isPart, uint256 parentId, uint256 firstPart, uint256 partCount) {
        Receivable storage r = _existing(id);
        (isPart, parentId) = OptionalId.unwrap(r.parentPlusOne);
        Parts memory parts = _parts[id];
        return (isPart, parentId, parts.first, parts.count);
    }

    /// @notice The bank's terms for `debtor` and its current exposure and defaults.
    function debtorTerms(address debtor) external view returns (DebtorTerms memory) {
        return _terms[debtor];
    }

    /// @notice Whether `debtor` has already used `ref`.
    function referenceUsed(address debtor, bytes32 ref) external view returns (bool) {
        return _references[debtor][ref];
    }

    /// @inheritdoc ERC721
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(ERC721, AccessControlDefaultAdminRules) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _existing(uint256 id) private view returns (Receivable storage r) {
        r = _receivables[id];
        if (r.status == ReceivableStatus.None) revert ReceivableUnknown(id);
    }

    function _holderOnly(uint256 id) private view returns (Receivable storage r) {
        r = _existing(id);
        if (_ownerOf(id) != msg.sender) revert ReceivableNotHolder(id, msg.sender);
        _checkParticipant(msg.sender, ROLE_SUPPLIER);
    }

    /// @dev The last moment `r` may be repaid on time: its due date plus the grace period it was issued with.
    function _deadline(Receivable storage r) private view returns (uint256) {
        return uint256(r.dueDate) + r.gracePeriod;
    }

    function _checkParticipant(address account, uint8 roles) private view {
        if (!registry.isAuthorized(account, roles)) revert ReceivableParticipantNotAuthorized(account, roles);
    }

    function _checkParticipants(address a, uint8 rolesA, address b, uint8 rolesB) private view {
        (bool okA, bool okB) = registry.areAuthorized(a, rolesA, b, rolesB);
        if (!okA) revert ReceivableParticipantNotAuthorized(a, rolesA);
        if (!okB) revert ReceivableParticipantNotAuthorized(b, rolesB);
    }

    function _checkAmount(uint256 amount) private pure {
        if (amount == 0) revert ReceivableZeroAmount();
        if (amount > type(uint96).max) revert ReceivableAmountTooLarge(amount);
    }

    function _setGracePeriod(uint64 gracePeriod_) private {
        if (gracePeriod_ > MAX_GRACE_PERIOD) revert ReceivableGracePeriodTooLong(gracePeriod_, MAX_GRACE_PERIOD);
        gracePeriod = gracePeriod_;
        emit GracePeriodSet(gracePeriod_);
    }

    /// @dev Payments come in the settlement token: the permits {SelfPermit} takes are for it.
    function _permitToken() internal view override returns (address) {
        return address(settlementToken);
    }
}

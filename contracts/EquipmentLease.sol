// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IEquipmentLease, ALL_RISK_FLAGS} from "./interfaces/IEquipmentLease.sol";
import {IReportConsumer} from "./interfaces/IOracleGateway.sol";
import {IParticipantRegistry, ROLE_LESSEE, ROLE_SUPPLIER} from "./interfaces/IParticipantRegistry.sol";
import {IReceivables} from "./interfaces/IReceivables.sol";
import {AccessControlPausable} from "./utils/AccessControlPausable.sol";
import {OptionalId} from "./utils/OptionalId.sol";

/// @title EquipmentLease
/// @notice Usage-priced equipment leases (设备融资租赁) fed by the IoT oracle through the gateway.
/// @dev Report payload: a sequence of 32-byte words, one per item,
/// `leaseId << 192 | period << 160 | usage (hundredths of an hour, 64 bits) << 96 | flags << 8 | hasFlags`.
/// Usage is the hours worked in that period so far; it only ever rises, and stops counting once the
/// period is billed. Flags (when `hasFlags` is 1) replace the lease's risk flags. An item that cannot
/// apply (lease not running, period billed or not begun, more hours than the period has) is skipped
/// with {ReportItemIgnored}; the rest of the report still applies, so one late item never stalls
/// the feed.
/// Billing: period k ends at `start + (k+1)·periodSeconds`; `reportDelay` seconds later anyone may
/// bill it ({bill}; paying, reporting, closing and defaulting bill first). Rent = max(minimumRent,
/// Σ tier hours × tier price), rounded up once to a whole unit; due `paymentTerm` seconds after the
/// period ends. Unpaid `gracePeriod` seconds after that, anyone may mark the lease defaulted.
/// The lessor (an active supplier: a leasing company, or the bank's leasing arm) offers; the lessee
/// (an active lessee) accepts and pays the deposit, which this contract holds until close or recall.
/// Rent goes straight from the payer to the lessor. `LEASE_MANAGER_ROLE` (the bank) freezes,
/// unfreezes, recalls and sets the settings; `PAUSER_ROLE` stops new offers, acceptances and
/// assignments (payments, reports and closing go on).
contract EquipmentLease is IEquipmentLease, IReportConsumer, ReentrancyGuard, AccessControlPausable {
    using SafeERC20 for IERC20;

    bytes32 public constant LEASE_MANAGER_ROLE = keccak256("LEASE_MANAGER_ROLE");
    uint256 public constant MAX_TIERS = 4;
    uint256 public constant MAX_PERIODS = 120;
    uint8 public constant ALL_FLAGS = ALL_RISK_FLAGS;
    /// @notice Shortest billing period.
    uint256 public constant MIN_PERIOD_SECONDS = 1 hours;
    /// @notice Longest billing period.
    uint256 public constant MAX_PERIOD_SECONDS = 366 days;
    /// @notice Longest device id, in bytes.
    uint256 public constant MAX_DEVICE_ID_BYTES = 64;
    /// @notice How long an offer stands: unaccepted after that, it lapses and its device may be offered again.
    uint256 public constant OFFER_LIFETIME = 14 days;
    /// @notice Most the payment term, grace period and report delay may each be.
    uint256 public constant MAX_SETTING_SECONDS = 90 days;

    // Usage is counted in hundredths of an hour: one hundredth is 36 seconds.
    uint256 private constant _HUNDREDTHS_PER_HOUR = 100;
    uint256 private constant _SECONDS_PER_HUNDREDTH = 1 hours / _HUNDREDTHS_PER_HOUR;
    // A report item (see the contract's description): where each field starts in its word.
    uint256 private constant _WORD_BYTES = 32;
    uint256 private constant _LEASE_ID_SHIFT = 192;
    uint256 private constant _PERIOD_SHIFT = 160;
    uint256 private constant _USAGE_SHIFT = 96;
    uint256 private constant _FLAGS_SHIFT = 8;
    uint256 private constant _HAS_FLAGS_BIT = 1;

    IParticipantRegistry public immutable registry;
    IERC20 public immutable settlementToken;
    IReceivables public immutable receivables;
    address public immutable gateway;

    // Packed with the pause flag (see {AccessControlPausable}): an offer reads flag, counter and term at once.
    uint64 private _nextId;
    /// @notice Seconds after a period ends before its rent falls due (applies to leases offered after).
    uint32 public paymentTerm;
    /// @notice Seconds after the due date before unpaid rent makes the lease defaultable.
    uint32 public gracePeriod;
    /// @notice Seconds after a period ends during which the oracle may still report its usage.
    uint32 public reportDelay;

    mapping(uint256 leaseId => Lease) private _leases;
    mapping(uint256 leaseId => uint32) private _paymentTerms; // fixed at offer time
    mapping(uint256 leaseId => Tier[]) private _tiers;
    mapping(uint256 leaseId => mapping(uint256 period => Period)) private _periods;
    // {OptionalId}s: the id + 1, or 0 for none.
    mapping(uint256 leaseId => mapping(uint256 period => uint256 receivableId)) private _receivableOf;
    mapping(bytes32 device => uint256 openLeaseId) private _openLeaseOf;

    constructor(
        IParticipantRegistry registry_,
        IERC20 token,
        IReceivables receivables_,
        address gateway_,
        address admin,
        uint48 adminTransferDelay
    ) AccessControlPausable(adminTransferDelay, admin) {
        registry = registry_;
        settlementToken = token;
        receivables = receivables_;
        gateway = gateway_;
        _grantRole(LEASE_MANAGER_ROLE, admin);
        _setSettings(7 days, 15 days, 1 days);
    }

    // ------------------------------------------------------------------------------------------
    // Offer and accept
    // ------------------------------------------------------------------------------------------

    /// @notice The caller (lessor) offers `deviceId` to `lessee` on `terms` at the `tiers` rent schedule;
    /// the offer stands {OFFER_LIFETIME}.
    /// @dev Requirements: not paused; caller an active supplier, `lessee` an active lessee other than
    /// the caller; device id 1–{MAX_DEVICE_ID_BYTES} bytes and in no open lease (an offer of it that
    /// lapsed unaccepted is ended here: {LeaseOfferExpired}); {MIN_PERIOD_SECONDS} ≤ period ≤
    /// {MAX_PERIOD_SECONDS}; 1 ≤ periods ≤ {MAX_PERIODS};
    /// 1–{MAX_TIERS} tiers, bounds strictly rising, prices strictly falling and non-zero; a period's
    /// highest possible rent (every hour at the first tier's price, or the minimum rent) below 2^96.
    /// Emits {LeaseOffered}.
    function offer(
        address lessee,
        string calldata deviceId,
        LeaseTerms calldata terms,
        Tier[] calldata tiers
    ) external whenNotPaused returns (uint256 leaseId) {
        if (lessee == msg.sender) revert LeaseSelfDealing(msg.sender);
        _checkParties(msg.sender, lessee);
        if (
            terms.periodSeconds < MIN_PERIOD_SECONDS ||
            terms.periodSeconds > MAX_PERIOD_SECONDS ||
            terms.periods == 0 ||
            terms.periods > MAX_PERIODS
        ) revert LeaseInvalidTerms(terms.periodSeconds, terms.periods);
        if (bytes(deviceId).length == 0 || bytes(deviceId).length > MAX_DEVICE_ID_BYTES) {
            revert LeaseInvalidDeviceId(bytes(deviceId).length);
        }
        _checkTiers(tiers);
        _checkRentFits(terms, tiers);
        bytes32 device = keccak256(bytes(deviceId));
        _claimDevice(device);

        leaseId = _nextId++;
        _openLeaseOf[device] = OptionalId.wrap(leaseId);
        Lease storage l = _leases[leaseId];
        (l.lessee, l.start, l.periodSeconds, l.periods) = (
            lessee,
            uint40(block.timestamp), // offered now: the offer lapses {OFFER_LIFETIME} later
            terms.periodSeconds,
            terms.periods
        );
        (l.lessor, l.status) = (msg.sender, LeaseStatus.Offered);
        (l.deposit, l.minimumRent, l.device) = (terms.deposit, terms.minimumRent, device);
        _paymentTerms[leaseId] = paymentTerm;
        for (uint256 i; i < tiers.length; ++i) {
            _tiers[leaseId].push(tiers[i]);
        }
        emit LeaseOffered(leaseId, msg.sender, lessee, device, deviceId, terms, tiers);
    }

    /// @notice The lessee accepts the offer and pays the deposit; the lease starts now.
    /// @dev Requirements: not paused; caller the lessee, still an active lessee; the lessor still an
    /// active supplier; lease offered, at most {OFFER_LIFETIME} ago; deposit approved.
    /// Emits {LeaseAccepted}.
    function accept(uint256 leaseId) external whenNotPaused nonReentrant {
        Lease storage l = _inStatus(leaseId, LeaseStatus.Offered);
        if (msg.sender != l.lessee) revert LeaseNotParty(leaseId, msg.sender);
        uint256 expiresAt = uint256(l.start) + OFFER_LIFETIME;
        if (block.timestamp > expiresAt) revert LeaseOfferLapsed(leaseId, expiresAt);
        _checkParties(l.lessor, msg.sender);
        (l.status, l.start) = (LeaseStatus.Active, uint40(block.timestamp));
        emit LeaseAccepted(leaseId, uint40(block.timestamp), l.deposit);
        if (l.deposit != 0) settlementToken.safeTransferFrom(msg.sender, address(this), l.deposit);
    }

    /// @notice Withdraws an offer not yet accepted and frees its device: the lessor's own call, or the
    /// bank's (`LEASE_MANAGER_ROLE`), which frees a device an offer holds that it should not.
    /// @dev Requirements: caller the lessor or has `LEASE_MANAGER_ROLE`; lease offered (lapsed or not).
    /// Emits {LeaseOfferCancelled}.
    function cancelOffer(uint256 leaseId) external {
        Lease storage l = _inStatus(leaseId, LeaseStatus.Offered);
        if (msg.sender != l.lessor && !hasRole(LEASE_MANAGER_ROLE, msg.sender))
            revert LeaseNotParty(leaseId, msg.sender);
        l.status = LeaseStatus.Cancelled;
        delete _openLeaseOf[l.device];
        emit LeaseOfferCancelled(leaseId, msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Oracle reports and billing
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IReportConsumer
    /// @dev Requirements: caller the gateway; payload a whole number of words. Emits per item
    /// {RiskFlagsChanged} when the flags change, {UsageReported} when usage rises, {RentBilled} for
    /// periods that became billable, or {ReportItemIgnored}.
    function onReport(bytes32, uint64 asOf, bytes calldata payload) external {
        if (msg.sender != gateway) revert LeaseNotGateway(msg.sender);
        if (payload.length % _WORD_BYTES != 0) revert LeaseMalformedReport(payload.length);
        for (uint256 at; at < payload.length; at += _WORD_BYTES) {
            _applyItem(uint256(bytes32(payload[at:at + _WORD_BYTES])), asOf);
        }
    }

    function _applyItem(uint256 word, uint64 asOf) private {
        uint256 leaseId = word >> _LEASE_ID_SHIFT;
        uint256 period = uint32(word >> _PERIOD_SHIFT);
        Lease storage l = _leases[leaseId];
        LeaseStatus status = l.status;
        if (status != LeaseStatus.Active && status != LeaseStatus.Frozen && status != LeaseStatus.Defaulted) {
            emit ReportItemIgnored(leaseId, period, IgnoredReason.NotRunning);
            return;
        }
        if (word & _HAS_FLAGS_BIT != 0) {
            uint8 flags = uint8(word >> _FLAGS_SHIFT) & ALL_FLAGS;
            uint8 previous = l.flags;
            if (flags != previous) {
                l.flags = flags;
                emit RiskFlagsChanged(leaseId, previous, flags, asOf);
            }
        }
        _bill(leaseId, l);
        uint64 usage = uint64(word >> _USAGE_SHIFT);
        IgnoredReason why;
        if (period < l.billed) why = IgnoredReason.AlreadyBilled;
        else if (period >= l.periods || uint256(l.start) + period * l.periodSeconds > asOf)
            why = IgnoredReason.NotStarted;
        else if (uint256(usage) * _SECONDS_PER_HUNDREDTH > l.periodSeconds) why = IgnoredReason.Impossible;
        if (why != IgnoredReason.None) {
            emit ReportItemIgnored(leaseId, period, why);
            return;
        }
        Period storage p = _periods[leaseId][period];
        if (usage > p.usage) {
            p.usage = usage;
            emit UsageReported(leaseId, period, usage, asOf);
        }
    }

    /// @notice Bills every period of `leaseId` whose report window has closed.
    /// @dev Anyone may call it. Emits {RentBilled} per period billed.
    function bill(uint256 leaseId) external {
        _bill(leaseId, _existing(leaseId));
    }

    function _bill(uint256 leaseId, Lease storage l) private {
        LeaseStatus status = l.status;
        if (status != LeaseStatus.Active && status != LeaseStatus.Frozen && status != LeaseStatus.Defaulted) return;
        (uint256 billed, uint256 periods, uint256 length) = (l.billed, l.periods, l.periodSeconds);
        uint256 start = l.start;
        while (billed < periods && start + (billed + 1) * length + reportDelay <= block.timestamp) {
            Period storage p = _periods[leaseId][billed];
            uint96 rent = SafeCast.toUint96(rentFor(leaseId, p.usage)); // fits: checked at offer (_checkRentFits)
            p.rent = rent;
            uint40 dueAt = uint40(start + (billed + 1) * length + _paymentTerms[leaseId]);
            emit RentBilled(leaseId, billed, p.usage, rent, dueAt);
            ++billed;
        }
        l.billed = uint16(billed);
        _advanceSettled(leaseId, l);
    }

    /// @notice The rent of one period of `leaseId` in which the device worked `usage` hundredths
    /// of an hour: marginal tiers, at least the lease's minimum rent, rounded up to a whole unit.
    function rentFor(uint256 leaseId, uint64 usage) public view returns (uint256) {
        Tier[] storage tiers = _tiers[leaseId];
        uint256 n = tiers.length;
        uint256 below;
        uint256 hundredths; // Σ hundredths of an hour × price per hour
        for (uint256 i; i < n && usage > below; ++i) {
            Tier memory t = tiers[i];
            uint256 bound = i + 1 == n ? type(uint64).max : uint256(t.upToHours) * _HUNDREDTHS_PER_HOUR;
            hundredths += (Math.min(usage, bound) - below) * t.pricePerHour;
            below = bound;
        }
        return Math.max(Math.ceilDiv(hundredths, _HUNDREDTHS_PER_HOUR), _leases[leaseId].minimumRent);
    }

    // ------------------------------------------------------------------------------------------
    // Paying
    // ------------------------------------------------------------------------------------------

    /// @notice Pays `amount` of `leaseId`'s billed rent, oldest period first, to the lessor.
    /// @dev Anyone may pay for the lessee. Requirements: 0 < `amount` ≤ outstanding billed rent;
    /// approved. Works in every status after acceptance. Emits {RentPaid} per period touched.
    function payRent(uint256 leaseId, uint256 amount) external nonReentrant {
        Lease storage l = _existing(leaseId);
        if (amount == 0) revert LeaseZeroAmount();
        _bill(leaseId, l);
        uint256 owed = _outstanding(leaseId, l);
        if (amount > owed) revert LeasePaymentTooLarge(leaseId, owed, amount);
        _applyPayment(leaseId, l, amount, msg.sender);
        settlementToken.safeTransferFrom(msg.sender, l.lessor, amount);
    }

    /// @notice Turns billed, wholly unpaid `period` of `leaseId` into a receivable on the lessee,
    /// held by the lessor, due when the rent is due; the lessor may then finance it in {IReceivables}.
    /// The period counts as settled here: the lessee now owes it through the receivable.
    /// @dev Requirements: not paused; caller the lessor; lease active; period billed, nothing paid,
    /// not yet due. The lessee must be a debtor the receivables contract accepts (an active core
    /// enterprise) and the lessor an active supplier. Emits {PeriodAssigned} and the receivable's events.
    function assignPeriod(
        uint256 leaseId,
        uint256 period
    ) external whenNotPaused nonReentrant returns (uint256 receivableId) {
        Lease storage l = _inStatus(leaseId, LeaseStatus.Active);
        if (msg.sender != l.lessor) revert LeaseNotParty(leaseId, msg.sender);
        _bill(leaseId, l);
        Period storage p = _periods[leaseId][period];
        uint256 dueAt = _dueAt(leaseId, l, period);
        if (period >= l.billed || p.paid != 0 || p.rent == 0 || block.timestamp >= dueAt) {
            revert LeasePeriodNotAssignable(leaseId, period);
        }
        uint96 rent = p.rent;
        p.paid = rent;
        _advanceSettled(leaseId, l);
        bytes32 invoiceHash = keccak256(abi.encode(block.chainid, address(this), leaseId, period, p.usage, rent));
        bytes32 ref = keccak256(abi.encode(address(this), leaseId, period));
        receivableId = receivables.issueFor(l.lessee, l.lessor, rent, dueAt, invoiceHash, ref);
        _receivableOf[leaseId][period] = OptionalId.wrap(receivableId);
        emit PeriodAssigned(leaseId, period, receivableId, rent);
    }

    // ------------------------------------------------------------------------------------------
    // Risk: default, freeze, recall; close
    // ------------------------------------------------------------------------------------------

    /// @notice Marks `leaseId` defaulted: its oldest unpaid period is past due + {gracePeriod}.
    /// @dev Anyone may call it. Requirements: lease active or frozen. Emits {LeaseDefaulted}.
    function markDefaulted(uint256 leaseId) external {
        Lease storage l = _existing(leaseId);
        _bill(leaseId, l);
        uint256 first = l.settled;
        if (
            (l.status != LeaseStatus.Active && l.status != LeaseStatus.Frozen) ||
            first >= l.billed ||
            block.timestamp <= _dueAt(leaseId, l, first) + gracePeriod
        ) revert LeaseNotDefaultable(leaseId);
        l.status = LeaseStatus.Defaulted;
        emit LeaseDefaulted(leaseId, first, _outstanding(leaseId, l));
    }

    /// @notice Freezes `leaseId` on a risk flag or a missed payment (the device should be locked).
    /// @dev Requirements: caller has `LEASE_MANAGER_ROLE`; lease active. Emits {LeaseFrozen}.
    function freeze(uint256 leaseId, bytes32 reason) external onlyRole(LEASE_MANAGER_ROLE) {
        _inStatus(leaseId, LeaseStatus.Active).status = LeaseStatus.Frozen;
        emit LeaseFrozen(leaseId, reason);
    }

    /// @notice Lifts a freeze.
    /// @dev Requirements: caller has `LEASE_MANAGER_ROLE`; lease frozen. Emits {LeaseUnfrozen}.
    function unfreeze(uint256 leaseId) external onlyRole(LEASE_MANAGER_ROLE) {
        _inStatus(leaseId, LeaseStatus.Frozen).status = LeaseStatus.Active;
        emit LeaseUnfrozen(leaseId);
    }

    /// @notice Recalls the equipment: billing stops after the last ended period, the deposit pays
    /// what is owed and the rest goes back to the lessee; the device is free for a new lease.
    /// @dev Requirements: caller has `LEASE_MANAGER_ROLE`; lease frozen or defaulted. Emits
    /// {RentPaid} for periods the deposit pays, {LeaseRecalled}.
    function recall(uint256 leaseId) external onlyRole(LEASE_MANAGER_ROLE) nonReentrant {
        Lease storage l = _existing(leaseId);
        if (l.status != LeaseStatus.Frozen && l.status != LeaseStatus.Defaulted)
            revert LeaseWrongStatus(leaseId, l.status);
        _bill(leaseId, l);
        uint256 deposit = l.deposit;
        uint256 toLessor = Math.min(deposit, _outstanding(leaseId, l));
        if (toLessor != 0) _applyPayment(leaseId, l, toLessor, address(this));
        (l.status, l.deposit) = (LeaseStatus.Recalled, 0);
        delete _openLeaseOf[l.device];
        emit LeaseRecalled(leaseId, toLessor, deposit - toLessor);
        if (toLessor != 0) settlementToken.safeTransfer(l.lessor, toLessor);
        if (deposit > toLessor) settlementToken.safeTransfer(l.lessee, deposit - toLessor);
    }

    /// @notice Closes `leaseId` at the end of its term and returns the deposit to the lessee.
    /// @dev Requirements: caller the lessee or the lessor; lease active; every period billed and
    /// settled (paid or assigned). Emits {LeaseClosed}.
    function close(uint256 leaseId) external nonReentrant {
        Lease storage l = _inStatus(leaseId, LeaseStatus.Active);
        if (msg.sender != l.lessee && msg.sender != l.lessor) revert LeaseNotParty(leaseId, msg.sender);
        _bill(leaseId, l);
        if (l.settled < l.periods) revert LeaseNotClosable(leaseId, l.billed, l.settled);
        uint256 deposit = l.deposit;
        (l.status, l.deposit) = (LeaseStatus.Closed, 0);
        delete _openLeaseOf[l.device];
        emit LeaseClosed(leaseId, deposit);
        if (deposit != 0) settlementToken.safeTransfer(l.lessee, deposit);
    }

    /// @notice Sets the payment term (for leases offered from now on), the grace period and the
    /// oracle's report window.
    /// @dev Requirements: caller has `LEASE_MANAGER_ROLE`; payment term and report delay non-zero;
    /// all three at most {MAX_SETTING_SECONDS}. Emits {SettingsSet}.
    function setSettings(
        uint32 paymentTerm_,
        uint32 gracePeriod_,
        uint32 reportDelay_
    ) external onlyRole(LEASE_MANAGER_ROLE) {
        _setSettings(paymentTerm_, gracePeriod_, reportDelay_);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @notice The lease as stored.
    function leaseOf(uint256 leaseId) external view returns (Lease memory) {
        return _leases[leaseId];
    }

    /// @notice The open (offered, running or defaulted) lease of `deviceId`, if any.
    function openLeaseOf(string calldata deviceId) external view returns (bool found, uint256 leaseId) {
        return OptionalId.unwrap(_openLeaseOf[keccak256(bytes(deviceId))]);
    }

    /// @notice One period of `leaseId`, its due date and the receivable it was assigned to, if any.
    function periodOf(
        uint256 leaseId,
        uint256 period
    ) external view returns (Period memory p, uint256 dueAt, bool assigned, uint256 receivableId) {
        Lease storage l = _existing(leaseId);
        (assigned, receivableId) = OptionalId.unwrap(_receivableOf[leaseId][period]);
        return (_periods[leaseId][period], _dueAt(leaseId, l, period), assigned, receivableId);
    }

    /// @notice The rent schedule of `leaseId`.
    function tiersOf(uint256 leaseId) external view returns (Tier[] memory) {
        return _tiers[leaseId];
    }

    /// @notice Billed rent of `leaseId` not yet paid (periods billable now but not yet billed excluded).
    function outstanding(uint256 leaseId) external view returns (uint256) {
        return _outstanding(leaseId, _existing(leaseId));
    }

    /// @notice How many leases were ever offered (ids run from 0).
    function leaseCount() external view returns (uint256) {
        return _nextId;
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _applyPayment(uint256 leaseId, Lease storage l, uint256 amount, address payer) private {
        uint256 billed = l.billed;
        for (uint256 k = l.settled; k < billed && amount != 0; ++k) {
            Period storage p = _periods[leaseId][k];
            uint256 part = Math.min(amount, p.rent - p.paid);
            if (part == 0) continue;
            p.paid += uint96(part);
            amount -= part;
            emit RentPaid(leaseId, k, payer, uint96(part), p.paid);
        }
        _advanceSettled(leaseId, l);
    }

    function _advanceSettled(uint256 leaseId, Lease storage l) private {
        (uint256 settled, uint256 billed) = (l.settled, l.billed);
        while (settled < billed) {
            Period storage p = _periods[leaseId][settled];
            if (p.paid < p.rent) break;
            ++settled;
        }
        l.settled = uint16(settled);
    }

    function _outstanding(uint256 leaseId, Lease storage l) private view returns (uint256 owed) {
        for (uint256 k = l.settled; k < l.billed; ++k) {
            Period storage p = _periods[leaseId][k];
            owed += p.rent - p.paid;
        }
    }

    function _dueAt(uint256 leaseId, Lease storage l, uint256 period) private view returns (uint256) {
        return uint256(l.start) + (period + 1) * l.periodSeconds + _paymentTerms[leaseId];
    }

    function _existing(uint256 leaseId) private view returns (Lease storage l) {
        l = _leases[leaseId];
        if (l.status == LeaseStatus.None) revert LeaseUnknown(leaseId);
    }

    function _inStatus(uint256 leaseId, LeaseStatus status) private view returns (Lease storage l) {
        l = _existing(leaseId);
        if (l.status != status) revert LeaseWrongStatus(leaseId, l.status);
    }

    /// @dev Reverts unless `device` is in no open lease; an offer of it that lapsed unaccepted is ended.
    function _claimDevice(bytes32 device) private {
        (bool inUse, uint256 openId) = OptionalId.unwrap(_openLeaseOf[device]);
        if (!inUse) return;
        Lease storage open = _leases[openId];
        if (open.status != LeaseStatus.Offered || block.timestamp <= uint256(open.start) + OFFER_LIFETIME) {
            revert LeaseDeviceInUse(device, openId);
        }
        open.status = LeaseStatus.Cancelled;
        emit LeaseOfferExpired(openId);
    }

    /// @dev Reverts unless every period's rent fits its 96-bit field: at most every hour of the period at
    /// the first (dearest) tier's price, or the minimum rent — so billing can never overflow and leave
    /// a lease that cannot be paid, closed or recalled.
    function _checkRentFits(LeaseTerms calldata terms, Tier[] calldata tiers) private pure {
        uint256 mostHundredths = uint256(terms.periodSeconds) / _SECONDS_PER_HUNDREDTH; // what a report may claim
        uint256 mostRent = Math.max(
            Math.ceilDiv(mostHundredths * tiers[0].pricePerHour, _HUNDREDTHS_PER_HOUR),
            terms.minimumRent
        );
        if (mostRent > type(uint96).max) revert LeaseRentTooLarge(mostRent);
    }

    /// @dev Reverts unless `lessor` is an active supplier and `lessee` an active lessee.
    function _checkParties(address lessor, address lessee) private view {
        (bool lessorOk, bool lesseeOk) = registry.areAuthorized(lessor, ROLE_SUPPLIER, lessee, ROLE_LESSEE);
        if (!lessorOk) revert LeaseParticipantNotAuthorized(lessor, ROLE_SUPPLIER);
        if (!lesseeOk) revert LeaseParticipantNotAuthorized(lessee, ROLE_LESSEE);
    }

    function _checkTiers(Tier[] calldata tiers) private pure {
        if (tiers.length == 0 || tiers.length > MAX_TIERS) revert LeaseInvalidTierCount(tiers.length, MAX_TIERS);
        for (uint256 i; i < tiers.length; ++i) {
            if (
                tiers[i].pricePerHour == 0 ||
                (i > 0 &&
                    (tiers[i].upToHours <= tiers[i - 1].upToHours ||
                        tiers[i].pricePerHour >= tiers[i - 1].pricePerHour))
            ) {
                revert LeaseInvalidTier(i, tiers[i].upToHours, tiers[i].pricePerHour);
            }
        }
    }

    function _setSettings(uint32 paymentTerm_, uint32 gracePeriod_, uint32 reportDelay_) private {
        if (
            paymentTerm_ == 0 ||
            reportDelay_ == 0 ||
            paymentTerm_ > MAX_SETTING_SECONDS ||
            reportDelay_ > MAX_SETTING_SECONDS ||
            gracePeriod_ > MAX_SETTING_SECONDS
        ) {
            revert LeaseInvalidSettings(paymentTerm_, gracePeriod_, reportDelay_, MAX_SETTING_SECONDS);
        }
        (paymentTerm, gracePeriod, reportDelay) = (paymentTerm_, gracePeriod_, reportDelay_);
        emit SettingsSet(paymentTerm_, gracePeriod_, reportDelay_);
    }
}

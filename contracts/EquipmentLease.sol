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
import {SelfPermit} from "./utils/SelfPermit.sol";

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
contract EquipmentLease is IEquipmentLease, IReportConsumer, ReentrancyGuard, AccessControlPausable, SelfPermit {
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
    // A tier in the packed schedule (see {_rateCards}): 64 bits, the price per hour in the low 48.
    uint256 private constant _TIER_BITS = 64;
    uint256 private constant _PRICE_BITS = 48;
    uint256 private constant _PRICE_MASK = (1 << _PRICE_BITS) - 1;
    // Where {LeaseRecord}'s slot-0 members start, as Solidity packs the struct (first member in the lowest
    // bits: start at 0). {_applyItem} reads and writes the slot whole with these; tests pin them to the struct.
    uint256 private constant _REC_SECONDS_OFFSET = 40;
    uint256 private constant _REC_PERIODS_OFFSET = 72;
    uint256 private constant _REC_FLAGS_OFFSET = 88;
    uint256 private constant _REC_STATUS_OFFSET = 96;
    uint256 private constant _REC_BILLED_OFFSET = 104;
    uint256 private constant _REC_SETTINGS_OFFSET = 136;
    uint256 private constant _REC_OPEN_USAGE_OFFSET = 152;
    uint256 private constant _REC_OPEN_PERIOD_OFFSET = 216;

    IParticipantRegistry public immutable registry;
    IERC20 public immutable settlementToken;
    IReceivables public immutable receivables;
    address public immutable gateway;

    /// @dev A lease as stored. Slot 0 holds all a report reads and writes: the usage of the period
    /// reported on last (the open period) lives here, so a report of it touches no other slot; it moves
    /// to {_periods} when a report opens a later period, and is recorded there when billed. The
    /// parties, the deposit and the minimum rent follow.
    struct LeaseRecord {
        uint40 start; // accepted at (while offered: offered at); period k is [start + k·periodSeconds, +periodSeconds)
        uint32 periodSeconds;
        uint16 periods;
        uint8 flags;
        LeaseStatus status;
        uint16 billed;
        uint16 settled;
        uint16 settings; // index into {_settings}: the settings in force when it was offered
        uint64 openUsage; // the usage of period `openPeriod` (see {_usageOf})
        uint16 openPeriod; // only ever moves forward; periods after it have no usage yet
        uint24 rateCard; // its rent schedule: a key of {_rateCards}
        address lessee;
        uint96 deposit;
        address lessor;
        uint96 minimumRent;
    }

    // Packed with the pause flag (see {AccessControlPausable}): an offer reads flag and counters at once.
    uint64 private _nextId;
    // How many rent schedules {_rateCards} holds.
    uint24 private _rateCardCount;

    // Every version of the settings, the last in force for new offers; a lease keeps the one it was offered under.
    Settings[] private _settings;
    mapping(uint256 leaseId => LeaseRecord) private _leases;
    // Rent schedules (rate cards), each stored once however many leases use it, as a lessor's price list
    // is: card 1, 2, … → the schedule in one word, tier i in bits [64·i, 64·i + 64),
    // `upToHours << 48 | pricePerHour`, the tiers ending at the first zero price (prices are non-zero).
    mapping(uint256 card => uint256 tierWord) private _rateCards;
    // The card of each schedule stored, or 0 for none yet.
    mapping(uint256 tierWord => uint256 card) private _rateCardOf;
    mapping(uint256 leaseId => mapping(uint256 period => Period)) private _periods;
    // {OptionalId}s: the id + 1, or 0 for none.
    mapping(uint256 leaseId => mapping(uint256 period => uint256 receivableId)) private _receivableOf;
    // The device's latest lease, an {OptionalId}; it holds the device while offered (until it lapses),
    // running or defaulted.
    mapping(bytes32 device => uint256 leaseId) private _lastLeaseOf;

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

    /// @notice The caller (lessor) offers `deviceId` to `lessee` on `terms` at the `tiers` rent schedule,
    /// under the settings in force now (kept for the lease's life); the offer stands {OFFER_LIFETIME}.
    /// @dev Requirements: not paused; caller an active supplier, `lessee` an active lessee other than
    /// the caller; device id 1–{MAX_DEVICE_ID_BYTES} bytes and in no open lease (an offer of it that
    /// lapsed unaccepted is ended here: {LeaseOfferExpired}); {MIN_PERIOD_SECONDS} ≤ period ≤
    /// {MAX_PERIOD_SECONDS}; 1 ≤ periods ≤ {MAX_PERIODS};
    /// 1–{MAX_TIERS} tiers, bounds strictly rising and (but the last, which is ignored) below the
    /// hours a period has, prices strictly falling, non-zero and below 2^48 (so a period's rent always
    /// fits its 96 bits).
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
        uint256 tierWord = _packTiers(tiers, terms.periodSeconds);
        bytes32 device = keccak256(bytes(deviceId));
        _claimDevice(device);

        leaseId = _nextId++;
        _lastLeaseOf[device] = OptionalId.wrap(leaseId);
        LeaseRecord storage l = _leases[leaseId];
        (l.start, l.periodSeconds, l.periods, l.status) = (
            uint40(block.timestamp), // offered now: the offer lapses {OFFER_LIFETIME} later
            terms.periodSeconds,
            terms.periods,
            LeaseStatus.Offered
        );
        (l.settings, l.rateCard) = (
            uint16(_settings.length - 1), // < 2^16: {_setSettings}
            _rateCardFor(tierWord)
        );
        (l.lessee, l.deposit, l.lessor, l.minimumRent) = (lessee, terms.deposit, msg.sender, terms.minimumRent);
        emit LeaseOffered(leaseId, msg.sender, lessee, device, deviceId, terms, tiers);
    }

    /// @notice The lessee accepts the offer and pays the deposit; the lease starts now.
    /// @dev Requirements: not paused; caller the lessee, still an active lessee; the lessor still an
    /// active supplier; lease offered, at most {OFFER_LIFETIME} ago; deposit approved.
    /// Emits {LeaseAccepted}.
    function accept(uint256 leaseId) external whenNotPaused nonReentrant {
        LeaseRecord storage l = _inStatus(leaseId, LeaseStatus.Offered);
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
        LeaseRecord storage l = _inStatus(leaseId, LeaseStatus.Offered);
        if (msg.sender != l.lessor && !hasRole(LEASE_MANAGER_ROLE, msg.sender))
            revert LeaseNotParty(leaseId, msg.sender);
        l.status = LeaseStatus.Cancelled;
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

    /// @dev One report item. Reads the lease's slot 0 once and writes it at most once (besides billing,
    /// which goes through the struct): a report of the open period touches no other slot.
    function _applyItem(uint256 word, uint64 asOf) private {
        uint256 leaseId = word >> _LEASE_ID_SHIFT;
        uint256 period = uint32(word >> _PERIOD_SHIFT);
        LeaseRecord storage l = _leases[leaseId];
        uint256 rec = _loadRecord(l);
        if (!_running(LeaseStatus(uint8(rec >> _REC_STATUS_OFFSET)))) {
            emit ReportItemIgnored(leaseId, period, IgnoredReason.NotRunning);
            return;
        }
        uint256 updated = rec;
        if (word & _HAS_FLAGS_BIT != 0) {
            uint256 flags = (word >> _FLAGS_SHIFT) & ALL_FLAGS;
            uint256 previous = uint8(rec >> _REC_FLAGS_OFFSET);
            if (flags != previous) {
                updated = _setField(updated, _REC_FLAGS_OFFSET, 0xff, flags);
                emit RiskFlagsChanged(leaseId, uint8(previous), uint8(flags), asOf);
            }
        }
        if (_billDue(rec)) {
            if (updated != rec) _storeRecord(l, updated); // the flags first: billing reads and writes the slot
            _bill(leaseId, l);
            rec = updated = _loadRecord(l);
        }
        uint64 usage = uint64(word >> _USAGE_SHIFT);
        IgnoredReason why = _whyIgnored(rec, period, usage, asOf);
        bool rose = false;
        if (why == IgnoredReason.None) (updated, rose) = _recordUsage(leaseId, updated, period, usage);
        if (updated != rec) _storeRecord(l, updated);
        if (why != IgnoredReason.None) emit ReportItemIgnored(leaseId, period, why);
        else if (rose) emit UsageReported(leaseId, period, usage, asOf);
    }

    /// @dev Whether the lease in slot-0 word `rec` has a period to bill now (see {_billable}).
    function _billDue(uint256 rec) private view returns (bool) {
        (uint256 start, uint256 length) = (uint40(rec), uint32(rec >> _REC_SECONDS_OFFSET));
        uint256 billed = uint16(rec >> _REC_BILLED_OFFSET);
        if (start + (billed + 1) * length > block.timestamp) return false; // the usual case on the report path
        uint256 periods = uint16(rec >> _REC_PERIODS_OFFSET);
        return _billable(start, length, periods, billed, uint16(rec >> _REC_SETTINGS_OFFSET)) > billed;
    }

    /// @dev The rule of when rent is billed, in one place: how many periods of a lease (begun at `start`,
    /// `periods` of `length` seconds, `billed` of them billed, under settings version `settings`) are
    /// billable now. Period k is once its report window has closed: at `start + (k + 1)·length +
    /// reportDelay`. The settings are read only once the first unbilled period has ended.
    function _billable(
        uint256 start,
        uint256 length,
        uint256 periods,
        uint256 billed,
        uint256 settings
    ) private view returns (uint256) {
        if (billed >= periods || start + (billed + 1) * length > block.timestamp) return billed;
        uint256 delay = _settings[settings].reportDelay;
        if (start + delay > block.timestamp) return billed;
        return Math.max(billed, Math.min(periods, (block.timestamp - start - delay) / length));
    }

    /// @dev Why a report of `usage` for `period` as of `asOf` cannot apply to the lease in `rec`, or None.
    function _whyIgnored(uint256 rec, uint256 period, uint64 usage, uint64 asOf) private pure returns (IgnoredReason) {
        uint256 length = uint32(rec >> _REC_SECONDS_OFFSET);
        if (period < uint16(rec >> _REC_BILLED_OFFSET)) return IgnoredReason.AlreadyBilled;
        if (period >= uint16(rec >> _REC_PERIODS_OFFSET) || uint40(rec) + period * length > asOf)
            return IgnoredReason.NotStarted;
        if (uint256(usage) * _SECONDS_PER_HUNDREDTH > length) return IgnoredReason.Impossible;
        return IgnoredReason.None;
    }

    /// @dev Records `usage` for unbilled `period` if it rises: in the slot-0 word `rec` (returned) when it
    /// is the open period or opens a later one, in {_periods} for an earlier one.
    function _recordUsage(
        uint256 leaseId,
        uint256 rec,
        uint256 period,
        uint64 usage
    ) private returns (uint256, bool rose) {
        uint256 open = uint16(rec >> _REC_OPEN_PERIOD_OFFSET);
        uint256 openUsage = uint64(rec >> _REC_OPEN_USAGE_OFFSET);
        if (period == open) {
            rose = usage > openUsage;
            if (rose) rec = _setField(rec, _REC_OPEN_USAGE_OFFSET, type(uint64).max, usage);
        } else if (period < open) {
            Period storage p = _periods[leaseId][period]; // a late report of an earlier, unbilled period
            rose = usage > p.usage;
            if (rose) p.usage = usage;
        } else {
            // a later period opens: the open one's usage moves to its record (a billed one has it there)
            if (open >= uint16(rec >> _REC_BILLED_OFFSET) && openUsage != 0) {
                _periods[leaseId][open].usage = uint64(openUsage);
            }
            rec = _setField(rec, _REC_OPEN_PERIOD_OFFSET, type(uint16).max, period); // period < MAX_PERIODS
            rec = _setField(rec, _REC_OPEN_USAGE_OFFSET, type(uint64).max, usage);
            rose = usage != 0;
        }
        return (rec, rose);
    }

    function _loadRecord(LeaseRecord storage l) private view returns (uint256 rec) {
        assembly ("memory-safe") {
            rec := sload(l.slot)
        }
    }

    function _storeRecord(LeaseRecord storage l, uint256 rec) private {
        assembly ("memory-safe") {
            sstore(l.slot, rec)
        }
    }

    /// @dev `rec` with the member at `offset` (of `mask`'s width) set to `value` (which fits the mask).
    function _setField(uint256 rec, uint256 offset, uint256 mask, uint256 value) private pure returns (uint256) {
        return (rec & ~(mask << offset)) | (value << offset);
    }

    /// @dev The usage reported for `period` of `l`: in the record while it is the open period, else in
    /// {_periods} (a period after the open one has none yet).
    function _usageOf(uint256 leaseId, LeaseRecord storage l, uint256 period) private view returns (uint64) {
        return period == l.openPeriod ? l.openUsage : _periods[leaseId][period].usage;
    }

    /// @notice Bills every period of `leaseId` whose report window has closed.
    /// @dev Anyone may call it. Emits {RentBilled} per period billed.
    function bill(uint256 leaseId) external {
        _bill(leaseId, _existing(leaseId));
    }

    /// @dev Bills each period whose report window (the lease's report delay) has closed, at the rent its
    /// reported usage sets. Does nothing unless the lease is running.
    function _bill(uint256 leaseId, LeaseRecord storage l) private {
        if (!_running(l.status)) return;
        (uint256 billed, uint256 length, uint256 start) = (l.billed, l.periodSeconds, l.start);
        uint256 billable = _billable(start, length, l.periods, billed, l.settings);
        if (billable <= billed) return; // never below: {_billable} counts on from `billed`
        uint256 paymentTerm = _settings[l.settings].paymentTerm;
        for (; billed < billable; ++billed) {
            uint64 usage = _usageOf(leaseId, l, billed);
            _billPeriod(leaseId, billed, usage, rentFor(leaseId, usage), start, length, paymentTerm);
        }
        l.billed = uint16(billed);
        _advanceSettled(leaseId, l);
    }

    /// @dev Records `period`'s usage and rent: from now on both are fixed in {_periods}.
    function _billPeriod(
        uint256 leaseId,
        uint256 period,
        uint64 usage,
        uint256 rent,
        uint256 start,
        uint256 length,
        uint256 paymentTerm
    ) private {
        Period storage p = _periods[leaseId][period];
        // Fits: at most 8,784 hours at a price below 2^48 ({_packTiers}), or the 96-bit minimum rent.
        uint96 rent96 = SafeCast.toUint96(rent);
        (p.usage, p.rent) = (usage, rent96);
        emit RentBilled(leaseId, period, usage, rent96, uint40(start + (period + 1) * length + paymentTerm));
    }

    /// @notice The rent of one period of `leaseId` in which the device worked `usage` hundredths
    /// of an hour: marginal tiers, at least the lease's minimum rent, rounded up to a whole unit.
    function rentFor(uint256 leaseId, uint64 usage) public view returns (uint256) {
        return Math.max(_tieredRent(leaseId, usage), _leases[leaseId].minimumRent);
    }

    /// @dev The rent `usage` comes to on the tiers alone (no minimum), rounded up to a whole unit.
    function _tieredRent(uint256 leaseId, uint64 usage) private view returns (uint256) {
        uint256 word = _rateCards[_leases[leaseId].rateCard];
        uint256 below;
        uint256 hundredths; // Σ hundredths of an hour × price per hour
        for (uint256 i; i < MAX_TIERS && usage > below; ++i) {
            uint256 tier = word >> (i * _TIER_BITS);
            uint256 price = tier & _PRICE_MASK;
            if (price == 0) break; // no tier i: the one before ran to infinity (unreachable) or there were none
            bool last = i + 1 == MAX_TIERS || (word >> ((i + 1) * _TIER_BITS)) & _PRICE_MASK == 0;
            uint256 bound = last ? type(uint64).max : ((tier >> _PRICE_BITS) & type(uint16).max) * _HUNDREDTHS_PER_HOUR;
            hundredths += (Math.min(usage, bound) - below) * price;
            below = bound;
        }
        return Math.ceilDiv(hundredths, _HUNDREDTHS_PER_HOUR);
    }

    // ------------------------------------------------------------------------------------------
    // Paying
    // ------------------------------------------------------------------------------------------

    /// @notice Pays `amount` of `leaseId`'s billed rent, oldest period first, to the lessor.
    /// @dev Anyone may pay for the lessee. Requirements: 0 < `amount` ≤ outstanding billed rent;
    /// approved. Works in every status after acceptance. Emits {RentPaid} per period touched.
    function payRent(uint256 leaseId, uint256 amount) external nonReentrant {
        LeaseRecord storage l = _existing(leaseId);
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
        LeaseRecord storage l = _inStatus(leaseId, LeaseStatus.Active);
        if (msg.sender != l.lessor) revert LeaseNotParty(leaseId, msg.sender);
        _bill(leaseId, l);
        Period storage p = _periods[leaseId][period];
        uint256 dueAt = _dueAt(l, period);
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

    /// @notice Marks `leaseId` defaulted: its oldest unpaid period is past due plus the lease's grace period.
    /// @dev Anyone may call it. Requirements: lease active or frozen. Emits {LeaseDefaulted}.
    function markDefaulted(uint256 leaseId) external {
        LeaseRecord storage l = _existing(leaseId);
        _bill(leaseId, l);
        uint256 first = l.settled;
        if (
            (l.status != LeaseStatus.Active && l.status != LeaseStatus.Frozen) ||
            first >= l.billed ||
            block.timestamp <= _dueAt(l, first) + _settings[l.settings].gracePeriod
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

    /// @notice Recalls the equipment. Billing ends now: every period that has ended is billed at once
    /// (its report window is cut short: the usage reported so far counts), and the running period
    /// is billed for its usage so far (at most the hours it ran), at least its minimum rent pro rata to
    /// the time it ran. The
    /// deposit then pays what is owed and the rest goes back to the lessee; rent the deposit does not
    /// cover stays owed ({payRent}). The device is free for a new lease.
    /// @dev Requirements: caller has `LEASE_MANAGER_ROLE`; lease frozen or defaulted. Emits
    /// {RentBilled} per period billed, {RentPaid} for periods the deposit pays, {LeaseRecalled}.
    function recall(uint256 leaseId) external onlyRole(LEASE_MANAGER_ROLE) nonReentrant {
        LeaseRecord storage l = _existing(leaseId);
        if (l.status != LeaseStatus.Frozen && l.status != LeaseStatus.Defaulted)
            revert LeaseWrongStatus(leaseId, l.status);
        _billToNow(leaseId, l);
        uint256 deposit = l.deposit;
        uint256 toLessor = Math.min(deposit, _outstanding(leaseId, l));
        if (toLessor != 0) _applyPayment(leaseId, l, toLessor, address(this));
        (l.status, l.deposit) = (LeaseStatus.Recalled, 0);
        emit LeaseRecalled(leaseId, toLessor, deposit - toLessor);
        if (toLessor != 0) settlementToken.safeTransfer(l.lessor, toLessor);
        if (deposit > toLessor) settlementToken.safeTransfer(l.lessee, deposit - toLessor);
    }

    /// @dev Recall's final bill: every ended period, then the running one (see {recall}).
    function _billToNow(uint256 leaseId, LeaseRecord storage l) private {
        (uint256 billed, uint256 periods, uint256 length) = (l.billed, l.periods, l.periodSeconds);
        uint256 start = l.start;
        uint256 paymentTerm = _settings[l.settings].paymentTerm;
        for (; billed < periods && start + (billed + 1) * length <= block.timestamp; ++billed) {
            uint64 usage = _usageOf(leaseId, l, billed);
            _billPeriod(leaseId, billed, usage, rentFor(leaseId, usage), start, length, paymentTerm);
        }
        uint256 began = start + billed * length;
        if (billed < periods && began < block.timestamp) {
            uint256 elapsed = block.timestamp - began;
            uint256 minimum = Math.mulDiv(l.minimumRent, elapsed, length, Math.Rounding.Ceil);
            // the usage reported, at most the hours that have passed since the period began
            uint64 usage = uint64(Math.min(_usageOf(leaseId, l, billed), elapsed / _SECONDS_PER_HUNDREDTH));
            uint256 rent = Math.max(_tieredRent(leaseId, usage), minimum);
            _billPeriod(leaseId, billed, usage, rent, start, length, paymentTerm);
            ++billed;
        }
        l.billed = uint16(billed);
        _advanceSettled(leaseId, l);
    }

    /// @notice Closes `leaseId` at the end of its term and returns the deposit to the lessee.
    /// @dev Requirements: caller the lessee or the lessor; lease active; every period billed and
    /// settled (paid or assigned). Emits {LeaseClosed}.
    function close(uint256 leaseId) external nonReentrant {
        LeaseRecord storage l = _inStatus(leaseId, LeaseStatus.Active);
        if (msg.sender != l.lessee && msg.sender != l.lessor) revert LeaseNotParty(leaseId, msg.sender);
        _bill(leaseId, l);
        if (l.settled < l.periods) revert LeaseNotClosable(leaseId, l.billed, l.settled);
        uint256 deposit = l.deposit;
        (l.status, l.deposit) = (LeaseStatus.Closed, 0);
        emit LeaseClosed(leaseId, deposit);
        if (deposit != 0) settlementToken.safeTransfer(l.lessee, deposit);
    }

    /// @notice Sets the payment term, the grace period and the oracle's report window for leases
    /// offered from now on; a lease keeps the settings it was offered under.
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

    /// @notice The lease, with the settings it was offered under.
    function leaseOf(uint256 leaseId) external view returns (Lease memory) {
        LeaseRecord storage l = _leases[leaseId];
        return
            Lease({
                lessee: l.lessee,
                start: l.start,
                periodSeconds: l.periodSeconds,
                periods: l.periods,
                flags: l.flags,
                lessor: l.lessor,
                status: l.status,
                billed: l.billed,
                settled: l.settled,
                deposit: l.deposit,
                minimumRent: l.minimumRent,
                settings: l.status == LeaseStatus.None ? Settings(0, 0, 0) : _settings[l.settings]
            });
    }

    /// @notice The settings new offers get now.
    function currentSettings() external view returns (Settings memory) {
        return _settings[_settings.length - 1];
    }

    /// @notice The open lease of `deviceId`, if any: offered (until it lapses and another offer ends
    /// it), running or defaulted.
    function openLeaseOf(string calldata deviceId) external view returns (bool found, uint256 leaseId) {
        (bool any, uint256 lastId) = OptionalId.unwrap(_lastLeaseOf[keccak256(bytes(deviceId))]);
        LeaseStatus status = _leases[lastId].status;
        if (any && (status == LeaseStatus.Offered || _running(status))) return (true, lastId);
    }

    /// @notice One period of `leaseId`, its due date and the receivable it was assigned to, if any.
    function periodOf(
        uint256 leaseId,
        uint256 period
    ) external view returns (Period memory p, uint256 dueAt, bool assigned, uint256 receivableId) {
        LeaseRecord storage l = _existing(leaseId);
        (assigned, receivableId) = OptionalId.unwrap(_receivableOf[leaseId][period]);
        p = _periods[leaseId][period];
        p.usage = _usageOf(leaseId, l, period);
        return (p, _dueAt(l, period), assigned, receivableId);
    }

    /// @notice The rent schedule of `leaseId` (the last tier's bound reads as 2^32 − 1: it has none).
    function tiersOf(uint256 leaseId) external view returns (Tier[] memory tiers) {
        uint256 word = _rateCards[_leases[leaseId].rateCard];
        uint256 n;
        while (n < MAX_TIERS && (word >> (n * _TIER_BITS)) & _PRICE_MASK != 0) ++n;
        tiers = new Tier[](n);
        for (uint256 i; i < n; ++i) {
            uint256 tier = word >> (i * _TIER_BITS);
            tiers[i] = Tier({
                upToHours: i + 1 == n ? type(uint32).max : uint32((tier >> _PRICE_BITS) & type(uint16).max),
                pricePerHour: uint96(tier & _PRICE_MASK)
            });
        }
    }

    /// @notice Rent of `leaseId` not yet paid, counting periods billable now but not yet billed (which
    /// paying bills first): what {payRent} accepts at most now.
    function outstanding(uint256 leaseId) external view returns (uint256 owed) {
        LeaseRecord storage l = _existing(leaseId);
        owed = _outstanding(leaseId, l);
        if (!_running(l.status)) return owed;
        uint256 billable = _billable(l.start, l.periodSeconds, l.periods, l.billed, l.settings);
        for (uint256 k = l.billed; k < billable; ++k) owed += rentFor(leaseId, _usageOf(leaseId, l, k));
    }

    /// @notice How many periods of `leaseId` {bill} would bill now: ended, their report window closed,
    /// not yet billed (0 for a lease not running). What a billing keeper looks for.
    function unbilledPeriods(uint256 leaseId) external view returns (uint256) {
        LeaseRecord storage l = _existing(leaseId);
        if (!_running(l.status)) return 0;
        return _billable(l.start, l.periodSeconds, l.periods, l.billed, l.settings) - l.billed;
    }

    /// @notice How many leases were ever offered (ids run from 0).
    function leaseCount() external view returns (uint256) {
        return _nextId;
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _applyPayment(uint256 leaseId, LeaseRecord storage l, uint256 amount, address payer) private {
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

    function _advanceSettled(uint256 leaseId, LeaseRecord storage l) private {
        (uint256 settled, uint256 billed) = (l.settled, l.billed);
        while (settled < billed) {
            Period storage p = _periods[leaseId][settled];
            if (p.paid < p.rent) break;
            ++settled;
        }
        l.settled = uint16(settled);
    }

    function _outstanding(uint256 leaseId, LeaseRecord storage l) private view returns (uint256 owed) {
        for (uint256 k = l.settled; k < l.billed; ++k) {
            Period storage p = _periods[leaseId][k];
            owed += p.rent - p.paid;
        }
    }

    function _dueAt(LeaseRecord storage l, uint256 period) private view returns (uint256) {
        return uint256(l.start) + (period + 1) * l.periodSeconds + _settings[l.settings].paymentTerm;
    }

    function _existing(uint256 leaseId) private view returns (LeaseRecord storage l) {
        l = _leases[leaseId];
        if (l.status == LeaseStatus.None) revert LeaseUnknown(leaseId);
    }

    function _inStatus(uint256 leaseId, LeaseStatus status) private view returns (LeaseRecord storage l) {
        l = _existing(leaseId);
        if (l.status != status) revert LeaseWrongStatus(leaseId, l.status);
    }

    /// @dev Whether a lease in `status` is running: billed, reported on and holding its device.
    function _running(LeaseStatus status) private pure returns (bool) {
        return status == LeaseStatus.Active || status == LeaseStatus.Frozen || status == LeaseStatus.Defaulted;
    }

    /// @dev Reverts unless `device` is in no open lease; an offer of it that lapsed unaccepted is ended.
    function _claimDevice(bytes32 device) private {
        (bool any, uint256 lastId) = OptionalId.unwrap(_lastLeaseOf[device]);
        if (!any) return;
        LeaseRecord storage last = _leases[lastId];
        LeaseStatus status = last.status;
        if (_running(status)) revert LeaseDeviceInUse(device, lastId);
        if (status != LeaseStatus.Offered) return; // ended: closed, recalled or cancelled
        if (block.timestamp <= uint256(last.start) + OFFER_LIFETIME) revert LeaseDeviceInUse(device, lastId);
        last.status = LeaseStatus.Cancelled;
        emit LeaseOfferExpired(lastId);
    }

    /// @dev Reverts unless `lessor` is an active supplier and `lessee` an active lessee.
    function _checkParties(address lessor, address lessee) private view {
        (bool lessorOk, bool lesseeOk) = registry.areAuthorized(lessor, ROLE_SUPPLIER, lessee, ROLE_LESSEE);
        if (!lessorOk) revert LeaseParticipantNotAuthorized(lessor, ROLE_SUPPLIER);
        if (!lesseeOk) revert LeaseParticipantNotAuthorized(lessee, ROLE_LESSEE);
    }

    /// @dev The rate card of the schedule `tierWord`, stored now if it is the first lease on it.
    function _rateCardFor(uint256 tierWord) private returns (uint24 card) {
        card = uint24(_rateCardOf[tierWord]); // a key of {_rateCards}: < 2^24
        if (card != 0) return card;
        if (_rateCardCount == type(uint24).max) revert LeaseTooManyRateCards();
        card = ++_rateCardCount;
        (_rateCards[card], _rateCardOf[tierWord]) = (tierWord, card);
    }

    /// @dev Checks the rent schedule (see {offer}) and packs it into one word (see {_rateCards}).
    function _packTiers(Tier[] calldata tiers, uint256 periodSeconds) private pure returns (uint256 word) {
        uint256 n = tiers.length;
        if (n == 0 || n > MAX_TIERS) revert LeaseInvalidTierCount(n, MAX_TIERS);
        for (uint256 i; i < n; ++i) {
            (uint256 upTo, uint256 price) = (tiers[i].upToHours, tiers[i].pricePerHour);
            bool last = i + 1 == n;
            if (
                price == 0 ||
                price > _PRICE_MASK ||
                (!last && upTo * 1 hours >= periodSeconds) || // a later tier could never be reached
                (i > 0 && (upTo <= tiers[i - 1].upToHours || price >= tiers[i - 1].pricePerHour))
            ) revert LeaseInvalidTier(i, upTo, price);
            // A bound below the period's hours fits 16 bits ({MAX_PERIOD_SECONDS} is 8,784 hours).
            word |= ((last ? 0 : upTo << _PRICE_BITS) | price) << (i * _TIER_BITS);
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
        if (_settings.length > type(uint16).max) revert LeaseTooManySettings();
        _settings.push(Settings(paymentTerm_, gracePeriod_, reportDelay_));
        emit SettingsSet(paymentTerm_, gracePeriod_, reportDelay_);
    }

    /// @dev Payments come in the settlement token: the permits {SelfPermit} takes are for it.
    function _permitToken() internal view override returns (address) {
        return address(settlementToken);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Risk-flag bits of a lease, raised and cleared by the IoT oracle's rules (several may be up at once).
uint8 constant FLAG_IDLE = 1 << 0; // the device has not worked for longer than the rules allow
uint8 constant FLAG_GEOFENCE = 1 << 1; // the device left its allowed region
uint8 constant FLAG_FUEL = 1 << 2; // fuel use out of line with the hours worked
uint8 constant FLAG_TAMPER = 1 << 3; // a meter ran backwards or the device reported impossible data
uint8 constant ALL_RISK_FLAGS = FLAG_IDLE | FLAG_GEOFENCE | FLAG_FUEL | FLAG_TAMPER;

/// @title IEquipmentLease
/// @notice IoT equipment leasing (设备融资租赁): a lessor leases a device to a lessee for a number of
/// billing periods; the IoT oracle reports hours worked per period and the device's risk flags
/// through the gateway; each period's rent follows a usage-tier schedule (the more hours worked, the
/// lower the price per hour); the lessee pays in the settlement token; late → grace → default; the
/// bank freezes or recalls; closing at term end returns the deposit. A billed, unpaid period can be
/// turned into a receivable on the lessee, which the lessor finances through the receivables pool.
interface IEquipmentLease {
    enum LeaseStatus {
        None,
        Offered, // the lessor offered it; the lessee has not accepted (no deposit yet)
        Active,
        Frozen, // the bank froze it (the device should be locked): billing and payments go on
        Defaulted, // rent unpaid past due + grace
        Recalled, // the bank recalled the equipment: billing stopped, deposit settled; terminal
        Closed, // term over, everything settled, deposit returned; terminal
        Cancelled // an offer withdrawn by its lessor or the bank, or lapsed unaccepted: its device freed; terminal
    }

    /// @notice One tier of the rent schedule: hours up to `upToHours` (within a period) cost
    /// `pricePerHour` units each. Tiers are marginal, like tax brackets, so rent never falls when a
    /// device works more, while the average price per hour does.
    struct Tier {
        uint32 upToHours; // the last tier's bound is ignored (it runs to infinity)
        uint96 pricePerHour; // settlement token units
    }

    /// @notice What the lessor offers besides the rent schedule.
    struct LeaseTerms {
        uint32 periodSeconds; // length of a billing period
        uint16 periods; // term, in periods
        uint96 deposit; // paid by the lessee on acceptance, held until close or recall
        uint96 minimumRent; // floor of every period's rent
    }

    /// @notice The bank's settings a lease is offered under and keeps for its life (see {setSettings}).
    struct Settings {
        uint32 paymentTerm; // seconds after a period ends before its rent falls due
        uint32 gracePeriod; // seconds after the due date before unpaid rent makes the lease defaultable
        uint32 reportDelay; // seconds after a period ends during which the oracle may still report its usage
    }

    /// @notice A lease, as {leaseOf} gives it.
    struct Lease {
        address lessee;
        uint40 start; // when the lessee accepted; period k is [start + k·periodSeconds, start + (k+1)·periodSeconds) (offered: when it was offered)
        uint32 periodSeconds;
        uint16 periods; // term, in periods
        uint8 flags; // risk flags the IoT oracle reported last: IDLE 1, GEOFENCE 2, FUEL 4, TAMPER 8
        address lessor;
        LeaseStatus status;
        uint16 billed; // periods billed so far
        uint16 settled; // leading periods fully paid or assigned
        uint96 deposit;
        uint96 minimumRent; // floor of every period's rent
        Settings settings; // fixed when offered
    }

    /// @notice One billing period.
    struct Period {
        uint64 usage; // hours worked, in hundredths of an hour, as the oracle reported them
        uint96 rent; // fixed when billed
        uint96 paid; // paid, or the whole rent once assigned to a receivable
    }

    /// @notice `caller` is not the oracle gateway, the only sender of usage reports.
    error LeaseNotGateway(address caller);
    /// @notice A usage report's payload of `length` bytes is not a whole number of 32-byte items.
    error LeaseMalformedReport(uint256 length);
    /// @notice No lease has id `leaseId`.
    error LeaseUnknown(uint256 leaseId);
    /// @notice Lease `leaseId` is `status`, a status in which this call is not possible.
    error LeaseWrongStatus(uint256 leaseId, LeaseStatus status);
    /// @notice `account` is not an active participant holding `roles` (a supplier to offer, a lessee to lease).
    error LeaseParticipantNotAuthorized(address account, uint8 roles);
    /// @notice `account` is not the party to lease `leaseId` that this call needs (its lessee, or its lessor).
    error LeaseNotParty(uint256 leaseId, address account);
    /// @notice The offered terms are out of range: a period of `periodSeconds` (1 hour to 366 days),
    /// `periods` periods (1 to {MAX_PERIODS}).
    error LeaseInvalidTerms(uint256 periodSeconds, uint256 periods);
    /// @notice A device id must be 1 to 64 bytes long; this one is `length`.
    error LeaseInvalidDeviceId(uint256 length);
    /// @notice The rent schedule has `count` tiers; it must have 1 to `maxTiers`.
    error LeaseInvalidTierCount(uint256 count, uint256 maxTiers);
    /// @notice Tier `index` (up to `upToHours` hours at `pricePerHour` an hour) has a zero price or one of
    /// 2^48 or more, or its bound is not above the previous tier's or its price not below it, or (not
    /// the last tier) its bound reaches the hours a period has, so the tiers after it could never apply.
    error LeaseInvalidTier(uint256 index, uint256 upToHours, uint256 pricePerHour);
    /// @notice `device` is already in lease `leaseId`, which is not yet closed or recalled.
    error LeaseDeviceInUse(bytes32 device, uint256 leaseId);
    /// @notice The offer of lease `leaseId` lapsed unaccepted at `expiredAt` ({OFFER_LIFETIME} after it was made).
    error LeaseOfferLapsed(uint256 leaseId, uint256 expiredAt);
    /// @notice `account` offered a lease to itself: the lessor and the lessee must be different parties.
    error LeaseSelfDealing(address account);
    /// @notice The settings were changed 65,536 times: no more versions can be kept.
    error LeaseTooManySettings();
    /// @notice 16,777,215 different rent schedules are stored: no more can be kept.
    error LeaseTooManyRateCards();
    /// @notice A payment of zero was given.
    error LeaseZeroAmount();
    /// @notice Lease `leaseId` has `outstanding` billed and unpaid, less than the `amount` offered.
    error LeasePaymentTooLarge(uint256 leaseId, uint256 outstanding, uint256 amount);
    /// @notice Lease `leaseId` is not active or frozen, or has no period unpaid past due plus grace.
    error LeaseNotDefaultable(uint256 leaseId);
    /// @notice Lease `leaseId` has `billed` periods billed and `settled` settled: closing needs all settled.
    error LeaseNotClosable(uint256 leaseId, uint256 billed, uint256 settled);
    /// @notice Period `period` of lease `leaseId` is unbilled, zero, partly paid, assigned or due already.
    error LeasePeriodNotAssignable(uint256 leaseId, uint256 period);
    /// @notice Settings out of range: a payment term of `paymentTerm` and a report delay of `reportDelay`
    /// seconds must be 1 to `maxSeconds`, a grace period of `gracePeriod` seconds at most `maxSeconds`.
    error LeaseInvalidSettings(uint256 paymentTerm, uint256 gracePeriod, uint256 reportDelay, uint256 maxSeconds);

    /// @notice Why one item of an oracle report changed nothing (the rest of the report still applies).
    enum IgnoredReason {
        None,
        NotRunning, // the lease is not active, frozen or defaulted
        AlreadyBilled, // the period's rent is fixed already: a late report
        NotStarted, // the period lies after the report's as-of time or beyond the term
        Impossible // more hours than the period has
    }

    event LeaseOffered(
        uint256 indexed leaseId,
        address indexed lessor,
        address indexed lessee,
        bytes32 device,
        string deviceId,
        LeaseTerms terms,
        Tier[] tiers
    );
    event LeaseAccepted(uint256 indexed leaseId, uint40 start, uint96 deposit);
    /// @notice The offer of lease `leaseId` was withdrawn by `by` (its lessor, or the bank); its device is free.
    event LeaseOfferCancelled(uint256 indexed leaseId, address by);
    /// @notice The offer of lease `leaseId` lapsed unaccepted and a new offer took its device.
    event LeaseOfferExpired(uint256 indexed leaseId);
    event UsageReported(uint256 indexed leaseId, uint256 indexed period, uint64 usage, uint64 asOf);
    event RiskFlagsChanged(uint256 indexed leaseId, uint8 previous, uint8 flags, uint64 asOf);
    event ReportItemIgnored(uint256 indexed leaseId, uint256 indexed period, IgnoredReason reason);
    event RentBilled(uint256 indexed leaseId, uint256 indexed period, uint64 usage, uint96 rent, uint40 dueAt);
    event RentPaid(uint256 indexed leaseId, uint256 indexed period, address payer, uint96 amount, uint96 paid);
    event PeriodAssigned(uint256 indexed leaseId, uint256 indexed period, uint256 indexed receivableId, uint96 amount);
    event LeaseFrozen(uint256 indexed leaseId, bytes32 reason);
    event LeaseUnfrozen(uint256 indexed leaseId);
    event LeaseDefaulted(uint256 indexed leaseId, uint256 period, uint256 outstanding);
    event LeaseRecalled(uint256 indexed leaseId, uint256 depositToLessor, uint256 depositToLessee);
    event LeaseClosed(uint256 indexed leaseId, uint256 depositReturned);
    event SettingsSet(uint32 paymentTerm, uint32 gracePeriod, uint32 reportDelay);
}

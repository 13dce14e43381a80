// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IReceivables
/// @notice Supply-chain receivables (应收账款) as ERC-721 tokens: a core enterprise (the debtor) issues
/// one to a supplier; the holder splits it and passes parts down its own supply chain, or applies for
/// financing and is paid the discounted advance from the bank's pool in the same transaction; the
/// debtor repays the holder up to maturity plus a grace period; after that anyone may mark it defaulted.
/// @dev Keeps the interface of the article's sketch (`createReceivable`, `applyForFinancing`,
/// `receivables`, `nextId`, {FinancingApplied}) with its meaning, so its client works unchanged.
interface IReceivables {
    /// @notice Life cycle. ReceivableStatus only moves forward (numerically up):
    /// Active → Split | Financed | Settled | Defaulted; Financed → Settled | Defaulted; Defaulted → Cured.
    enum ReceivableStatus {
        None, // never issued
        Active, // held by a supplier, may be split, transferred, financed, repaid
        Split, // replaced by its parts (the parent token is burned; its record stays for lineage)
        Financed, // held by the pool, which paid the advance
        Settled, // repaid in full
        Defaulted, // not repaid by maturity plus grace; the debtor may still repay it late
        Cured // defaulted, then repaid in full late or its recovery recorded by the bank: no longer counts against the debtor
    }

    /// @notice Why a financing application was refused. Refusals do not revert: they are recorded
    /// by {FinancingRefused} so the approval rate and the auditors can count them.
    enum Refusal {
        None,
        Matured, // at or past its due date: nothing left to discount
        DebtorNotAuthorized, // the debtor is not an active core enterprise
        NoFacility, // the bank has set no exposure limit for the debtor
        DebtorInDefault, // the debtor has a defaulted receivable
        ExposureLimitExceeded, // financing it would put the debtor's exposure above its limit
        InsufficientLiquidity, // the pool cannot pay the advance
        PoolPaused, // the pool's disbursements are stopped
        AdvanceTooSmall, // the discount takes the whole amount: the advance would be zero
        HolderIsDebtor // the holder owes it: financing would be an unsecured loan with no trade behind it
    }

    /// @notice One receivable, packed into three storage slots.
    struct Receivable {
        address debtor; // the core enterprise that owes the money
        uint40 dueDate; // unix time the face amount is due
        ReceivableStatus status;
        bool financed; // true once financed; stays true after settlement or default
        uint32 gracePeriod; // seconds after the due date repayment is still on time: the bank's setting at issue
        uint96 amount; // face amount in settlement-token units
        uint96 repaid; // repaid so far
        uint64 parentPlusOne; // an OptionalId: parent id + 1 for a part made by {split}; 0 for an issued one
        bytes32 invoiceHash; // hash of the invoice kept off chain (zero via the seed interface)
    }

    /// @notice The bank's factoring terms for one core enterprise and its standing, packed into one slot.
    struct DebtorTerms {
        uint96 limit; // most the pool may have financed against this debtor at once
        uint96 exposure; // outstanding face amount of financed receivables (defaulted included)
        uint16 rateBps; // annual discount rate in basis points, charged on the advanced share
        uint16 openDefaults; // defaulted receivables of this debtor not yet cured
        uint16 advanceRateBps; // share of the outstanding amount the pool advances (10,000 − the haircut)
        uint16 feeBps; // one-off fee on the outstanding amount, taken from the advance
    }

    /// @notice What financing a receivable pays: `advance` = the advanced share less `discount` and `fee`.
    struct Price {
        uint256 advance;
        uint256 discount;
        uint256 fee;
    }

    /// @notice No receivable has id `id` (never issued).
    error ReceivableUnknown(uint256 id);
    /// @notice A face amount, split part or repayment of zero was given.
    error ReceivableZeroAmount();
    /// @notice `account` issued a receivable to itself: the debtor and the supplier must be different parties.
    error ReceivableSelfIssued(address account);
    /// @notice `amount` does not fit the 96 bits amounts are stored in.
    error ReceivableAmountTooLarge(uint256 amount);
    /// @notice `dueDate` is not between `earliest` (now + 1 s) and `latest` (now + {MAX_TENOR}).
    error ReceivableDueDateOutOfRange(uint256 dueDate, uint256 earliest, uint256 latest);
    /// @notice The debtor's reference (`ref`) is zero; every receivable needs one.
    error ReceivableMissingReference();
    /// @notice `debtor` has already issued a receivable with reference `ref`.
    error ReceivableDuplicateReference(address debtor, bytes32 ref);
    /// @notice `account` is not an active participant holding `requiredRoles`.
    error ReceivableParticipantNotAuthorized(address account, uint8 requiredRoles);
    /// @notice `caller` does not hold receivable `id`.
    error ReceivableNotHolder(uint256 id, address caller);
    /// @notice `caller` is not the debtor of receivable `id`, the only one who may repay it.
    error ReceivableNotDebtor(uint256 id, address caller);
    /// @notice Receivable `id` is `status`, not active, so it cannot be split, moved or financed.
    error ReceivableNotActive(uint256 id, ReceivableStatus status);
    /// @notice Receivable `id` was due at `dueDate`, which has come: it can no longer be split.
    error ReceivableExpired(uint256 id, uint40 dueDate);
    /// @notice A split needs 2 to {MAX_PARTS} amounts and one holder each: `parts` amounts, `holders` holders.
    error ReceivableSplitPartCount(uint256 parts, uint256 holders);
    /// @notice The parts of receivable `id` sum to `sum`, not its face amount `amount`.
    error ReceivableSplitSumMismatch(uint256 id, uint256 amount, uint256 sum);
    /// @notice Receivable `id` has `repaid` repaid already, so it can no longer be split.
    error ReceivableSplitPartiallyRepaid(uint256 id, uint256 repaid);
    /// @notice Receivable `id` is `status`: not one this call can repay, default or cure.
    error ReceivableNotRepayable(uint256 id, ReceivableStatus status);
    /// @notice Receivable `id` has `outstanding` left to repay, less than the `amount` offered.
    error ReceivableRepaymentTooLarge(uint256 id, uint256 outstanding, uint256 amount);
    /// @notice Receivable `id` cannot be marked defaulted before its `deadline` has passed.
    error ReceivableNotOverdue(uint256 id, uint256 deadline);
    /// @notice A discount rate of `rateBps` is above the cap of `maxRateBps` basis points.
    error ReceivableRateTooHigh(uint256 rateBps, uint256 maxRateBps);
    /// @notice An advance rate of `advanceRateBps` (1 to 10,000) or a fee of `feeBps` (at most `maxFeeBps`)
    /// basis points is out of range.
    error ReceivableFactoringTermsOutOfRange(uint256 advanceRateBps, uint256 feeBps, uint256 maxFeeBps);
    /// @notice `debtor` has 65,535 defaults not yet cured: no more can be counted.
    error ReceivableTooManyDefaults(address debtor);
    /// @notice A recovery of `recovered` was recorded for receivable `id`, more than its `outstanding`.
    error ReceivableRecoveryTooLarge(uint256 id, uint256 outstanding, uint256 recovered);
    /// @notice A grace period of `gracePeriod` seconds is above the cap of `maxGracePeriod`.
    error ReceivableGracePeriodTooLong(uint256 gracePeriod, uint256 maxGracePeriod);

    /// @notice `debtor` issued receivable `id` of `amount` due at `dueDate` to `supplier`.
    event ReceivableIssued(
        uint256 indexed id,
        address indexed debtor,
        address indexed supplier,
        uint256 amount,
        uint40 dueDate,
        bytes32 invoiceHash,
        bytes32 ref
    );

    /// @notice Receivable `id` was replaced by `parts` parts with ids `firstPartId` onwards.
    event ReceivableSplit(uint256 indexed id, uint256 firstPartId, uint256 parts);

    /// @notice Part `id` of `amount` was cut from `parentId` and given to `holder`.
    event ReceivablePartCreated(uint256 indexed id, uint256 indexed parentId, address indexed holder, uint256 amount);

    /// @notice `creditor` financed receivable `id` of outstanding `amount` (the article's event).
    event FinancingApplied(uint256 indexed id, address indexed creditor, uint256 amount);

    /// @notice The pool paid `advance` for `amount` of `debtor`'s receivable `id`: `advanceRateBps` of the
    /// amount, less a `discount` at `rateBps` a year and a `fee`; the debtor's exposure is now `exposure`.
    event ReceivableFinanced(
        uint256 indexed id,
        address indexed debtor,
        address indexed creditor,
        uint256 amount,
        uint256 advance,
        uint16 rateBps,
        uint256 exposure,
        uint16 advanceRateBps,
        uint256 discount,
        uint256 fee
    );

    /// @notice `applicant`'s application to finance `id` was refused for `reason`.
    event FinancingRefused(uint256 indexed id, address indexed applicant, Refusal reason);

    /// @notice `debtor` paid `amount` of `id` to its holder `payee`; `outstanding` remains.
    event ReceivableRepaid(
        uint256 indexed id,
        address indexed debtor,
        address indexed payee,
        uint256 amount,
        uint256 outstanding
    );

    /// @notice Receivable `id` is repaid in full.
    event ReceivableSettled(uint256 indexed id);

    /// @notice `markedBy` marked `debtor`'s receivable `id` defaulted with `outstanding` unpaid.
    event ReceivableDefaulted(uint256 indexed id, address indexed debtor, uint256 outstanding, address markedBy);

    /// @notice The bank set `debtor`'s factoring terms: exposure limit `limit`, discount rate `rateBps` a
    /// year, advance rate `advanceRateBps` and fee `feeBps` (basis points).
    event DebtorTermsSet(address indexed debtor, uint256 limit, uint16 rateBps, uint16 advanceRateBps, uint16 feeBps);

    /// @notice Defaulted receivable `id` of `debtor` was cured by `by`: repaid in full late (the debtor),
    /// or its recovery recorded by the bank, `recovered` off chain and `writtenOff` given up.
    /// It no longer counts against the debtor; a financed one's exposure is released.
    event ReceivableCured(
        uint256 indexed id,
        address indexed debtor,
        uint256 recovered,
        uint256 writtenOff,
        address by
    );

    /// @notice Repayment is now accepted up to `gracePeriod` seconds after the due date.
    event GracePeriodSet(uint64 gracePeriod);

    /// @notice The article's call: the caller (debtor) issues `amount` due at `dueDate` to `creditor`.
    function createReceivable(address creditor, uint256 amount, uint256 dueDate) external;

    /// @notice Issues a receivable with its invoice hash and the debtor's unique `ref`.
    function issue(
        address supplier,
        uint256 amount,
        uint256 dueDate,
        bytes32 invoiceHash,
        bytes32 ref
    ) external returns (uint256 id);

    /// @notice Issues a receivable on `debtor`'s behalf, by a contract the bank trusts for it.
    function issueFor(
        address debtor,
        address supplier,
        uint256 amount,
        uint256 dueDate,
        bytes32 invoiceHash,
        bytes32 ref
    ) external returns (uint256 id);

    /// @notice Replaces receivable `id` by parts of `amounts`, part `i` going to `holders[i]`.
    function split(
        uint256 id,
        uint256[] calldata amounts,
        address[] calldata holders
    ) external returns (uint256 firstPartId);

    /// @notice The holder asks the pool to finance `id`; paid in this transaction when approved.
    function applyForFinancing(uint256 id) external returns (bool approved);

    /// @notice The debtor pays `amount` of `id` to its holder.
    function repay(uint256 id, uint256 amount) external;

    /// @notice Marks `id` defaulted once its repayment deadline has passed. Anyone may call.
    function markDefaulted(uint256 id) external;

    /// @notice The article's view: debtor, current holder, face amount, due date, financed.
    function receivables(
        uint256 id
    ) external view returns (address debtor, address creditor, uint256 amount, uint256 dueDate, bool isFinanced);

    /// @notice The id the next issued receivable or part will get.
    function nextId() external view returns (uint256);
}

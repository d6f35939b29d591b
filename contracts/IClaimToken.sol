// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @dev Interface of the claim token: confirmed invoices as splittable claims on the obligor's future payment, and
 * their settlement.
 *
 * A claim's id is its invoice's document root. Its units are minor units of its currency token and always sum to
 * its face value (units redeemed and burnt after full repayment included). Only permitted parties may receive
 * units. The obligor (or anyone for it) repays into the contract; every holder redeems pro rata to the units it
 * held while each repayment came in.
 */
interface IClaimToken {
    /**
     * @dev The obligor's EIP-712 confirmation of an invoice: an irrevocable commitment to pay `faceValue` minor
     * units of `currency` on `dueDate` (Unix seconds) for the document `documentRoot`, anchored in batch
     * `batchRoot`, to whoever then holds the claim first minted to `seller`.
     */
    struct Confirmation {
        bytes32 documentRoot;
        bytes32 batchRoot;
        address seller;
        address obligor;
        address currency;
        uint256 faceValue;
        uint256 dueDate;
        uint256 nonce;
        uint256 deadline;
    }

    /// @dev What a claim is: its terms as confirmed.
    struct ClaimRecord {
        bytes32 documentRoot;
        address seller;
        address obligor;
        address currency;
        uint256 faceValue;
        uint256 dueDate;
    }

    /**
     * @dev Where a claim stands. `Active` before the due date, `Due` from it, `Overdue` after the grace period,
     * `Defaulted` after the default period (both counted from the due date); `Paid` once repaid in full, whatever
     * the time; `Closed` once every unit has been redeemed.
     */
    enum ClaimState {
        Nonexistent,
        Active,
        Due,
        Overdue,
        Defaulted,
        Paid,
        Closed
    }

    /// @dev The default period `defaultPeriod` is not longer than the grace period `gracePeriod`.
    error ClaimTokenInvalidPeriods(uint256 gracePeriod, uint256 defaultPeriod);

    /// @dev `party` cannot be registered (the zero address).
    error ClaimTokenInvalidParty(address party);

    /// @dev `party` is registered already.
    error ClaimTokenPartyAlreadyRegistered(address party);

    /// @dev `party` was never registered.
    error ClaimTokenUnknownParty(address party);

    /// @dev `holder` is not a permitted holder of claim units.
    error ClaimTokenHolderNotPermitted(address holder);

    /// @dev `currency` cannot be listed (the zero address) or is listed already.
    error ClaimTokenInvalidCurrency(address currency);

    /// @dev `currency` is not a listed currency token.
    error ClaimTokenCurrencyNotListed(address currency);

    /// @dev The confirmation's `deadline` has passed.
    error ClaimTokenExpiredConfirmation(uint256 deadline);

    /// @dev `faceValue` is zero or does not fit 96 bits.
    error ClaimTokenInvalidFaceValue(uint256 faceValue);

    /// @dev `dueDate` does not fit 40 bits.
    error ClaimTokenInvalidDueDate(uint256 dueDate);

    /// @dev `obligor` is not a permitted party with a registered signing key.
    error ClaimTokenObligorNotRegistered(address obligor);

    /// @dev The confirmation was signed by `signer`, not by the registered key of `obligor`.
    error ClaimTokenInvalidSigner(address signer, address obligor);

    /// @dev `documentRoot` is not proven to be in the anchored batch `batchRoot`.
    error ClaimTokenDocumentNotAnchored(bytes32 documentRoot, bytes32 batchRoot);

    /// @dev A claim was already confirmed for `documentRoot`.
    error ClaimTokenAlreadyConfirmed(bytes32 documentRoot);

    /// @dev No claim `claimId` exists.
    error ClaimTokenUnknownClaim(uint256 claimId);

    /// @dev A repayment of zero on claim `claimId`.
    error ClaimTokenZeroRepayment(uint256 claimId);

    /// @dev A repayment of `amount` on claim `claimId` exceeds the `outstanding` amount.
    error ClaimTokenRepaymentExceedsOutstanding(uint256 claimId, uint256 amount, uint256 outstanding);

    /// @dev `holder` has nothing to redeem on claim `claimId`.
    error ClaimTokenNothingToRedeem(uint256 claimId, address holder);

    /// @dev Emitted when `party` was registered as party `partyId`, with `obligorSigner` as its signing key.
    event PartyRegistered(address indexed party, uint256 indexed partyId, address obligorSigner);

    /// @dev Emitted when the signing key of `party` changed from `previousSigner` to `newSigner`.
    event ObligorSignerChanged(address indexed party, address previousSigner, address newSigner);

    /// @dev Emitted when `party` was permitted (or no longer permitted) to receive claim units.
    event PartyPermissionChanged(address indexed party, bool permitted);

    /// @dev Emitted when `currency` was listed as currency `currencyId`.
    event CurrencyListed(address indexed currency, uint256 currencyId);

    /// @dev Emitted when `currency` was delisted: no new claim may use it; existing ones settle in it.
    event CurrencyDelisted(address indexed currency, uint256 currencyId);

    /// @dev Emitted when the claim `claimId` was confirmed by `obligor` and minted to `seller`.
    event ClaimConfirmed(
        uint256 indexed claimId,
        address indexed seller,
        address indexed obligor,
        address currency,
        uint256 faceValue,
        uint256 dueDate,
        bytes32 batchRoot
    );

    /// @dev Emitted when `payer` repaid `amount` on claim `claimId`, bringing its repayments to `totalRepaid`.
    event Repaid(uint256 indexed claimId, address indexed payer, uint256 amount, uint256 totalRepaid);

    /// @dev Emitted when `holder` was paid `amount` from claim `claimId` and `unitsBurnt` of its units were burnt.
    event Redeemed(uint256 indexed claimId, address indexed holder, uint256 amount, uint256 unitsBurnt);

    /// @dev Emitted when the last unit of claim `claimId` was redeemed and the rounding remainder `dust` went to
    /// `obligor`.
    event ClaimClosed(uint256 indexed claimId, address indexed obligor, uint256 dust);

    /**
     * @dev Registers `party` as a permitted holder, with `obligorSigner` as the key that signs its confirmations
     * (the zero address for a party that never confirms). Party ids are consecutive and start at 1.
     *
     * Requirements:
     *
     * - the caller must hold the operator role.
     * - `party` must not be the zero address nor registered already.
     *
     * Emits a {PartyRegistered} event.
     */
    function registerParty(address party, address obligorSigner) external returns (uint256 partyId);

    /**
     * @dev Replaces the signing key of `party` with `obligorSigner`. Confirmations signed by the old key fail
     * from now on; the party's confirmation nonce carries on.
     *
     * Requirements:
     *
     * - the caller must hold the operator role.
     * - `party` must be registered.
     *
     * Emits an {ObligorSignerChanged} event.
     */
    function setObligorSigner(address party, address obligorSigner) external;

    /**
     * @dev Permits `party` to receive claim units and to confirm as obligor, or stops it. A party no longer
     * permitted keeps, transfers and redeems the units it has.
     *
     * Requirements:
     *
     * - the caller must hold the operator role.
     * - `party` must be registered.
     *
     * Emits a {PartyPermissionChanged} event.
     */
    function setPartyPermitted(address party, bool permitted) external;

    /**
     * @dev Lists `currency` as a settlement token for new claims, or lists it again, and returns its id.
     *
     * Requirements:
     *
     * - the caller must hold the operator role.
     * - `currency` must not be the zero address nor listed already.
     *
     * Emits a {CurrencyListed} event.
     *
     * WARNING: The accounting assumes a plain ERC-20 that moves exactly the amount asked: no fee on transfer, no
     * rebasing, no transfer hooks. List no other kind.
     */
    function listCurrency(address currency) external returns (uint256 currencyId);

    /**
     * @dev Delists `currency`: no new claim may use it. Claims in it keep settling in it.
     *
     * Requirements:
     *
     * - the caller must hold the operator role.
     * - `currency` must be listed.
     *
     * Emits a {CurrencyDelisted} event.
     */
    function delistCurrency(address currency) external;

    /// @dev Pauses confirmations, purchases, unit transfers and redemptions. Repayments stay open.
    function pause() external;

    /// @dev Ends a pause.
    function unpause() external;

    /**
     * @dev Mints claim `claimId = uint256(confirmation.documentRoot)` to the seller, `faceValue` units, on the
     * obligor's EIP-712 `signature` of `confirmation`, given `proof` that the document is in its anchored batch.
     *
     * Requirements:
     *
     * - the contract must not be paused.
     * - `confirmation.deadline` must not have passed.
     * - `faceValue` must be neither zero nor above 2^96 - 1; `dueDate` must fit 40 bits.
     * - the obligor must be permitted and have a signing key, and `signature` must be that key's (low-s form).
     * - `confirmation.nonce` must be the obligor's current nonce (see {Nonces-nonces}).
     * - the currency must be listed; the seller must be a permitted holder.
     * - the document must be in the anchored batch according to the registry and `proof`.
     * - no claim may exist for the document root.
     *
     * Emits a {ClaimConfirmed} event, then a {IERC1155-TransferSingle} event.
     */
    function confirm(
        Confirmation calldata confirmation,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external returns (uint256 claimId);

    /**
     * @dev Repays `amount` on claim `claimId`, taken from the caller (any payer may repay for the obligor).
     *
     * Requirements:
     *
     * - the claim must exist; `amount` must be neither zero nor above the outstanding amount.
     * - the caller must have approved `amount` of the claim's currency to this contract.
     *
     * Emits a {Repaid} event.
     */
    function repay(uint256 claimId, uint256 amount) external returns (uint256 totalRepaid);

    /**
     * @dev Pays `holder` all it is owed from claim `claimId` so far; anyone may call it for the holder. Once the
     * claim is repaid in full, the holder's units are burnt too, and when the last unit is burnt the rounding
     * remainder goes to the obligor.
     *
     * Requirements:
     *
     * - the contract must not be paused.
     * - the claim must exist, and `holder` must be owed something or hold units of a claim repaid in full.
     *
     * Emits a {Redeemed} event, and a {ClaimClosed} event with the last units.
     */
    function redeem(uint256 claimId, address holder) external returns (uint256 amount);

    /// @dev Returns the IReceivableRegistry that confirmations are checked against.
    function registry() external view returns (address);

    /// @dev Returns the grace period and the default period, in seconds after the due date.
    function settlementPeriods() external view returns (uint256 gracePeriod, uint256 defaultPeriod);

    /// @dev Returns the record of `party`: its id (zero if never registered), whether it is permitted, its key.
    function partyOf(address party) external view returns (uint256 partyId, bool permitted, address obligorSigner);

    /// @dev Returns true if `holder` may receive claim units.
    function isPermitted(address holder) external view returns (bool);

    /// @dev Returns the id of `currency` (zero if never listed) and whether it is listed now.
    function currencyOf(address currency) external view returns (uint256 currencyId, bool listed);

    /// @dev Returns the terms of claim `claimId`; all zero if it does not exist.
    function claimOf(uint256 claimId) external view returns (ClaimRecord memory);

    /// @dev Returns the state of claim `claimId` now.
    function claimState(uint256 claimId) external view returns (ClaimState);

    /**
     * @dev Returns the money of claim `claimId`: repaid so far, credited to holders (and to the obligor as dust),
     * paid out, and the units redeemed and burnt.
     */
    function settlementOf(
        uint256 claimId
    ) external view returns (uint256 repaid, uint256 credited, uint256 paidOut, uint256 unitsRedeemed);

    /// @dev Returns what {redeem} would pay `holder` from claim `claimId` now.
    function redeemable(uint256 claimId, address holder) external view returns (uint256);

    /// @dev Returns the EIP-712 digest of `confirmation`, the message the obligor's key signs.
    function hashConfirmation(Confirmation calldata confirmation) external view returns (bytes32);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @dev Interface of the claim market: delivery versus payment of claim units against the claim's currency token.
 *
 * A holder signs an EIP-712 {Offer} off chain; a funder executes it with {buy}, which moves the units (holder to
 * funder) and the price (funder to holder) in one transaction, or neither.
 *
 * Offer nonces are kept per holder and per claim. Offers signed with the current nonce are open; filling one
 * completely, or {cancelOffers}, moves the nonce on and closes every offer signed with the old one.
 */
interface IClaimMarket {
    /**
     * @dev A holder's signed offer to sell up to `units` units of claim `claimId` for `price` (in minor units of the
     * claim's currency token, for all `units`; partial fills pay pro rata, rounded up). `buyer` is the only funder
     * allowed to fill it, or the zero address for anyone.
     */
    struct Offer {
        uint256 claimId;
        uint256 units;
        uint256 price;
        address seller;
        address buyer;
        uint256 nonce;
        uint256 deadline;
    }

    /// @dev A purchase of zero units was asked for.
    error ClaimMarketZeroUnits();

    /// @dev The offer's `deadline` has passed.
    error ClaimMarketOfferExpired(uint256 deadline);

    /// @dev The offer was signed by `signer`, not by its `seller`.
    error ClaimMarketInvalidSigner(address signer, address seller);

    /// @dev `funder` tried to fill an offer reserved for `buyer`.
    error ClaimMarketNotOfferBuyer(address funder, address buyer);

    /**
     * @dev The offer of `seller` on claim `claimId` carries `nonce` but the open nonce is `currentNonce`: the offer
     * was filled completely or cancelled (or signed for a nonce not yet reached).
     */
    error ClaimMarketOfferClosed(uint256 claimId, address seller, uint256 nonce, uint256 currentNonce);

    /// @dev `units` were asked for but only `remaining` units of the offer are left.
    error ClaimMarketUnitsExceedOffer(uint256 units, uint256 remaining);

    /// @dev The purchase would cost `price`, more than the funder's `maxPrice`.
    error ClaimMarketPriceAboveMaximum(uint256 price, uint256 maxPrice);

    /// @dev Emitted when `funder` bought `units` units of claim `claimId` from `seller` for `price`.
    event OfferFilled(
        bytes32 indexed offerHash,
        uint256 indexed claimId,
        address indexed seller,
        address funder,
        uint256 units,
        uint256 price
    );

    /// @dev Emitted when `seller` closed its offers on claim `claimId` signed with `nonce`.
    event OffersCancelled(uint256 indexed claimId, address indexed seller, uint256 nonce);

    /**
     * @dev Buys `units` units of the offer `offer`, signed by its seller (`signature`), paying at most `maxPrice`.
     * Returns the price paid: `ceil(offer.price * units / offer.units)`.
     *
     * Requirements:
     *
     * - `units` must not be zero, nor more than the offer has left, nor more than the seller holds.
     * - `offer.deadline` must not have passed.
     * - `signature` must be the seller's EIP-712 signature of `offer` (low-s form).
     * - `offer.nonce` must be the seller's open nonce for the claim.
     * - `offer.buyer` must be the zero address or the caller.
     * - the caller must be a permitted holder, must have approved the price to this contract, and `maxPrice`
     *   must cover the price.
     * - the contract must not be paused.
     *
     * Emits an {OfferFilled} event, then the unit and token transfers.
     */
    function buy(
        Offer calldata offer,
        bytes calldata signature,
        uint256 units,
        uint256 maxPrice
    ) external returns (uint256 price);

    /**
     * @dev Closes every offer of the caller on claim `claimId` signed with its current nonce, and opens the next
     * nonce.
     *
     * Emits an {OffersCancelled} event.
     */
    function cancelOffers(uint256 claimId) external;

    /// @dev Returns the open offer nonce of `seller` on claim `claimId` and the units already sold under it.
    function offerStatus(uint256 claimId, address seller) external view returns (uint256 nonce, uint256 unitsFilled);

    /// @dev Returns the EIP-712 digest of `offer`, the message its seller signs.
    function hashOffer(Offer calldata offer) external view returns (bytes32);

    /**
     * @dev Returns the price of `faceUnits` due in `daysToMaturity` days at a simple daily discount rate
     * `dailyRate` (a fraction scaled by 1e18): `floor(faceUnits / (1 + dailyRate * daysToMaturity))`.
     */
    function priceFor(
        uint256 faceUnits,
        uint256 dailyRate,
        uint256 daysToMaturity
    ) external pure returns (uint256 price);
}

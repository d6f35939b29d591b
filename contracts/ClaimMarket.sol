// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ClaimUnits} from "./ClaimUnits.sol";
import {IClaimMarket} from "./IClaimMarket.sol";

/**
 * @dev Implementation of {IClaimMarket} over {ClaimUnits}: the claim token is its own market, so a purchase moves
 * units without an approval and without a call to another contract.
 *
 * Each holder has one offer nonce per claim, kept in its {ClaimUnits-Holding} with the units sold under it. An
 * offer is open while its nonce is the holder's current one and units are left; selling its last unit, or
 * {cancelOffers}, opens the next nonce.
 *
 * WARNING: Offers signed with the same nonce share one fill counter: together they sell at most as many units as
 * the largest of them. To run two offers on one claim side by side, split the units to two holders; to replace an
 * offer, cancel and sign the new one with the next nonce.
 */
abstract contract ClaimMarket is IClaimMarket, ClaimUnits, EIP712, ReentrancyGuardTransient {
    /// @dev EIP-712 type hash of {IClaimMarket-Offer}.
    bytes32 public constant OFFER_TYPEHASH =
        keccak256(
            "Offer(uint256 claimId,uint256 units,uint256 price,address seller,address buyer,uint256 nonce,"
            "uint256 deadline)"
        );

    /// @dev Scale of the daily rate taken by {priceFor}: 1e18 is 100% a day.
    uint256 public constant RATE_SCALE = 1e18;

    /// @inheritdoc IClaimMarket
    function buy(
        Offer calldata offer,
        bytes calldata signature,
        uint256 units,
        uint256 maxPrice
    ) external nonReentrant returns (uint256 price) {
        if (units == 0) {
            revert ClaimMarketZeroUnits();
        }
        if (block.timestamp > offer.deadline) {
            revert ClaimMarketOfferExpired(offer.deadline);
        }
        address funder = _msgSender();
        if (offer.buyer != address(0) && offer.buyer != funder) {
            revert ClaimMarketNotOfferBuyer(funder, offer.buyer);
        }
        bytes32 offerHash = _hashOffer(offer);
        address signer = ECDSA.recover(offerHash, signature);
        if (signer != offer.seller) {
            revert ClaimMarketInvalidSigner(signer, offer.seller);
        }

        Holding storage holding = _holding(offer.claimId, offer.seller);
        uint32 nonce = holding.offerNonce;
        if (offer.nonce != nonce) {
            revert ClaimMarketOfferClosed(offer.claimId, offer.seller, offer.nonce, nonce);
        }
        uint256 filled = holding.offerFilled;
        uint256 remaining = offer.units > filled ? offer.units - filled : 0;
        if (units > remaining) {
            revert ClaimMarketUnitsExceedOffer(units, remaining);
        }
        // Rounded up: many small fills never buy units for less than the offer's price per unit.
        price = Math.mulDiv(offer.price, units, offer.units, Math.Rounding.Ceil);
        if (price > maxPrice) {
            revert ClaimMarketPriceAboveMaximum(price, maxPrice);
        }

        if (units == remaining) {
            holding.offerNonce = nonce + 1;
            holding.offerFilled = 0;
        } else {
            holding.offerFilled = SafeCast.toUint96(filled + units);
        }
        emit OfferFilled(offerHash, offer.claimId, offer.seller, funder, units, price);

        _transferUnits(offer.seller, funder, offer.claimId, units, "");
        SafeERC20.safeTransferFrom(_currencyOf(offer.claimId), funder, offer.seller, price);
    }

    /// @inheritdoc IClaimMarket
    function cancelOffers(uint256 claimId) external {
        address seller = _msgSender();
        Holding storage holding = _holding(claimId, seller);
        uint32 nonce = holding.offerNonce;

        holding.offerNonce = nonce + 1;
        holding.offerFilled = 0;

        emit OffersCancelled(claimId, seller, nonce);
    }

    /// @inheritdoc IClaimMarket
    function offerStatus(uint256 claimId, address seller) external view returns (uint256 nonce, uint256 unitsFilled) {
        Holding storage holding = _holding(claimId, seller);
        return (holding.offerNonce, holding.offerFilled);
    }

    /// @inheritdoc IClaimMarket
    function hashOffer(Offer calldata offer) external view returns (bytes32) {
        return _hashOffer(offer);
    }

    /// @inheritdoc IClaimMarket
    function priceFor(
        uint256 faceUnits,
        uint256 dailyRate,
        uint256 daysToMaturity
    ) external pure returns (uint256 price) {
        return Math.mulDiv(faceUnits, RATE_SCALE, RATE_SCALE + dailyRate * daysToMaturity);
    }

    /// @dev Returns the currency token that claim `claimId` settles in.
    function _currencyOf(uint256 claimId) internal view virtual returns (IERC20);

    function _hashOffer(Offer calldata offer) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(OFFER_TYPEHASH, offer)));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ClaimMarket} from "./ClaimMarket.sol";
import {ClaimUnits} from "./ClaimUnits.sol";
import {IClaimMarket} from "./IClaimMarket.sol";
import {IClaimToken} from "./IClaimToken.sol";
import {IReceivableRegistry} from "./IReceivableRegistry.sol";

/**
 * @dev Implementation of {IClaimToken}, with its market ({ClaimMarket}) and its ERC-1155 units ({ClaimUnits}).
 *
 * Roles:
 *
 * - `DEFAULT_ADMIN_ROLE` grants and revokes every role.
 * - `OPERATOR_ROLE` registers parties and their keys, lists currencies, and pauses.
 *
 * Settlement accounting: a repayment raises the claim's `repaid`. Each holder has a checkpoint, the value of
 * `repaid` when its position was last settled; settling credits it `units * (repaid - checkpoint) / faceValue`,
 * rounded down, and moves the checkpoint to `repaid`. Positions are settled on {redeem} and, once something was
 * repaid, on every unit movement (before the balances change), so units moved after a partial repayment carry
 * none of the money that came in before. Rounding down keeps the sum of credits at or below `repaid`; the
 * remainder goes to the obligor when the last unit is redeemed.
 *
 * Storage: a claim's terms fit one slot (parties and currencies are stored as small ids), so a confirmation writes
 * two fresh slots, the claim and the seller's units.
 */
contract ClaimToken is IClaimToken, ClaimMarket, AccessControl, Pausable, Nonces {
    using SafeERC20 for IERC20;

    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    /// @dev EIP-712 type hash of {IClaimToken-Confirmation}.
    bytes32 public constant CONFIRMATION_TYPEHASH =
        keccak256(
            "Confirmation(bytes32 documentRoot,bytes32 batchRoot,address seller,address obligor,address currency,"
            "uint256 faceValue,uint256 dueDate,uint256 nonce,uint256 deadline)"
        );

    struct Party {
        address obligorSigner;
        uint32 id;
        bool permitted;
    }

    struct Currency {
        uint16 id;
        bool listed;
    }

    /// @dev A claim's terms; one slot (96 + 40 + 32 + 32 + 16 bits). A face value of zero means no claim.
    struct Claim {
        uint96 faceValue;
        uint40 dueDate;
        uint32 sellerId;
        uint32 obligorId;
        uint16 currencyId;
    }

    /// @dev Money in, and money credited to positions (plus the dust, once closed). `credited <= repaid <= face`.
    struct Settlement {
        uint96 repaid;
        uint96 credited;
    }

    /// @dev Money out, and units burnt. `paidOut <= credited`, `unitsRedeemed <= faceValue`.
    struct Closure {
        uint96 paidOut;
        uint96 unitsRedeemed;
    }

    /// @dev A holder's settled share of a claim: `repaid` when last settled, and what it is owed but not yet paid.
    struct Position {
        uint96 checkpoint;
        uint96 credit;
    }

    IReceivableRegistry private immutable _registry;
    uint256 private immutable _gracePeriod;
    uint256 private immutable _defaultPeriod;

    mapping(address party => Party) private _parties;
    mapping(uint256 partyId => address) private _partyAddresses;
    mapping(address currency => Currency) private _currencies;
    mapping(uint256 currencyId => IERC20) private _currencyTokens;
    mapping(uint256 claimId => Claim) private _claims;
    mapping(uint256 claimId => Settlement) private _settlements;
    mapping(uint256 claimId => Closure) private _closures;
    mapping(uint256 claimId => mapping(address holder => Position)) private _positions;
    uint32 private _partyCount;
    uint16 private _currencyCount;

    /**
     * @dev Grants `DEFAULT_ADMIN_ROLE` to `admin` and `OPERATOR_ROLE` to `operator` (unless it is the zero
     * address). Claims are checked against `registry_`; they become overdue `gracePeriod` seconds after their due
     * date and defaulted `defaultPeriod` seconds after it.
     *
     * Requirements:
     *
     * - `defaultPeriod` must be longer than `gracePeriod`.
     */
    constructor(
        address admin,
        address operator,
        IReceivableRegistry registry_,
        uint256 gracePeriod,
        uint256 defaultPeriod
    ) EIP712("ClaimToken", "1") {
        if (defaultPeriod <= gracePeriod) {
            revert ClaimTokenInvalidPeriods(gracePeriod, defaultPeriod);
        }
        _registry = registry_;
        _gracePeriod = gracePeriod;
        _defaultPeriod = defaultPeriod;

        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (operator != address(0)) {
            _grantRole(OPERATOR_ROLE, operator);
        }
    }

    // Parties and currencies

    /// @inheritdoc IClaimToken
    function registerParty(
        address party,
        address obligorSigner
    ) external onlyRole(OPERATOR_ROLE) returns (uint256 partyId) {
        if (party == address(0)) {
            revert ClaimTokenInvalidParty(party);
        }
        if (_parties[party].id != 0) {
            revert ClaimTokenPartyAlreadyRegistered(party);
        }

        uint32 id = _partyCount + 1;
        _partyCount = id;
        _parties[party] = Party({obligorSigner: obligorSigner, id: id, permitted: true});
        _partyAddresses[id] = party;
        // NOTE: Spends nonce 0, so the party's first confirmation writes its nonce slot from nonzero to nonzero
        // (2,900 gas) rather than from zero (20,000 gas). Confirmation nonces therefore start at 1.
        _useNonce(party);

        emit PartyRegistered(party, id, obligorSigner);
        return id;
    }

    /// @inheritdoc IClaimToken
    function setObligorSigner(address party, address obligorSigner) external onlyRole(OPERATOR_ROLE) {
        Party storage record = _registeredParty(party);
        address previousSigner = record.obligorSigner;

        record.obligorSigner = obligorSigner;

        emit ObligorSignerChanged(party, previousSigner, obligorSigner);
    }

    /// @inheritdoc IClaimToken
    function setPartyPermitted(address party, bool permitted) external onlyRole(OPERATOR_ROLE) {
        _registeredParty(party).permitted = permitted;

        emit PartyPermissionChanged(party, permitted);
    }

    /// @inheritdoc IClaimToken
    function listCurrency(address currency) external onlyRole(OPERATOR_ROLE) returns (uint256 currencyId) {
        Currency storage record = _currencies[currency];
        if (currency == address(0) || record.listed) {
            revert ClaimTokenInvalidCurrency(currency);
        }

        uint16 id = record.id;
        if (id == 0) {
            id = _currencyCount + 1;
            _currencyCount = id;
            record.id = id;
            _currencyTokens[id] = IERC20(currency);
        }
        record.listed = true;

        emit CurrencyListed(currency, id);
        return id;
    }

    /// @inheritdoc IClaimToken
    function delistCurrency(address currency) external onlyRole(OPERATOR_ROLE) {
        Currency storage record = _currencies[currency];
        if (!record.listed) {
            revert ClaimTokenCurrencyNotListed(currency);
        }

        record.listed = false;

        emit CurrencyDelisted(currency, record.id);
    }

    /// @inheritdoc IClaimToken
    function pause() external onlyRole(OPERATOR_ROLE) {
        _pause();
    }

    /// @inheritdoc IClaimToken
    function unpause() external onlyRole(OPERATOR_ROLE) {
        _unpause();
    }

    // Confirmation

    /// @inheritdoc IClaimToken
    function confirm(
        Confirmation calldata confirmation,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external whenNotPaused returns (uint256 claimId) {
        _checkTerms(confirmation);
        uint32 obligorId = _useConfirmationSignature(confirmation, signature);
        (uint32 sellerId, uint16 currencyId) = _sellerAndCurrencyIds(confirmation);
        claimId = uint256(confirmation.documentRoot);
        if (_claims[claimId].faceValue != 0) {
            revert ClaimTokenAlreadyConfirmed(confirmation.documentRoot);
        }
        if (!_registry.verifyDocument(confirmation.documentRoot, confirmation.batchRoot, proof)) {
            revert ClaimTokenDocumentNotAnchored(confirmation.documentRoot, confirmation.batchRoot);
        }

        // The casts are safe: `_checkTerms` bounded both values.
        _claims[claimId] = Claim({
            faceValue: uint96(confirmation.faceValue),
            dueDate: uint40(confirmation.dueDate),
            sellerId: sellerId,
            obligorId: obligorId,
            currencyId: currencyId
        });
        _emitClaimConfirmed(claimId, confirmation);

        _transferUnits(address(0), confirmation.seller, claimId, confirmation.faceValue, "");
    }

    // Settlement

    /// @inheritdoc IClaimToken
    function repay(uint256 claimId, uint256 amount) external nonReentrant returns (uint256 totalRepaid) {
        Claim storage claim = _existingClaim(claimId);
        if (amount == 0) {
            revert ClaimTokenZeroRepayment(claimId);
        }
        Settlement storage settlement = _settlements[claimId];
        uint256 repaid = settlement.repaid;
        // Cannot underflow: `repaid` never exceeds the face value (checked below on every repayment).
        uint256 outstanding;
        unchecked {
            outstanding = claim.faceValue - repaid;
        }
        if (amount > outstanding) {
            revert ClaimTokenRepaymentExceedsOutstanding(claimId, amount, outstanding);
        }

        totalRepaid = repaid + amount;
        // Fits 96 bits: at most the face value.
        settlement.repaid = uint96(totalRepaid);
        emit Repaid(claimId, _msgSender(), amount, totalRepaid);

        _currencyTokens[claim.currencyId].safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @inheritdoc IClaimToken
    function redeem(uint256 claimId, address holder) external nonReentrant whenNotPaused returns (uint256 amount) {
        Claim storage claim = _existingClaim(claimId);
        uint256 faceValue = claim.faceValue;
        uint256 repaid = _settlements[claimId].repaid;
        _settle(claimId, holder, repaid, faceValue);

        Position storage position = _positions[claimId][holder];
        amount = position.credit;
        uint256 units = repaid == faceValue ? balanceOf(holder, claimId) : 0;
        if (amount == 0 && units == 0) {
            revert ClaimTokenNothingToRedeem(claimId, holder);
        }

        Closure storage closure = _closures[claimId];
        position.credit = 0;
        // Fits 96 bits: everything paid out was credited first, and credits stay within the repaid amount.
        closure.paidOut += uint96(amount);
        uint256 unitsRedeemed = closure.unitsRedeemed;
        if (units != 0) {
            _transferUnits(holder, address(0), claimId, units, "");
            unitsRedeemed += units;
            // Fits 96 bits: at most the face value, as the units burnt are units that existed.
            closure.unitsRedeemed = uint96(unitsRedeemed);
        }
        emit Redeemed(claimId, holder, amount, units);

        IERC20 currency = _currencyTokens[claim.currencyId];
        if (amount != 0) {
            currency.safeTransfer(holder, amount);
        }
        if (units != 0 && unitsRedeemed == faceValue) {
            _close(claimId, claim, currency);
        }
    }

    // Views

    /// @inheritdoc IClaimToken
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IClaimToken
    function settlementPeriods() external view returns (uint256 gracePeriod, uint256 defaultPeriod) {
        return (_gracePeriod, _defaultPeriod);
    }

    /// @inheritdoc IClaimToken
    function partyOf(address party) external view returns (uint256 partyId, bool permitted, address obligorSigner) {
        Party storage record = _parties[party];
        return (record.id, record.permitted, record.obligorSigner);
    }

    /// @inheritdoc IClaimToken
    function isPermitted(address holder) external view returns (bool) {
        return _parties[holder].permitted;
    }

    /// @inheritdoc IClaimToken
    function currencyOf(address currency) external view returns (uint256 currencyId, bool listed) {
        Currency storage record = _currencies[currency];
        return (record.id, record.listed);
    }

    /// @inheritdoc IClaimToken
    function claimOf(uint256 claimId) external view returns (ClaimRecord memory record) {
        Claim storage claim = _claims[claimId];
        if (claim.faceValue == 0) {
            return record;
        }
        return
            ClaimRecord({
                documentRoot: bytes32(claimId),
                seller: _partyAddresses[claim.sellerId],
                obligor: _partyAddresses[claim.obligorId],
                currency: address(_currencyTokens[claim.currencyId]),
                faceValue: claim.faceValue,
                dueDate: claim.dueDate
            });
    }

    /// @inheritdoc IClaimToken
    function claimState(uint256 claimId) external view returns (ClaimState) {
        Claim storage claim = _claims[claimId];
        uint256 faceValue = claim.faceValue;
        if (faceValue == 0) {
            return ClaimState.Nonexistent;
        }
        if (_closures[claimId].unitsRedeemed == faceValue) {
            return ClaimState.Closed;
        }
        if (_settlements[claimId].repaid == faceValue) {
            return ClaimState.Paid;
        }
        uint256 dueDate = claim.dueDate;
        if (block.timestamp < dueDate) {
            return ClaimState.Active;
        }
        if (block.timestamp < dueDate + _gracePeriod) {
            return ClaimState.Due;
        }
        if (block.timestamp < dueDate + _defaultPeriod) {
            return ClaimState.Overdue;
        }
        return ClaimState.Defaulted;
    }

    /// @inheritdoc IClaimToken
    function settlementOf(
        uint256 claimId
    ) external view returns (uint256 repaid, uint256 credited, uint256 paidOut, uint256 unitsRedeemed) {
        Settlement storage settlement = _settlements[claimId];
        Closure storage closure = _closures[claimId];
        return (settlement.repaid, settlement.credited, closure.paidOut, closure.unitsRedeemed);
    }

    /// @inheritdoc IClaimToken
    function redeemable(uint256 claimId, address holder) external view returns (uint256) {
        uint256 faceValue = _claims[claimId].faceValue;
        if (faceValue == 0) {
            return 0;
        }
        Position storage position = _positions[claimId][holder];
        uint256 repaid = _settlements[claimId].repaid;
        return position.credit + _accrued(claimId, holder, repaid, position.checkpoint, faceValue);
    }

    /// @inheritdoc IClaimToken
    function hashConfirmation(Confirmation calldata confirmation) external view returns (bytes32) {
        return _hashConfirmation(confirmation);
    }

    /// @inheritdoc ClaimUnits
    function supportsInterface(
        bytes4 interfaceId
    ) public view virtual override(ClaimUnits, AccessControl) returns (bool) {
        return
            interfaceId == type(IClaimToken).interfaceId ||
            interfaceId == type(IClaimMarket).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    // Internals

    /**
     * @dev Before units of claim `id` move: nothing moves while paused, only permitted holders receive, and once
     * something was repaid both positions are settled at the old balances.
     */
    function _beforeUnitsMoved(address from, address to, uint256 id) internal override {
        _requireNotPaused();
        if (to != address(0) && !_parties[to].permitted) {
            revert ClaimTokenHolderNotPermitted(to);
        }
        if (from == address(0)) {
            return; // a mint, at confirmation: nothing can have been repaid on a new claim
        }

        uint256 repaid = _settlements[id].repaid;
        if (repaid != 0) {
            uint256 faceValue = _claims[id].faceValue;
            _settle(id, from, repaid, faceValue);
            if (to != address(0)) {
                _settle(id, to, repaid, faceValue);
            }
        }
    }

    /// @inheritdoc ClaimMarket
    function _currencyOf(uint256 claimId) internal view override returns (IERC20) {
        return _currencyTokens[_claims[claimId].currencyId];
    }

    /// @dev Credits `holder` with its share of claim `claimId` repaid since its checkpoint, and moves the checkpoint.
    function _settle(uint256 claimId, address holder, uint256 repaid, uint256 faceValue) private {
        Position storage position = _positions[claimId][holder];
        uint256 checkpoint = position.checkpoint;
        if (checkpoint == repaid) {
            return;
        }

        uint256 accrued = _accrued(claimId, holder, repaid, checkpoint, faceValue);
        // Fits 96 bits: `repaid` is at most the face value.
        position.checkpoint = uint96(repaid);
        if (accrued != 0) {
            // Cannot overflow 96 bits: the credits of all positions sum to at most `repaid` (see the contract's
            // documentation), which is at most the face value.
            unchecked {
                position.credit += uint96(accrued);
                _settlements[claimId].credited += uint96(accrued);
            }
        }
    }

    function _accrued(
        uint256 claimId,
        address holder,
        uint256 repaid,
        uint256 checkpoint,
        uint256 faceValue
    ) private view returns (uint256) {
        // Cannot overflow: both factors are below 2^96. Rounded down, so that the credits never exceed `repaid`.
        return (balanceOf(holder, claimId) * (repaid - checkpoint)) / faceValue;
    }

    /// @dev Closes claim `claimId` once every unit is redeemed: the rounding remainder goes to the obligor.
    function _close(uint256 claimId, Claim storage claim, IERC20 currency) private {
        Settlement storage settlement = _settlements[claimId];
        // Cannot underflow: credits never exceed repayments.
        uint256 dust;
        unchecked {
            dust = uint256(settlement.repaid) - settlement.credited;
        }
        settlement.credited = settlement.repaid;
        // Fits 96 bits: `paidOut + dust` is at most `repaid`.
        _closures[claimId].paidOut += uint96(dust);
        address obligor = _partyAddresses[claim.obligorId];
        emit ClaimClosed(claimId, obligor, dust);

        if (dust != 0) {
            currency.safeTransfer(obligor, dust);
        }
    }

    /// @dev Checks that the obligor's registered key signed `confirmation`, spends its nonce, returns its party id.
    function _useConfirmationSignature(
        Confirmation calldata confirmation,
        bytes calldata signature
    ) private returns (uint32 obligorId) {
        Party memory obligor = _parties[confirmation.obligor];
        if (!obligor.permitted || obligor.obligorSigner == address(0)) {
            revert ClaimTokenObligorNotRegistered(confirmation.obligor);
        }
        address signer = ECDSA.recover(_hashConfirmation(confirmation), signature);
        if (signer != obligor.obligorSigner) {
            revert ClaimTokenInvalidSigner(signer, confirmation.obligor);
        }
        _useCheckedNonce(confirmation.obligor, confirmation.nonce);
        return obligor.id;
    }

    function _sellerAndCurrencyIds(
        Confirmation calldata confirmation
    ) private view returns (uint32 sellerId, uint16 currencyId) {
        Currency memory currency = _currencies[confirmation.currency];
        if (!currency.listed) {
            revert ClaimTokenCurrencyNotListed(confirmation.currency);
        }
        Party memory seller = _parties[confirmation.seller];
        if (!seller.permitted) {
            revert ClaimTokenHolderNotPermitted(confirmation.seller);
        }
        return (seller.id, currency.id);
    }

    function _emitClaimConfirmed(uint256 claimId, Confirmation calldata confirmation) private {
        emit ClaimConfirmed(
            claimId,
            confirmation.seller,
            confirmation.obligor,
            confirmation.currency,
            confirmation.faceValue,
            confirmation.dueDate,
            confirmation.batchRoot
        );
    }

    function _checkTerms(Confirmation calldata confirmation) private view {
        if (block.timestamp > confirmation.deadline) {
            revert ClaimTokenExpiredConfirmation(confirmation.deadline);
        }
        if (confirmation.faceValue == 0 || confirmation.faceValue > type(uint96).max) {
            revert ClaimTokenInvalidFaceValue(confirmation.faceValue);
        }
        if (confirmation.dueDate > type(uint40).max) {
            revert ClaimTokenInvalidDueDate(confirmation.dueDate);
        }
    }

    function _existingClaim(uint256 claimId) private view returns (Claim storage claim) {
        claim = _claims[claimId];
        if (claim.faceValue == 0) {
            revert ClaimTokenUnknownClaim(claimId);
        }
    }

    function _registeredParty(address party) private view returns (Party storage record) {
        record = _parties[party];
        if (record.id == 0) {
            revert ClaimTokenUnknownParty(party);
        }
    }

    function _hashConfirmation(Confirmation calldata confirmation) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CONFIRMATION_TYPEHASH, confirmation)));
    }
}

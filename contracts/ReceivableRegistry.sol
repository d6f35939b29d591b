// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IReceivableRegistry} from "./IReceivableRegistry.sol";
import {ReceivableHashing} from "./ReceivableHashing.sol";

/**
 * @dev Implementation of {IReceivableRegistry}.
 *
 * Roles:
 *
 * - `DEFAULT_ADMIN_ROLE` grants and revokes every role.
 * - `ANCHORER_ROLE` anchors batch roots.
 * - `NULLIFIER_PUBLISHER_ROLE` publishes nullifiers.
 *
 * Each anchored batch costs one fresh storage slot: its record (batch id, block number, timestamp and document
 * count) is packed into 224 bits.
 */
contract ReceivableRegistry is IReceivableRegistry, AccessControl {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    bytes32 public constant NULLIFIER_PUBLISHER_ROLE = keccak256("NULLIFIER_PUBLISHER_ROLE");

    /// @dev Where and when a batch root was anchored. Fits one storage slot (64 + 64 + 64 + 32 bits).
    struct Anchor {
        uint64 batchId;
        uint64 blockNumber;
        uint64 anchoredAt;
        uint32 documentCount;
    }

    mapping(bytes32 batchRoot => Anchor) private _anchors;
    mapping(bytes32 nullifier => uint256 blockNumber) private _nullifierBlocks;

    // NOTE: Kept one ahead of the count and set to 1 at deployment, so that anchoring never writes a zero slot
    // here: a nonzero-to-nonzero write costs 2,900 gas where the first zero-to-nonzero one would cost 20,000.
    uint64 private _nextBatchId;

    /**
     * @dev Grants `DEFAULT_ADMIN_ROLE` to `admin`, and both `ANCHORER_ROLE` and `NULLIFIER_PUBLISHER_ROLE` to
     * `anchorer` unless it is the zero address (the admin can grant them later).
     *
     * WARNING: With `admin` the zero address nobody can ever grant or revoke a role: the roles given here are
     * then final.
     */
    constructor(address admin, address anchorer) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (anchorer != address(0)) {
            _grantRole(ANCHORER_ROLE, anchorer);
            _grantRole(NULLIFIER_PUBLISHER_ROLE, anchorer);
        }
        _nextBatchId = 1;
    }

    /// @inheritdoc IReceivableRegistry
    function anchorBatch(
        bytes32 batchRoot,
        uint32 documentCount
    ) external onlyRole(ANCHORER_ROLE) returns (uint256 batchId) {
        if (batchRoot == bytes32(0)) {
            revert ReceivableRegistryZeroRoot();
        }
        if (documentCount == 0) {
            revert ReceivableRegistryEmptyBatch(batchRoot);
        }
        uint64 anchoredBatchId = _anchors[batchRoot].batchId;
        if (anchoredBatchId != 0) {
            revert ReceivableRegistryRootAlreadyAnchored(batchRoot, anchoredBatchId);
        }

        uint64 nextBatchId = _nextBatchId;
        // Cannot overflow: reaching 2^64 would take 2^64 anchoring transactions of more than 21,000 gas each.
        unchecked {
            _nextBatchId = nextBatchId + 1;
        }
        _anchors[batchRoot] = Anchor({
            batchId: nextBatchId,
            blockNumber: SafeCast.toUint64(block.number),
            anchoredAt: SafeCast.toUint64(block.timestamp),
            documentCount: documentCount
        });

        emit BatchAnchored(nextBatchId, batchRoot, documentCount, _msgSender());
        return nextBatchId;
    }

    /// @inheritdoc IReceivableRegistry
    function anchorOf(
        bytes32 batchRoot
    ) external view returns (uint256 batchId, uint256 blockNumber, uint256 anchoredAt, uint256 documentCount) {
        Anchor storage anchor = _anchors[batchRoot];
        return (anchor.batchId, anchor.blockNumber, anchor.anchoredAt, anchor.documentCount);
    }

    /// @inheritdoc IReceivableRegistry
    function batchCount() external view returns (uint256) {
        // Cannot underflow: `_nextBatchId` is set to 1 at deployment and only ever grows.
        unchecked {
            return _nextBatchId - 1;
        }
    }

    /// @inheritdoc IReceivableRegistry
    function verifyDocument(
        bytes32 documentRoot,
        bytes32 batchRoot,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return
            _anchors[batchRoot].batchId != 0 &&
            ReceivableHashing.verifyDocumentCalldata(documentRoot, batchRoot, proof);
    }

    /// @inheritdoc IReceivableRegistry
    function publishNullifier(bytes32 nullifier) external onlyRole(NULLIFIER_PUBLISHER_ROLE) {
        if (nullifier == bytes32(0)) {
            revert ReceivableRegistryZeroNullifier();
        }
        uint256 publishedAt = _nullifierBlocks[nullifier];
        if (publishedAt != 0) {
            revert ReceivableRegistryNullifierAlreadyPublished(nullifier, publishedAt);
        }

        // NOTE: Zero stays free to mean "never published": no transaction runs in the genesis block.
        _nullifierBlocks[nullifier] = block.number;

        emit NullifierPublished(nullifier, _msgSender());
    }

    /// @inheritdoc IReceivableRegistry
    function nullifierPublishedAt(bytes32 nullifier) external view returns (uint256 blockNumber) {
        return _nullifierBlocks[nullifier];
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IReceivableRegistry).interfaceId || super.supportsInterface(interfaceId);
    }
}

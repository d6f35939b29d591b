// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @dev Interface of the receivables registry: a chain-side record of batch roots (each the Merkle root of a batch
 * of document roots, see {ReceivableHashing}) and of nullifiers published when an invoice is financed.
 *
 * Nothing personal is stored or logged: only roots, nullifiers, counts and addresses.
 */
interface IReceivableRegistry {
    /// @dev The batch root is zero, which no real batch tree produces.
    error ReceivableRegistryZeroRoot();

    /// @dev The batch `batchRoot` was declared to hold no documents.
    error ReceivableRegistryEmptyBatch(bytes32 batchRoot);

    /// @dev The batch root `batchRoot` was already anchored as batch `batchId`.
    error ReceivableRegistryRootAlreadyAnchored(bytes32 batchRoot, uint256 batchId);

    /// @dev The nullifier is zero, which no real nullifier is.
    error ReceivableRegistryZeroNullifier();

    /// @dev The nullifier `nullifier` was already published in block `blockNumber`.
    error ReceivableRegistryNullifierAlreadyPublished(bytes32 nullifier, uint256 blockNumber);

    /// @dev Emitted when `anchorer` anchored `batchRoot`, holding `documentCount` documents, as batch `batchId`.
    event BatchAnchored(
        uint256 indexed batchId,
        bytes32 indexed batchRoot,
        uint32 documentCount,
        address indexed anchorer
    );

    /// @dev Emitted when `publisher` published `nullifier`.
    event NullifierPublished(bytes32 indexed nullifier, address indexed publisher);

    /**
     * @dev Anchors `batchRoot`, declared to hold `documentCount` document roots, and returns its batch id. Batch
     * ids are consecutive and start at 1.
     *
     * Requirements:
     *
     * - the caller must hold the anchorer role.
     * - `batchRoot` must not be zero.
     * - `documentCount` must not be zero.
     * - `batchRoot` must not have been anchored before.
     *
     * Emits a {BatchAnchored} event.
     *
     * WARNING: `documentCount` is the anchorer's statement, recorded as given; the registry cannot check it
     * against the tree behind `batchRoot`.
     */
    function anchorBatch(bytes32 batchRoot, uint32 documentCount) external returns (uint256 batchId);

    /**
     * @dev Returns the record of `batchRoot`: its batch id, the number and timestamp of the block that anchored
     * it, and its declared document count. All four are zero if `batchRoot` was never anchored; a batch id of
     * zero is the test for that.
     */
    function anchorOf(
        bytes32 batchRoot
    ) external view returns (uint256 batchId, uint256 blockNumber, uint256 anchoredAt, uint256 documentCount);

    /// @dev Returns the number of batches anchored so far, which is also the id of the latest one.
    function batchCount() external view returns (uint256);

    /**
     * @dev Returns true if `documentRoot` is a leaf of the batch tree `batchRoot` according to `proof` (an
     * OpenZeppelin `StandardMerkleTree` proof) and `batchRoot` has been anchored here.
     *
     * NOTE: An anchored root proves that the batch existed by the anchoring block. How many confirmations make
     * that block final is the verifier's choice: read the block number from {anchorOf}.
     */
    function verifyDocument(
        bytes32 documentRoot,
        bytes32 batchRoot,
        bytes32[] calldata proof
    ) external view returns (bool);

    /**
     * @dev Publishes `nullifier`, marking the invoice it stands for as financed.
     *
     * Requirements:
     *
     * - the caller must hold the nullifier publisher role.
     * - `nullifier` must not be zero.
     * - `nullifier` must not have been published before.
     *
     * Emits a {NullifierPublished} event.
     */
    function publishNullifier(bytes32 nullifier) external;

    /// @dev Returns the number of the block in which `nullifier` was published, or zero if it never was.
    function nullifierPublishedAt(bytes32 nullifier) external view returns (uint256 blockNumber);
}

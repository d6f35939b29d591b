// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @dev Hashing scheme version 1 of the receivables registry, the on-chain mirror of `registry/` in Python.
 *
 * A document is a set of fields. Each field is hashed into a salted leaf:
 *
 *     fieldLeaf = keccak256(FIELD_TAG ‖ salt ‖ keccak256(path) ‖ keccak256(valueJson))
 *
 * where `path` is the field's RFC 6901 JSON Pointer and `valueJson` the RFC 8785 canonical JSON of its value,
 * both as UTF-8 bytes. The field leaves form a sorted-pair Merkle tree (OpenZeppelin {MerkleProof}, leaves used
 * as they are, not hashed again), and the document root binds that tree's root to its domain:
 *
 *     documentRoot = keccak256(DOCUMENT_TAG ‖ fieldRoot)
 *
 * Document roots are gathered into a batch tree built exactly as OpenZeppelin's `StandardMerkleTree` over
 * `["bytes32"]` values, whose leaf is `keccak256(keccak256(abi.encode(documentRoot)))`. The batch root is what the
 * registry anchors.
 *
 * NOTE: A field leaf has a 128-byte preimage and a batch leaf is hashed twice, so neither can be confused with an
 * inner node of its tree (the 64-byte preimage that {MerkleProof} warns about).
 *
 * WARNING: Changing a tag, the order or width of a hashed component, or the tree construction changes every root
 * ever computed. Such a change is a new version with new tags, never an edit of this one.
 */
library ReceivableHashing {
    /// @dev Version of the scheme implemented here; the tags below carry it too.
    uint256 internal constant VERSION = 1;

    /// @dev Domain tag of field leaves: `keccak256("receivables.field.v1")`.
    bytes32 internal constant FIELD_TAG = keccak256("receivables.field.v1");

    /// @dev Domain tag of document roots: `keccak256("receivables.document.v1")`.
    bytes32 internal constant DOCUMENT_TAG = keccak256("receivables.document.v1");

    /**
     * @dev Returns the leaf of the field at JSON Pointer `path` whose canonical JSON value is `valueJson`,
     * blinded by `salt`.
     */
    function fieldLeaf(bytes32 salt, string memory path, bytes memory valueJson) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(FIELD_TAG, salt, keccak256(bytes(path)), keccak256(valueJson)));
    }

    /// @dev Returns the document root committing to the field tree whose root is `fieldRoot`.
    function documentRoot(bytes32 fieldRoot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(DOCUMENT_TAG, fieldRoot));
    }

    /// @dev Returns the leaf of `documentRoot_` in a batch tree (OpenZeppelin `StandardMerkleTree`, `["bytes32"]`).
    function batchLeaf(bytes32 documentRoot_) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(documentRoot_))));
    }

    /**
     * @dev Returns true if the field (`salt`, `path`, `valueJson`) belongs to the document whose root is
     * `documentRoot_`, given the sibling hashes `fieldProof` from the field leaf up to the field root.
     *
     * A document with a single field has an empty `fieldProof`: its field leaf is its field root.
     */
    function verifyField(
        bytes32 documentRoot_,
        bytes32 salt,
        string memory path,
        bytes memory valueJson,
        bytes32[] memory fieldProof
    ) internal pure returns (bool) {
        bytes32 fieldRoot = MerkleProof.processProof(fieldProof, fieldLeaf(salt, path, valueJson));
        return documentRoot(fieldRoot) == documentRoot_;
    }

    /**
     * @dev Calldata version of {verifyField}.
     */
    function verifyFieldCalldata(
        bytes32 documentRoot_,
        bytes32 salt,
        string calldata path,
        bytes calldata valueJson,
        bytes32[] calldata fieldProof
    ) internal pure returns (bool) {
        bytes32 fieldRoot = MerkleProof.processProofCalldata(fieldProof, fieldLeaf(salt, path, valueJson));
        return documentRoot(fieldRoot) == documentRoot_;
    }

    /**
     * @dev Returns true if `documentRoot_` is a leaf of the batch tree whose root is `batchRoot`, given the
     * OpenZeppelin `StandardMerkleTree` proof `proof`.
     *
     * WARNING: This checks the proof only. Whether `batchRoot` was ever anchored is a question for the registry
     * ({IReceivableRegistry-verifyDocument} answers both).
     */
    function verifyDocument(
        bytes32 documentRoot_,
        bytes32 batchRoot,
        bytes32[] memory proof
    ) internal pure returns (bool) {
        return MerkleProof.verify(proof, batchRoot, batchLeaf(documentRoot_));
    }

    /**
     * @dev Calldata version of {verifyDocument}.
     */
    function verifyDocumentCalldata(
        bytes32 documentRoot_,
        bytes32 batchRoot,
        bytes32[] calldata proof
    ) internal pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, batchRoot, batchLeaf(documentRoot_));
    }
}

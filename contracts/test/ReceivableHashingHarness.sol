// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReceivableHashing} from "../ReceivableHashing.sol";

// The getters are named as the library constants they return.
// solhint-disable func-name-mixedcase

/**
 * @dev Exposes {ReceivableHashing} externally, for the contract tests and for the Python side's golden-vector
 * checks. Not meant for deployment outside tests.
 */
contract ReceivableHashingHarness {
    function VERSION() external pure returns (uint256) {
        return ReceivableHashing.VERSION;
    }

    function FIELD_TAG() external pure returns (bytes32) {
        return ReceivableHashing.FIELD_TAG;
    }

    function DOCUMENT_TAG() external pure returns (bytes32) {
        return ReceivableHashing.DOCUMENT_TAG;
    }

    function fieldLeaf(bytes32 salt, string memory path, bytes memory valueJson) external pure returns (bytes32) {
        return ReceivableHashing.fieldLeaf(salt, path, valueJson);
    }

    function documentRoot(bytes32 fieldRoot) external pure returns (bytes32) {
        return ReceivableHashing.documentRoot(fieldRoot);
    }

    function batchLeaf(bytes32 documentRoot_) external pure returns (bytes32) {
        return ReceivableHashing.batchLeaf(documentRoot_);
    }

    function verifyField(
        bytes32 documentRoot_,
        bytes32 salt,
        string memory path,
        bytes memory valueJson,
        bytes32[] memory fieldProof
    ) external pure returns (bool) {
        return ReceivableHashing.verifyField(documentRoot_, salt, path, valueJson, fieldProof);
    }

    function verifyFieldCalldata(
        bytes32 documentRoot_,
        bytes32 salt,
        string calldata path,
        bytes calldata valueJson,
        bytes32[] calldata fieldProof
    ) external pure returns (bool) {
        return ReceivableHashing.verifyFieldCalldata(documentRoot_, salt, path, valueJson, fieldProof);
    }

    function verifyDocument(
        bytes32 documentRoot_,
        bytes32 batchRoot,
        bytes32[] memory proof
    ) external pure returns (bool) {
        return ReceivableHashing.verifyDocument(documentRoot_, batchRoot, proof);
    }

    function verifyDocumentCalldata(
        bytes32 documentRoot_,
        bytes32 batchRoot,
        bytes32[] calldata proof
    ) external pure returns (bool) {
        return ReceivableHashing.verifyDocumentCalldata(documentRoot_, batchRoot, proof);
    }
}

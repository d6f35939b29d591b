// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @dev A contract holder of claim units for tests: accepts them or refuses them, as built.
contract ClaimReceiverMock is IERC1155Receiver {
    bool private immutable _accepts;

    constructor(bool accepts) {
        _accepts = accepts;
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external view returns (bytes4) {
        return _accepts ? this.onERC1155Received.selector : bytes4(0xdeadbeef);
    }

    function onERC1155BatchReceived(
        address,
        address,
        uint256[] calldata,
        uint256[] calldata,
        bytes calldata
    ) external view returns (bytes4) {
        return _accepts ? this.onERC1155BatchReceived.selector : bytes4(0xdeadbeef);
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }
}

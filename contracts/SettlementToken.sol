// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @dev A settlement token for local and test chains: a plain ERC-20 that the minter role can mint at will.
 *
 * Its decimals are set at deployment. The project's local default is 2, so that one token unit is one minor unit
 * of the currency it stands for (a euro cent, ISO 4217 exponent 2) and claim units, face values and prices are
 * the same integers in the database and on chain. Deploy it with 6 to mimic USDC.
 *
 * WARNING: Anyone holding the minter role can create money. On a real chain, configure the address of a real
 * settlement token instead of deploying this one.
 */
contract SettlementToken is ERC20, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    uint8 private immutable _decimals;

    /// @dev Grants `DEFAULT_ADMIN_ROLE` and `MINTER_ROLE` to `admin`.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address admin) ERC20(name_, symbol_) {
        _decimals = decimals_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /**
     * @dev Creates `amount` tokens for `to`.
     *
     * Requirements:
     *
     * - the caller must hold the minter role.
     * - `to` must not be the zero address.
     *
     * Emits a {IERC20-Transfer} event.
     */
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view virtual override returns (uint8) {
        return _decimals;
    }
}

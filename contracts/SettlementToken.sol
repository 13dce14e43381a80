// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

// The settlement token's decimals (an external token used instead must have the same).
uint8 constant SETTLEMENT_DECIMALS = 6;

/// @title SettlementToken
/// @notice The test money Yinqi settles in on a local or test chain ("DCNY", 6 decimals, like a
/// cash token's cents-and-fen precision). The bank mints it to fund participants and its pool.
/// @dev On a production network the deployment uses an existing ERC-20 instead (see README), so
/// nothing in the product contracts depends on this contract beyond the ERC-20 interface.
/// The default admin (who grants the minter role) changes hands in two steps after a delay, as on
/// every other Yinqi contract (OZ {AccessControlDefaultAdminRules}): one mistyped address or one
/// stolen key cannot hand the mint over at once.
contract SettlementToken is ERC20, ERC20Permit, AccessControlDefaultAdminRules {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @param admin The bank's admin account: default admin and minter.
    /// @param adminTransferDelay Seconds between starting and accepting a default-admin transfer.
    constructor(
        address admin,
        uint48 adminTransferDelay
    )
        ERC20("Digital CNY (test)", "DCNY")
        ERC20Permit("Digital CNY (test)")
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
    {
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Creates `amount` units (6 decimals) for `to`.
    /// @dev Requirements: caller has `MINTER_ROLE`; `to` non-zero. Emits {Transfer} from zero.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Destroys `amount` of the caller's own units.
    /// @dev Emits {Transfer} to zero.
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return SETTLEMENT_DECIMALS;
    }
}

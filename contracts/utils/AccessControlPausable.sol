// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title AccessControlPausable
/// @notice What every pausable Yinqi contract shares: the bank's default admin, handed over in two
/// steps with a delay ({AccessControlDefaultAdminRules}), and a `PAUSER_ROLE` that stops the
/// contract's `whenNotPaused` functions ({Pausable}, used as is). Each contract's own NatSpec says
/// which functions those are; repaying a debt is never among them.
/// @dev Pausable's one-byte flag is this contract's last state variable, so a derived contract whose
/// first state variables are small (and which lists its other stateful bases before this one) packs
/// them into the flag's slot: one cold read then serves both the pause check and those variables.
abstract contract AccessControlPausable is AccessControlDefaultAdminRules, Pausable {
    /// @notice The role that may {pause} and {unpause}.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @param adminTransferDelay Seconds a default-admin handover must wait before acceptance.
    /// @param admin The bank's admin account: default admin and pauser.
    constructor(uint48 adminTransferDelay, address admin) AccessControlDefaultAdminRules(adminTransferDelay, admin) {
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @notice Stops this contract's pausable functions (see the contract's description).
    /// @dev Requirements: caller has `PAUSER_ROLE`; not paused. Emits {Paused}.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts {pause}.
    /// @dev Requirements: caller has `PAUSER_ROLE`; paused. Emits {Unpaused}.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }
}

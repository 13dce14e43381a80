// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";

/// @title SelfPermit
/// @notice Paying in one transaction, with no approval left standing: the payer signs an EIP-2612 permit
/// for the exact amount and sends `multicall([selfPermit(...), <the paying call>])`. The allowance then
/// exists only if the paying call succeeds: one that would fail reverts the whole transaction, which
/// the wallet learns when it estimates the transaction, before anything is sent.
/// @dev After Uniswap's SelfPermit (v3-periphery). A permit somebody else submitted first (it can be
/// read from the mempool) has already set the allowance the caller signed: then this goes on, as
/// OpenZeppelin's {IERC20Permit} advises, and so does any failed permit whose value an allowance
/// already covers; otherwise the token's own error comes back. Limits: a permit submitted on its own
/// by someone else stays in force even if the paying call then fails (only its owner can use it: these
/// contracts take tokens from `msg.sender` alone, and the owner's next permit replaces it).
abstract contract SelfPermit is Multicall {
    /// @notice Lets this contract take `value` of the settlement token from the caller, by the caller's
    /// EIP-2612 signature (`deadline`, `v`, `r`, `s`): the first call of a {multicall} whose next call pays.
    function selfPermit(uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        address token = _permitToken();
        try IERC20Permit(token).permit(msg.sender, address(this), value, deadline, v, r, s) {
            return;
        } catch (bytes memory reason) {
            if (IERC20(token).allowance(msg.sender, address(this)) >= value) return; // front-run: already set
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    /// @dev The token permits are for: the settlement token.
    function _permitToken() internal view virtual returns (address);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IFinancingPool} from "./interfaces/IFinancingPool.sol";
import {AccessControlPausable} from "./utils/AccessControlPausable.sol";
import {SelfPermit} from "./utils/SelfPermit.sol";

/// @title FinancingPool
/// @notice Holds the bank's settlement-token liquidity and pays advances for admitted products.
/// @dev Roles: `TREASURER_ROLE` (bank treasury) deposits and withdraws; `LENDER_ROLE` (product
/// contracts such as {Receivables}) disburses; `PAUSER_ROLE` stops disbursements. The pool's cash is
/// its token balance: there is no second ledger to drift from it.
contract FinancingPool is IFinancingPool, ReentrancyGuard, AccessControlPausable, SelfPermit {
    using SafeERC20 for IERC20;

    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    bytes32 public constant LENDER_ROLE = keccak256("LENDER_ROLE");

    /// @notice The token every amount is in.
    IERC20 public immutable settlementToken;

    /// @param token The settlement token.
    /// @param admin The bank's admin account: default admin, treasurer and pauser.
    /// @param adminTransferDelay Seconds a default-admin handover must wait before acceptance.
    constructor(
        IERC20 token,
        address admin,
        uint48 adminTransferDelay
    ) AccessControlPausable(adminTransferDelay, admin) {
        settlementToken = token;
        _grantRole(TREASURER_ROLE, admin);
    }

    /// @inheritdoc IFinancingPool
    /// @dev Requirements: caller has `TREASURER_ROLE` and approved `amount`; `amount` > 0.
    /// Emits {LiquidityDeposited}.
    function deposit(uint256 amount) external onlyRole(TREASURER_ROLE) nonReentrant {
        if (amount == 0) revert PoolZeroAmount();
        settlementToken.safeTransferFrom(msg.sender, address(this), amount);
        emit LiquidityDeposited(msg.sender, amount, available());
    }

    /// @inheritdoc IFinancingPool
    /// @dev Requirements: caller has `TREASURER_ROLE`; `to` non-zero; 0 < `amount` ≤ {available}.
    /// Emits {LiquidityWithdrawn}.
    function withdraw(address to, uint256 amount) external onlyRole(TREASURER_ROLE) nonReentrant {
        uint256 balance = _checkPayout(to, amount);
        emit LiquidityWithdrawn(to, amount, balance - amount);
        settlementToken.safeTransfer(to, amount);
    }

    /// @inheritdoc IFinancingPool
    /// @dev Requirements: caller has `LENDER_ROLE`; not paused; `to` non-zero; 0 < `amount` ≤
    /// {available}. Emits {Disbursed}.
    function disburse(address to, uint256 amount) external onlyRole(LENDER_ROLE) whenNotPaused nonReentrant {
        uint256 balance = _checkPayout(to, amount);
        emit Disbursed(msg.sender, to, amount, balance - amount);
        settlementToken.safeTransfer(to, amount);
    }

    /// @inheritdoc IFinancingPool
    function paused() public view override(IFinancingPool, Pausable) returns (bool) {
        return super.paused();
    }

    /// @inheritdoc IFinancingPool
    function available() public view returns (uint256) {
        return settlementToken.balanceOf(address(this));
    }

    function _checkPayout(address to, uint256 amount) private view returns (uint256 balance) {
        if (to == address(0)) revert PoolZeroAddress();
        if (amount == 0) revert PoolZeroAmount();
        balance = available();
        if (amount > balance) revert PoolInsufficientLiquidity(balance, amount);
    }

    /// @dev Payments come in the settlement token: the permits {SelfPermit} takes are for it.
    function _permitToken() internal view override returns (address) {
        return address(settlementToken);
    }
}

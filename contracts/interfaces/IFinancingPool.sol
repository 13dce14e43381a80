// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IFinancingPool
/// @notice The bank's liquidity for every Yinqi product. The bank deposits and withdraws; product
/// contracts the bank has admitted (`LENDER_ROLE`) pay advances out of it. Repayments are paid into it
/// by the product contracts, which keep their own books and events.
interface IFinancingPool {
    /// @notice The pool holds `available` units, fewer than the `requested` amount.
    error PoolInsufficientLiquidity(uint256 available, uint256 requested);

    /// @notice A zero amount was given.
    error PoolZeroAmount();

    /// @notice The zero address was given as recipient.
    error PoolZeroAddress();

    /// @notice `from` added `amount` units of liquidity; the pool now holds `balance`.
    event LiquidityDeposited(address indexed from, uint256 amount, uint256 balance);

    /// @notice `amount` units were withdrawn to `to`; the pool now holds `balance`.
    event LiquidityWithdrawn(address indexed to, uint256 amount, uint256 balance);

    /// @notice Product contract `lender` paid `amount` to `to`; the pool now holds `balance`.
    event Disbursed(address indexed lender, address indexed to, uint256 amount, uint256 balance);

    /// @notice Adds `amount` of the caller's settlement tokens (approved beforehand) to the pool.
    function deposit(uint256 amount) external;

    /// @notice Sends `amount` of idle liquidity to `to`.
    function withdraw(address to, uint256 amount) external;

    /// @notice Pays `amount` to `to` on behalf of an admitted product contract.
    function disburse(address to, uint256 amount) external;

    /// @notice Liquidity that can be lent or withdrawn now.
    function available() external view returns (uint256);

    /// @notice Whether disbursements are stopped.
    function paused() external view returns (bool);
}

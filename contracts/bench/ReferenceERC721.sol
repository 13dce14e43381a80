// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title ReferenceERC721
/// @notice Benchmark reference only (never deployed by `yinqi deploy`): a bare OpenZeppelin ERC-721
/// mint, the yardstick `bench/gas.py` measures receivable issuance against.
contract ReferenceERC721 is ERC721 {
    constructor() ERC721("Reference", "REF") {}

    /// @notice Mints `id` to `to` with nothing else stored.
    function mint(address to, uint256 id) external {
        _mint(to, id);
    }
}

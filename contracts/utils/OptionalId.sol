// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title OptionalId
/// @notice A storage word that holds an id or nothing. Ids count up from 0, so 0 is a real id; the
/// word holds `id + 1` instead, and the zero every unwritten storage word starts with reads as "none".
library OptionalId {
    /// @notice What a word holding no id contains.
    uint256 internal constant NONE = 0;

    /// @notice The word that holds `id`.
    function wrap(uint256 id) internal pure returns (uint256) {
        return id + 1;
    }

    /// @notice Whether `word` holds an id, and which one (0 when it holds none).
    function unwrap(uint256 word) internal pure returns (bool found, uint256 id) {
        if (word == NONE) return (false, 0);
        unchecked {
            return (true, word - 1); // word != NONE, so word ≥ 1
        }
    }
}

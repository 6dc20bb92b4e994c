// SPDX-License-Identifier: MIT
// Native-coin payments made by a contract, not by an account: the value moves in internal calls, so it shows
// in balances but not in any transaction's `to`/`value` fields. For the EVM module's "internal transfer" tests.
pragma solidity 0.8.37;

contract BatchPayout {
    /// Pays amounts[i] to recipients[i]; msg.value must equal the sum.
    function payMany(address payable[] calldata recipients, uint256[] calldata amounts) external payable {
        require(recipients.length == amounts.length, "length mismatch");
        uint256 total;
        for (uint256 i = 0; i < recipients.length; i++) {
            total += amounts[i];
            _pay(recipients[i], amounts[i]);
        }
        require(total == msg.value, "value mismatch");
    }

    /// Forwards the whole msg.value to `to` in one internal call.
    function forward(address payable to) external payable {
        _pay(to, msg.value);
    }

    function _pay(address payable to, uint256 value) private {
        (bool ok, ) = to.call{value: value}("");
        require(ok, "payment failed");
    }
}

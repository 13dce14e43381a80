"""Oracle feed ids: which stream of reports the gateway routes to which consumer contract."""

from web3 import Web3

CREDIT_FEED: bytes = Web3.keccak(text="yinqi/credit-scores/v1")
IOT_FEED: bytes = Web3.keccak(text="yinqi/iot-usage-flags/v1")

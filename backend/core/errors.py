"""The root exception of the backend and its kinds. The CLI prints any of them as one line."""


class YinqiError(Exception):
    """Root of every error the backend raises on purpose."""


class ConfigError(YinqiError, ValueError):
    """A setting, network name or key variable is missing or wrong."""


class ChainError(YinqiError, ConnectionError):
    """The chain is unreachable, is not what was expected, or a local node failed to start."""


class ChainAlreadyRunning(ChainError):
    """An EVM node already answers where a local chain was to be started."""


class TransactionFailed(YinqiError, RuntimeError):
    """A transaction reverted or was not mined."""


class ManifestError(YinqiError, LookupError):
    """The deployment manifest is missing, stale or lacks a contract."""

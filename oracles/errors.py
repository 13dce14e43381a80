"""The root exception of the oracles package."""

from backend.core.errors import YinqiError


class OracleError(YinqiError):
    """Root of every error the oracles raise on purpose (printed as one line by the CLI)."""


class DataError(OracleError, ValueError):
    """Input data is missing, malformed or unusable."""

"""How the API writes JSON. Integers beyond JavaScript's exact range (±(2^53 − 1)) go as decimal
strings, so an amount reaches the page exact at any size the contracts accept (the page reads every
amount with ``BigInt``, which takes either form); every other value as Flask writes it."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_SAFE_INTEGER = 2**53 - 1


def js_safe(value: Any) -> Any:
    """`value` with every integer JavaScript would round replaced by its decimal string."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(value)
    if isinstance(value, dict):
        return {k: js_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [js_safe(v) for v in value]
    return value


class JsSafeJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return super().dumps(js_safe(obj), **kwargs)

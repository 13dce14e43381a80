"""Fault injection for the crash tests: ``YINQI_FAILPOINT=NAME[:N]`` makes the process die, as a
``kill -9`` would, the N-th time (default the first) it passes the point NAME. Unset in production."""

from __future__ import annotations

import os
from collections import Counter

CRASH_EXIT = 137  # what a shell reports for a process killed by SIGKILL
_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    spec = os.environ.get("YINQI_FAILPOINT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target == name:
        _hits[name] += 1
        if _hits[name] == int(count or 1):
            os._exit(CRASH_EXIT)  # no cleanup, no flush: a crash

"""What the local services (anvil, mosquitto) and the demo's children share: a child process that
dies with us, its output appended to a log file, waited on until it serves, stopped by a signal."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from backend.core.errors import YinqiError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the OS's pick), for a child to serve on."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies, so no child outlives us."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(command: Sequence[str], log_path: Path, *, new_session: bool = True) -> subprocess.Popen[bytes]:
    """Start `command` with stdout and stderr appended to `log_path`, no stdin, dying with us."""
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            list(command),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=new_session,
            preexec_fn=die_with_parent,
        )


def wait_until(
    process: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    log_path: Path,
    error: type[YinqiError],
    poll: float = 0.05,
) -> bool:
    """Poll `ready` until it holds (True) or `timeout` passes (False); `error` if the child exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise error(f"{what} exited with code {process.returncode}; see {log_path}")
        if ready():
            return True
        time.sleep(poll)
    return False


def stop_child(process: subprocess.Popen[bytes] | None, sig: signal.Signals, timeout: float) -> bool:
    """Send `sig` and wait; kill the child if it hangs. False if it had to be killed."""
    if process is None or process.poll() is not None:
        return True
    process.send_signal(sig)
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


class LocalService:
    """One child service we start and stop (anvil, mosquitto): ``start``/``stop`` or ``with``."""

    _process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """The child's exit code if it has exited, else None."""
        return self._process.poll() if self._process else None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

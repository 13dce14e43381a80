"""The embedded MQTT broker: Debian's mosquitto 2, started as a plain process with our own config
file, so the demo and the tests can start, stop and restart it. Production runs its own broker
(cluster); the daemons only need HOST:PORT."""

from __future__ import annotations

import getpass
import logging
import shutil
import signal
import socket
from pathlib import Path

from backend.core.errors import YinqiError
from backend.local.process import LocalService, spawn, stop_child, wait_until

log = logging.getLogger(__name__)

CONFIG = """\
listener {port} {host}
# Run as whoever started us: mosquitto started as root would switch to user mosquitto, which drops
# the parent-death signal, so a killed demo would leave its broker behind.
user {user}
allow_anonymous true
# Messages for a disconnected oracle wait in its session, without a cap (the default drops past 1,000).
max_queued_messages 0
persistence true
persistence_location {home}/
autosave_interval 5
log_dest stdout
"""


class BrokerError(YinqiError):
    pass


class LocalBroker(LocalService):
    """One mosquitto on `host`:`port`, its config and persistence under `home`."""

    def __init__(self, home: Path, port: int, host: str = "127.0.0.1", binary: str | None = None) -> None:
        self.home, self.port, self.host = Path(home), port, host
        self.binary = binary or shutil.which("mosquitto") or "/usr/sbin/mosquitto"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        if not Path(self.binary).exists():
            raise BrokerError(f"mosquitto not found ({self.binary}): apt-get install mosquitto, or run scripts/setup")
        if _listening(self.host, self.port):
            raise BrokerError(f"something already listens on {self.address}")
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "mosquitto.conf"
        config.write_text(CONFIG.format(host=self.host, port=self.port, home=self.home, user=getpass.getuser()))
        log_path = self.home / "mosquitto.log"
        self._process = spawn([self.binary, "-c", str(config)], log_path)
        if wait_until(
            self._process,
            lambda: _listening(self.host, self.port),
            timeout=timeout,
            what="mosquitto",
            log_path=log_path,
            error=BrokerError,
        ):
            log.info("mosquitto up at %s (pid %s)", self.address, self.pid)
            return
        self.stop()
        raise BrokerError(f"mosquitto did not listen on {self.address} within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        stop_child(process, signal.SIGTERM, timeout)  # mosquitto saves its persistence file on SIGTERM

    def kill(self) -> None:
        """Stop it the hard way (a crash): no persistence save."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0

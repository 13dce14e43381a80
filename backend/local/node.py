"""The embedded local chain: anvil (npm ``@foundry-rs/anvil``) with the public dev accounts and a
state file, so stopping and starting it keeps every block's effects."""

from __future__ import annotations

import logging
import signal

from backend.core.chain import rpc_chain_id
from backend.core.config import Settings
from backend.core.dev_accounts import DEV_ACCOUNT_COUNT, DEV_MNEMONIC
from backend.core.errors import ChainAlreadyRunning, ChainError
from backend.local.process import LocalService, spawn, stop_child, wait_until

log = logging.getLogger(__name__)

STATE_DUMP_INTERVAL = 5  # seconds between state dumps, so even a killed node loses little


class LocalChain(LocalService):
    """One anvil process, started and stopped by us. Use as a context manager or start/stop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = f"http://{settings.chain_host}:{settings.chain_port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start anvil and wait until it answers. :class:`ChainError` if the port is taken."""
        running = rpc_chain_id(self.url)  # raises ChainError if a non-EVM service holds the port
        if running is not None:
            raise ChainAlreadyRunning(f"an EVM node (chain {running}) already runs at {self.url}")
        if not self.settings.anvil_bin.exists():
            raise ChainError(f"anvil not found at {self.settings.anvil_bin}: run `npm ci` or set YINQI_ANVIL")
        self.settings.home.mkdir(parents=True, exist_ok=True)
        state = self.settings.chain_state_file
        cmd = [
            str(self.settings.anvil_bin),
            "--host",
            self.settings.chain_host,
            "--port",
            str(self.settings.chain_port),
            "--chain-id",
            str(self.settings.chain_id),
            "--mnemonic",
            DEV_MNEMONIC,
            "--accounts",
            str(DEV_ACCOUNT_COUNT),
            "--state",
            str(state),
            "--state-interval",
            str(STATE_DUMP_INTERVAL),
        ]
        log_path = self.settings.home / "anvil.log"
        self._process = spawn(cmd, log_path)
        if wait_until(self._process, self._answers, timeout=timeout, what="anvil", log_path=log_path, error=ChainError):
            log.info("anvil up at %s (pid %s, state %s)", self.url, self.pid, state)
            return
        self.stop()
        raise ChainError(f"anvil did not answer at {self.url} within {timeout:.0f}s")

    def _answers(self) -> bool:
        try:
            return rpc_chain_id(self.url, timeout=1.0) == self.settings.chain_id
        except ChainError:
            return False  # the port is bound but the RPC server is not serving yet

    def stop(self, timeout: float = 10.0) -> None:
        """Ask anvil to stop (it writes its state file on the way out); kill it if it hangs."""
        process, self._process = self._process, None
        if not stop_child(process, signal.SIGINT, timeout):
            log.warning("anvil (pid %s) ignored SIGINT for %.0fs; killed it", process.pid, timeout)

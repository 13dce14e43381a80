"""The deployment manifest ``deployments/<chain id>.json``: the ONLY source of addresses and ABIs.

Backend, oracles and frontend all read contracts from here; nothing else pastes an address.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from backend.core.chain import RevertDecoder
from backend.core.config import Settings
from backend.core.errors import ManifestError


@dataclass(frozen=True)
class ContractRecord:
    address: str
    abi: list[dict[str, Any]]
    block: int
    transaction: str | None = None  # None for contracts deployed elsewhere (an existing ERC-20)


@dataclass
class Manifest:
    chain_id: int
    network: str
    deploy_block: int
    git_commit: str | None
    deployer: str
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # enums, flag bits, decimals: backend.core.facts

    @staticmethod
    def path_for(settings: Settings, chain_id: int) -> Path:
        return settings.deployments_dir / f"{chain_id}.json"

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ManifestError(f"no deployment manifest at {path}: run `yinqi deploy`") from None
        except ValueError as exc:
            raise ManifestError(f"deployment manifest {path} is not valid JSON ({exc})") from None
        return cls(
            chain_id=data["chainId"],
            network=data["network"],
            deploy_block=data["deployBlock"],
            git_commit=data.get("gitCommit"),
            deployer=data["deployer"],
            contracts={name: ContractRecord(**rec) for name, rec in data["contracts"].items()},
            facts=data.get("facts", {}),
        )

    @classmethod
    def for_chain(cls, settings: Settings, w3: Web3) -> Manifest:
        """The manifest of the configured chain (``settings.chain_id``: ``YINQI_CHAIN_ID``, the local
        chain's by default), once the node behind ``w3`` answers with that chain id. A node on another
        chain is refused, never followed to another chain's manifest (and keys signing for it)."""
        node_chain = w3.eth.chain_id
        if node_chain != settings.chain_id:
            raise ManifestError(
                f"the RPC node is on chain {node_chain}, but Yinqi is configured for chain {settings.chain_id} "
                "(YINQI_CHAIN_ID): refusing to use it"
            )
        return cls.load(cls.path_for(settings, settings.chain_id))

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "network": self.network,
            "deployBlock": self.deploy_block,
            "gitCommit": self.git_commit,
            "deployer": self.deployer,
            "contracts": {name: asdict(rec) for name, rec in self.contracts.items()},
            "facts": self.facts,
        }

    def save(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a manifest."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as out:
            json.dump(self.to_json(), out, indent=2)
            out.write("\n")
        os.replace(tmp, path)

    def record(self, name: str) -> ContractRecord:
        try:
            return self.contracts[name]
        except KeyError:
            raise ManifestError(
                f"contract {name} is not in the manifest of chain {self.chain_id}: run `yinqi deploy`"
            ) from None

    def contract(self, w3: Web3, name: str) -> Contract:
        """The deployed contract; calls return structs as named tuples (``line.limit``, not ``line[0]``)."""
        rec = self.record(name)
        return w3.eth.contract(address=Web3.to_checksum_address(rec.address), abi=rec.abi, decode_tuples=True)

    def revert_decoder(self) -> RevertDecoder:
        return RevertDecoder(rec.abi for rec in self.contracts.values())

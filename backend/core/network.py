"""Which EVM network to talk to: the embedded local chain, or one named in ape's network config."""

from __future__ import annotations

from backend.core.config import Settings
from backend.core.errors import ConfigError

LOCAL = "local"


def rpc_url_for(network: str | None, settings: Settings) -> str:
    """The JSON-RPC URL of ``network``.

    ``None`` or ``"local"`` is the embedded chain (``YINQI_RPC_URL``, default 127.0.0.1:8545).
    Anything else is an ape network choice, ``ecosystem:network[:provider]`` (``ethereum:sepolia``,
    or a custom network from ape-config.yaml), whose ``uri`` must be set in ape-config.yaml, e.g.
    ``node: {ethereum: {sepolia: {uri: ${SEPOLIA_RPC_URL}}}}``.
    """
    if network in (None, LOCAL):
        return settings.rpc_url
    parts = network.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"network {network!r} is not 'local' or 'ecosystem:network[:provider]'")
    ecosystem_name, network_name = parts[0], parts[1]
    provider_name = parts[2] if len(parts) == 3 else "node"

    from ape import config, networks  # slow to import: only for non-local networks
    from ape.exceptions import ApeException

    try:
        ecosystem = networks.get_ecosystem(ecosystem_name)
        ecosystem.get_network(network_name)
        provider_config = config.get_config(provider_name)
    except ApeException as exc:
        first_line = str(exc).splitlines()[0]
        raise ConfigError(f"unknown network {network!r}: {first_line}") from None
    section = provider_config.model_dump(by_alias=True).get(ecosystem_name, {}).get(network_name) or {}
    uri = section.get("uri")
    if not uri:
        raise ConfigError(
            f"network {network!r} has no RPC uri: set {provider_name}.{ecosystem_name}."
            f"{network_name}.uri in ape-config.yaml"
        )
    return uri

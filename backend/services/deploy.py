"""Deploy every contract in dependency order and keep the manifest in step with the chain.

Idempotent: against a manifest whose contracts are all live it deploys only what the manifest
lacks (nothing, on a second run); if the chain no longer has the manifest's code (a reset node) or
``fresh`` is asked for, it starts a new manifest.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.core.accounts import load_signer
from backend.core.build import Artifact, ensure_compiled, load_artifacts
from backend.core.chain import RevertDecoder, connect, send
from backend.core.config import DEV_CHAIN_ID, Settings
from backend.core.dev_accounts import dev_account
from backend.core.errors import ConfigError
from backend.core.facts import manifest_facts
from backend.core.feeds import CREDIT_FEED, IOT_FEED
from backend.core.manifest import ContractRecord, Manifest
from backend.core.money import DECIMALS
from backend.core.network import LOCAL, rpc_url_for

log = logging.getLogger(__name__)

ERC20_ABI_NAMES = frozenset(
    {
        "name",
        "symbol",
        "decimals",
        "totalSupply",
        "balanceOf",
        "transfer",
        "allowance",
        "approve",
        "transferFrom",
        "Transfer",
        "Approval",
    }
)


@dataclass(frozen=True)
class DeployContext:
    settings: Settings
    w3: Web3
    deployer: LocalAccount
    bank_admin: str
    manifest: Manifest

    def address(self, name: str) -> str:
        return self.manifest.record(name).address


@dataclass(frozen=True)
class Step:
    """One contract: its build name (also its manifest key) and its constructor arguments."""

    name: str
    args: Callable[[DeployContext], Sequence[Any]]
    external_env: str | None = None  # use an existing deployment at this env var's address


@dataclass(frozen=True)
class Grant:
    """An OpenZeppelin role one deployed contract gives another, signed by the bank's admin."""

    contract: str
    role: str  # name of the role constant, e.g. "LENDER_ROLE"
    grantee: str  # contract name


STEPS: tuple[Step, ...] = (
    Step(
        "SettlementToken",
        lambda c: [c.bank_admin, c.settings.admin_transfer_delay],
        external_env="YINQI_SETTLEMENT_TOKEN",
    ),
    Step("ParticipantRegistry", lambda c: [c.bank_admin, c.settings.admin_transfer_delay]),
    Step(
        "FinancingPool",
        lambda c: [c.address("SettlementToken"), c.bank_admin, c.settings.admin_transfer_delay],
    ),
    Step(
        "Receivables",
        lambda c: [
            c.address("ParticipantRegistry"),
            c.address("SettlementToken"),
            c.address("FinancingPool"),
            c.bank_admin,
            c.settings.admin_transfer_delay,
            c.settings.grace_period,
        ],
    ),
    Step("OracleGateway", lambda c: [c.bank_admin, c.settings.admin_transfer_delay]),
    Step(
        "CreditLine",
        lambda c: [
            c.address("ParticipantRegistry"),
            c.address("SettlementToken"),
            DECIMALS,
            c.address("FinancingPool"),
            c.address("OracleGateway"),
            c.bank_admin,
            c.settings.admin_transfer_delay,
        ],
    ),
    Step(
        "EquipmentLease",
        lambda c: [
            c.address("ParticipantRegistry"),
            c.address("SettlementToken"),
            c.address("Receivables"),
            c.address("OracleGateway"),
            c.bank_admin,
            c.settings.admin_transfer_delay,
        ],
    ),
)

GRANTS: tuple[Grant, ...] = (
    Grant("FinancingPool", "LENDER_ROLE", "Receivables"),
    Grant("FinancingPool", "LENDER_ROLE", "CreditLine"),
    Grant("Receivables", "ISSUER_ROLE", "EquipmentLease"),
)


@dataclass(frozen=True)
class DeployResult:
    manifest: Manifest
    deployed: list[str]
    granted: list[str]
    path: str


def deploy(
    settings: Settings, network: str | None = None, *, fresh: bool = False, environ: dict[str, str] | None = None
) -> DeployResult:
    env = os.environ if environ is None else environ
    w3 = connect(rpc_url_for(network, settings), settings.rpc_timeout)
    chain_id = w3.eth.chain_id
    deployer = load_signer("DEPLOYER", chain_id, environ=env)
    bank_admin = _address_from_env(env, "YINQI_BANK_ADMIN") or deployer.address
    path = Manifest.path_for(settings, chain_id)

    manifest = None if fresh or not path.exists() else Manifest.load(path)
    if manifest is not None and not _all_live(w3, manifest):
        log.warning("manifest %s names contracts this chain does not have; deploying afresh", path)
        manifest = None
    if manifest is None:
        manifest = Manifest(
            chain_id=chain_id,
            network=network or LOCAL,
            deploy_block=w3.eth.block_number + 1,
            git_commit=_git_commit(settings),
            deployer=deployer.address,
        )

    missing = [step for step in STEPS if step.name not in manifest.contracts]
    if missing:
        ensure_compiled(settings)
        artifacts = load_artifacts(settings)
    ctx = DeployContext(settings, w3, deployer, bank_admin, manifest)
    deployed = []
    for step in missing:
        manifest.contracts[step.name] = _deploy_step(ctx, step, artifacts[step.name], env)
        manifest.save(path)  # after each contract, so an interrupted deploy resumes where it stopped
        deployed.append(step.name)
    if manifest.facts != (facts := manifest_facts()):
        manifest.facts = facts
        manifest.save(path)
    granted = [_grant(ctx, grant, env) for grant in GRANTS]
    granted += _configure_oracles(ctx, env)
    return DeployResult(manifest=manifest, deployed=deployed, granted=[g for g in granted if g], path=str(path))


def _admin(ctx: DeployContext, env, what: str) -> LocalAccount:
    admin = (
        ctx.deployer
        if ctx.deployer.address == ctx.bank_admin
        else load_signer("BANK", ctx.w3.eth.chain_id, environ=env)
    )
    if admin.address != ctx.bank_admin:
        raise ConfigError(f"{what} needs the bank admin {ctx.bank_admin}: set YINQI_BANK_KEY")
    return admin


def _grant(ctx: DeployContext, grant: Grant, env) -> str | None:
    """Grant ``grant`` unless it is already in place; a description of what was done, or None."""
    contract = ctx.manifest.contract(ctx.w3, grant.contract)
    role = getattr(contract.functions, grant.role)().call()
    grantee = ctx.address(grant.grantee)
    if contract.functions.hasRole(role, grantee).call():
        return None
    what = f"granting {grant.contract}.{grant.role} to {grant.grantee}"
    send(
        ctx.w3,
        _admin(ctx, env, what),
        contract.functions.grantRole(role, grantee),
        decoder=ctx.manifest.revert_decoder(),
        what=what,
    )
    return f"{grant.contract}.{grant.role} → {grant.grantee}"


@dataclass(frozen=True)
class FeedRoute:
    """One oracle feed: its consumer contract, its reports' maximum age, its quorum and its own operators."""

    name: str
    feed: bytes
    consumer: str  # contract name
    max_age: Callable[[Settings], int]
    operators_env: str  # comma-separated addresses of the feed's operators
    dev_operator: int  # the dev account that signs this feed on the dev chain
    own_quorum: Callable[[Settings], int | None]  # the feed's k where it has its own

    def quorum(self, settings: Settings) -> int:
        """k for this feed: its own, or the one every feed shares (``YINQI_ORACLE_QUORUM``)."""
        own = self.own_quorum(settings)
        return settings.oracle_quorum if own is None else own


FEED_ROUTES: tuple[FeedRoute, ...] = (
    FeedRoute(
        "credit",
        CREDIT_FEED,
        "CreditLine",
        lambda s: s.credit_report_max_age,
        "YINQI_CREDIT_ORACLE_OPERATORS",
        7,
        lambda s: s.credit_oracle_quorum,
    ),
    FeedRoute(
        "IoT",
        IOT_FEED,
        "EquipmentLease",
        lambda s: s.iot_report_max_age,
        "YINQI_IOT_ORACLE_OPERATORS",
        8,
        lambda s: s.iot_oracle_quorum,
    ),
)


def _configure_oracles(ctx: DeployContext, env) -> list[str]:
    """Admit each feed's own operators (a key signs only for the feed it is listed for), bound the rate
    the credit oracle may set, and route each feed to its consumer (each only once)."""
    gateway = ctx.manifest.contract(ctx.w3, "OracleGateway")
    decoder = ctx.manifest.revert_decoder()
    done = _bound_credit_rate(ctx, env)
    operators = {r.name: oracle_operators(ctx.w3.eth.chain_id, env, r) for r in FEED_ROUTES}
    listed: dict[str, str] = {}
    for r in FEED_ROUTES:
        for operator in operators[r.name]:
            if listed.setdefault(operator.lower(), r.operators_env) != r.operators_env:
                raise ConfigError(
                    f"{operator} is listed in {listed[operator.lower()]} and in {r.operators_env}: "
                    "one key signs for one feed only"
                )
    for r in FEED_ROUTES:
        name, feed, consumer_name = r.name, r.feed, r.consumer
        for operator in operators[r.name]:
            if not gateway.functions.isOperator(feed, operator).call():
                send(
                    ctx.w3,
                    _admin(ctx, env, f"adding a {name} oracle operator"),
                    gateway.functions.addOperator(feed, operator),
                    decoder=decoder,
                    what=f"adding {name} oracle operator {operator}",
                )
                done.append(f"{name} oracle operator {operator}")
        consumer = ctx.address(consumer_name)
        wanted = (consumer, r.quorum(ctx.settings), r.max_age(ctx.settings))
        route = gateway.functions.feeds(feed).call()
        if gateway.functions.operatorCount(feed).call() < wanted[1]:
            log.warning("%s feed left unrouted: fewer operators than the quorum (set %s)", name, r.operators_env)
        elif (route.consumer, route.quorum, route.maxAge) != wanted:
            send(
                ctx.w3,
                _admin(ctx, env, f"configuring the {name} feed"),
                gateway.functions.configureFeed(feed, *wanted),
                decoder=decoder,
                what=f"configuring the {name} feed",
            )
            done.append(f"{name} feed → {consumer_name} (quorum {wanted[1]})")
    return done


def _bound_credit_rate(ctx: DeployContext, env) -> list[str]:
    """Set CreditLine's maximum rate to ``settings.credit_max_rate_bps`` (``YINQI_CREDIT_MAX_RATE_BPS``)
    if it differs, keeping its other bounds."""
    wanted = ctx.settings.credit_max_rate_bps
    if not 0 < wanted < 2**16:
        raise ConfigError(f"YINQI_CREDIT_MAX_RATE_BPS must be 1..65535 basis points, got {wanted}")
    credit_line = ctx.manifest.contract(ctx.w3, "CreditLine")
    if credit_line.functions.maxRateBps().call() == wanted:
        return []
    f = credit_line.functions
    bounds = (f.maxLimit().call(), f.maxScoreAge().call(), f.maxLimitStep().call(), f.defaultAfterFrozen().call())
    send(
        ctx.w3,
        _admin(ctx, env, "setting the credit line's maximum rate"),
        f.setBounds(*bounds, wanted),
        decoder=ctx.manifest.revert_decoder(),
        what="setting the credit line's maximum rate",
    )
    return [f"CreditLine maximum rate {wanted} bps"]


def oracle_operators(chain_id: int, env, route: FeedRoute) -> list[str]:
    """The operators of ``route``'s feed from its variable (``YINQI_CREDIT_ORACLE_OPERATORS``,
    ``YINQI_IOT_ORACLE_OPERATORS``: comma-separated addresses); on the dev chain the demo's operator of
    that feed by default (dev account 7 signs credit reports, 8 IoT reports)."""
    if "YINQI_ORACLE_OPERATORS" in env:
        raise ConfigError(
            "YINQI_ORACLE_OPERATORS is no longer read: operators are per feed now; "
            "set YINQI_CREDIT_ORACLE_OPERATORS and YINQI_IOT_ORACLE_OPERATORS"
        )
    raw = env.get(route.operators_env)
    if raw is None:
        return [dev_account(route.dev_operator).address] if chain_id == DEV_CHAIN_ID else []
    return [_checked_address(a.strip(), route.operators_env) for a in raw.split(",") if a.strip()]


def _deploy_step(ctx: DeployContext, step: Step, artifact: Artifact, env) -> ContractRecord:
    if step.external_env and (external := _address_from_env(env, step.external_env)):
        if not ctx.w3.eth.get_code(external):
            raise ConfigError(f"{step.external_env}={external} has no contract code on this chain")
        abi = [item for item in artifact.abi if item.get("name") in ERC20_ABI_NAMES]
        log.info("%s: using the existing contract at %s", step.name, external)
        return ContractRecord(address=external, abi=abi, block=ctx.w3.eth.block_number)
    factory = ctx.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send(
        ctx.w3,
        ctx.deployer,
        factory.constructor(*step.args(ctx)),
        decoder=RevertDecoder([artifact.abi]),
        what=f"deploying {step.name}",
    )
    log.info("%s deployed at %s (gas %s)", step.name, receipt["contractAddress"], receipt["gasUsed"])
    return ContractRecord(
        address=receipt["contractAddress"],
        abi=artifact.abi,
        block=receipt["blockNumber"],
        transaction="0x" + receipt["transactionHash"].hex().removeprefix("0x"),
    )


def _all_live(w3: Web3, manifest: Manifest) -> bool:
    return all(w3.eth.get_code(Web3.to_checksum_address(r.address)) for r in manifest.contracts.values())


def _address_from_env(env, name: str) -> str | None:
    raw = env.get(name)
    return _checked_address(raw, name) if raw else None


def _checked_address(raw: str, name: str) -> str:
    if not Web3.is_address(raw):
        raise ConfigError(f"{name} is not an address: {raw!r}")
    return Web3.to_checksum_address(raw)


def _git_commit(settings: Settings) -> str | None:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=settings.root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None

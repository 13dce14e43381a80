"""``yinqi deploy``: every contract, and the deployment manifest."""

from __future__ import annotations

import click

from backend.cli.common import CliContext, pass_cli
from backend.services.deploy import deploy


@click.command("deploy")
@click.option("--network", default=None, help="'local' (default) or an ape network choice, e.g. ethereum:sepolia.")
@click.option("--fresh", is_flag=True, help="Deploy everything anew even if the manifest is live.")
@pass_cli
def deploy_command(cli: CliContext, network: str | None, fresh: bool) -> None:
    """Deploy every contract and write deployments/<chain id>.json (a no-op when up to date)."""
    result = deploy(cli.settings, network, fresh=fresh)
    if result.deployed:
        click.echo(f"Deployed {', '.join(result.deployed)} to chain {result.manifest.chain_id}.")
    for grant in result.granted:
        click.echo(f"Granted {grant}.")
    if not result.deployed and not result.granted:
        click.echo(f"Chain {result.manifest.chain_id} is up to date: nothing to deploy.")
    for name, record in result.manifest.contracts.items():
        click.echo(f"  {name:<20} {record.address}")
    click.echo(f"Manifest: {result.path}")

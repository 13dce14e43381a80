"""``yinqi api``: the read-only API and the web frontend, served by hypercorn."""

from __future__ import annotations

import asyncio
import signal

import click
from hypercorn.asyncio import serve
from hypercorn.config import Config

from backend.api import create_app
from backend.api.config import ApiConfig


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def api(host: str, port: int) -> None:
    """Serve the read-only API and the web frontend (hypercorn) until Ctrl-C; follows the chain into
    the event index ($YINQI_HOME/index.sqlite)."""
    app = create_app(ApiConfig.from_env())
    context = app.extensions["yinqi"]
    context.index()  # connect, read the manifest and catch the index up before taking requests
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.graceful_timeout = 5.0
    config.accesslog = None

    async def serve_until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"Yinqi API and web UI on http://{host}:{port}/ (chain {context.manifest.chain_id})")
        await serve(app, config, mode="wsgi", shutdown_trigger=stop.wait)

    try:
        asyncio.run(serve_until_signalled())
    finally:
        context.close()

"""Helpers shared by every test area: free ports, and a real anvil on a free port with state and
manifests in tmp dirs (backend and oracle tests)."""

import os
from contextlib import contextmanager
from dataclasses import replace

import pytest

from backend.core.config import Settings
from backend.local.node import LocalChain
from backend.local.process import free_port


def assert_one_line_error(result, fragment):
    """A CLI run that failed the way an operator should see it: one `error:` line, no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]


@contextmanager
def seeded_chain(tmp_path, *, credit: bool = False):
    """A real anvil with every contract deployed and the demo's seeds: its cast onboarded and funded,
    a supply chain in motion and, with `credit`, a scored merchant. Yields (settings, w3, manifest)."""
    from backend.core.chain import connect
    from backend.demo.seeding import seed, seed_credit, seed_supply_chain
    from backend.services.deploy import deploy

    settings = make_settings(tmp_path, free_port())
    with LocalChain(settings) as chain:
        manifest = deploy(settings, environ={}).manifest
        w3 = connect(chain.url)
        seed(w3, manifest)
        seed_supply_chain(w3, manifest)
        if credit:
            seed_credit(settings, w3)
        yield settings, w3, manifest


@pytest.fixture
def port() -> int:
    return free_port()


def make_settings(tmp_path, port: int, **overrides) -> Settings:
    return replace(
        Settings(),
        home=tmp_path / "home",
        deployments_dir=tmp_path / "deployments",
        rpc_url=f"http://127.0.0.1:{port}",
        chain_port=port,
        **{"mqtt_port": free_port(), "api_port": free_port(), **overrides},
    )


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, free_port())


@pytest.fixture
def local_chain(settings):
    with LocalChain(settings) as node:
        yield node


@pytest.fixture
def env_for(tmp_path):
    """The environment a `yinqi` subprocess needs to use ``settings`` instead of the defaults."""

    def build(settings: Settings, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YINQI_")}
        env.update(
            YINQI_HOME=str(settings.home),
            YINQI_DEPLOYMENTS=str(settings.deployments_dir),
            YINQI_CHAIN_PORT=str(settings.chain_port),
            YINQI_CHAIN_ID=str(settings.chain_id),
            **extra,
        )
        return env

    return build


@pytest.fixture
def broker(tmp_path):
    """A real mosquitto on a free port, as a plain process the test may stop and restart."""
    from backend.local.broker import LocalBroker

    with LocalBroker(tmp_path / "mosquitto", free_port()) as running:
        yield running


POSTGRES_URL = os.environ.get("YINQI_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture
def postgres_index():
    """A fresh schema on the machine's PostgreSQL, as an index URL."""
    import uuid

    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} ({exc}); set YINQI_TEST_POSTGRES")
    schema = f"yinqi_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def index_target(request, tmp_path):
    """Where an event index lives: a SQLite file, or a fresh schema on the machine's PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite")
    return request.getfixturevalue("postgres_index")

"""The suite runs on both backends: every test of a module that opens a database (through
tests/harness.py's `started` or `migrated_database`, the `bot` fixture, or `Database`) runs once
on SQLite and once on PostgreSQL (`--backend` picks one). Where PostgreSQL's server programs are
missing, the PostgreSQL runs are skipped with the reason."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.db import Database
from tests import databases, harness
from tests.harness import Harness, started
from tests.postgres import MIGRATED, Cluster, start_cluster

BACKENDS = ("sqlite", "postgresql")
# What a test module uses when it opens a database.
_OPENS_DATABASE = {id(harness.started), id(harness.migrated_database), id(harness.BACKEND),
                   id(databases.rows), id(databases.named_rows), id(Database)}

# The repo's config.toml is the default; tests must not pick up a developer's environment.
for variable in [v for v in os.environ if v.startswith("LANTOA_")]:
    del os.environ[variable]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=(*BACKENDS, "both"), default="both",
                     help="the database the tests that open one run on (default: both)")


def _opens_database(metafunc: pytest.Metafunc) -> bool:
    return "bot" in metafunc.fixturenames or any(
        id(value) in _OPENS_DATABASE for value in vars(metafunc.module).values())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = metafunc.config.getoption("backend")
    if _opens_database(metafunc):
        metafunc.parametrize("backend", BACKENDS if chosen == "both" else (chosen,),
                             indirect=True)


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend this test's databases are on (tests/harness.py's BACKEND)."""
    name = getattr(request, "param", "sqlite")
    cluster = request.getfixturevalue("postgres_cluster") if name == "postgresql" else None
    harness.BACKEND.name, harness.BACKEND.cluster = name, cluster
    yield name
    harness.BACKEND.drop_databases()
    harness.BACKEND.name, harness.BACKEND.cluster = "sqlite", None


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with started(tmp_path) as harness:
        yield harness


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """This process's own PostgreSQL cluster (each xdist worker starts one): tests/postgres.py."""
    try:
        cluster = start_cluster(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    except FileNotFoundError as missing:
        pytest.skip(str(missing))
    asyncio.run(_migrate(cluster.url(MIGRATED)))
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database of this test's own."""
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    postgres_cluster.drop_database(name)


async def _migrate(url: str) -> None:
    await (await Database.open(url)).close()

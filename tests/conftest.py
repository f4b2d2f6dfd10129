from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import Harness, started
from tests.postgres import Cluster, start_cluster

# The repo's config.toml is the default; tests must not pick up a developer's environment.
for variable in [v for v in os.environ if v.startswith("LANTOA_")]:
    del os.environ[variable]


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with started(tmp_path) as harness:
        yield harness


@pytest.fixture(scope="session")
def postgres_cluster(worker_id: str) -> Iterator[Cluster]:
    """This process's own PostgreSQL cluster (each xdist worker starts one): tests/postgres.py."""
    try:
        cluster = start_cluster(worker_id)
    except FileNotFoundError as missing:
        pytest.skip(str(missing))
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database of this test's own."""
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    postgres_cluster.drop_database(name)

"""The tests' throwaway PostgreSQL cluster (tests/postgres.py) and the driver the backend uses."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.postgres import OWNER_FILE, Cluster, remove_abandoned, server_programs, start_cluster

# Two tests write the same table name into the databases they were given: whichever runs
# second (in any order, on any worker) must find its database empty.
SHARED_NAME = "deeds"


async def _write_and_read(url: str, text: str) -> list[tuple[int, str]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute(f"CREATE TABLE {SHARED_NAME} (id BIGSERIAL PRIMARY KEY, text TEXT)")
        cursor = await conn.execute(
            f"INSERT INTO {SHARED_NAME} (text) VALUES (%s) RETURNING id", (text,))
        assert await cursor.fetchone() == (1,)
        await conn.commit()
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(f"SELECT id, text FROM {SHARED_NAME}")
        return await cursor.fetchall()


@pytest.mark.parametrize("text", ["Trồng 20 cây xanh", "<b>đồng chí</b> 🌱"])
async def test_each_test_gets_an_empty_database_of_its_own(postgres_url: str, text: str) -> None:
    assert await _write_and_read(postgres_url, text) == [(1, text)]


async def test_the_cluster_is_reachable_only_through_its_socket(
        postgres_cluster: Cluster, postgres_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        cursor = await conn.execute(
            "SELECT inet_server_addr(), current_setting('listen_addresses')")
        assert await cursor.fetchone() == (None, "")  # None: connected through a Unix socket
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", postgres_cluster.port)) != 0
    with pytest.raises(psycopg.OperationalError):
        await psycopg.AsyncConnection.connect(
            postgres_url.split("?")[0].replace("@/", f"@127.0.0.1:{postgres_cluster.port}/"),
            connect_timeout=2)


def test_the_server_does_not_run_as_the_tests_user_when_that_is_root(
        postgres_cluster: Cluster) -> None:
    server = (postgres_cluster.data / "postmaster.pid").stat().st_uid  # the server wrote it
    assert server != 0
    assert server == (os.geteuid() if postgres_cluster.user is None
                      else postgres_cluster.user.pw_uid)


def test_the_newest_installed_postgresql_is_used(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16", "notes"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    assert server_programs(tmp_path) == tmp_path / "16" / "bin"


def test_without_postgresql_the_tests_are_told_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="postgresql-15"):
        start_cluster("gw0", installed=tmp_path)


def test_a_dead_test_process_s_cluster_folder_is_removed(tmp_path: Path) -> None:
    dead = _pid_of_an_exited_process()
    for name, owner in [("lantoa-pg-gw0-dead", dead), ("lantoa-pg-gw1-alive", os.getpid())]:
        (tmp_path / name).mkdir()
        (tmp_path / name / OWNER_FILE).write_text(str(owner))
    remove_abandoned(Path("/nonexistent"), tmp_path)  # no server ran there: nothing to stop
    assert [p.name for p in tmp_path.iterdir()] == ["lantoa-pg-gw1-alive"]


def _pid_of_an_exited_process() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid

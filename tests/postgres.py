"""A throwaway PostgreSQL cluster for the tests: one per pytest process (so one per xdist
worker), in a temporary folder, reachable only through a Unix socket in that folder.

The server refuses to run as root, so when the tests run as root `initdb`, `pg_ctl` and the
server run as an unprivileged system user (`postgres` where the Debian package made it, else
`nobody`) that owns the folder; the tests stay root and connect over the socket as the
cluster's superuser role (`initdb -U`), trusted on the socket. Each test that asks gets a
database of its own, copied from a template (`CREATE DATABASE … TEMPLATE`; the next copy is
made ahead while a test runs), dropped after.
The driver chosen for the backend, and why: storage/POSTGRES.md.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from urllib.parse import quote

import psycopg

ROLE = "lantoa"
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")
FOLDER_PREFIX = "lantoa-pg-"
OWNER_FILE = "owner.pid"  # the test process whose cluster this folder holds
TEMPLATE = "lantoa_template"  # empty
MIGRATED = "lantoa_migrated"  # at the current schema (tests/conftest.py migrates it)
INSTALL_HINT = ("PostgreSQL's server programs are missing (no /usr/lib/postgresql/*/bin/initdb): "
                "install the Debian package postgresql-15 (`apt-get install postgresql`)")
# Speed over durability: a test's cluster never has to survive a crash of the machine.
SETTINGS = {
    "listen_addresses": "''",  # no TCP at all: the socket in the cluster's folder only
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "autovacuum": "off",
    "shared_buffers": "16MB",  # several workers' clusters share the machine's memory
    "max_connections": "60",
    "log_min_messages": "warning",
}


def server_programs(installed: Path = DEBIAN_PROGRAMS) -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout: 9.6/bin, 15/bin), if any."""
    found = [path.parent for path in installed.glob("*/bin/initdb")]
    versions = [(tuple(int(part) for part in path.parent.name.split(".")), path)
                for path in found if re.fullmatch(r"\d+(\.\d+)?", path.parent.name)]
    return max(versions)[1] if versions else None


def remove_abandoned(bin_dir: Path, temp: Path) -> None:
    """Stops and removes the clusters of test processes that died without their teardown (a
    worker killed mid-run): their servers would otherwise run on, unseen, until reboot."""
    for folder in temp.glob(f"{FOLDER_PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
            os.kill(owner, 0)
        except (FileNotFoundError, ValueError, PermissionError):
            continue  # being made right now, or not ours to judge
        except ProcessLookupError:
            claimed = folder.with_name(f"removing-{folder.name}")
            try:
                folder.rename(claimed)  # only one of the workers starting together gets it
            except FileNotFoundError:
                continue
            Cluster(bin_dir, claimed, 0, _unprivileged_user()).stop()


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Whom the server runs as: None (the current user) unless the tests run as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a `postgres` nor a `nobody` user exists "
                       "to run the PostgreSQL server as")


def _free_port() -> int:
    """A TCP port nobody listens on now: the socket file is named after it, and the test that
    the cluster is not on TCP then tries it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    bin_dir: Path
    folder: Path
    port: int
    user: pwd.struct_passwd | None
    _admin: psycopg.Connection | None = None
    _names: count[int] = field(default_factory=count)
    _maker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    _next: dict[str, Future[str]] = field(default_factory=dict)  # made ahead, per template

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str) -> str:
        """The libpq URL of a database, Unix-socket form."""
        return (f"postgresql://{ROLE}@/{database}"
                f"?host={quote(str(self.folder), safe='/')}&port={self.port}")

    def _run(self, program: str, *args: str) -> None:
        user = self.user
        done = subprocess.run([str(self.bin_dir / program), *args], cwd=self.folder,
                              env={"PATH": os.defpath, "LC_ALL": "C", "HOME": str(self.folder)},
                              capture_output=True, text=True, check=False,
                              user=None if user is None else user.pw_uid,
                              group=None if user is None else user.pw_gid,
                              extra_groups=None if user is None else [])
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed:\n{done.stdout}{done.stderr}{tail}")

    def start(self) -> None:
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", ROLE, "--auth=trust", "--no-sync",
                  "--no-instructions", "-E", "UTF8", "--locale=C")
        self.start_server()
        assert self._admin is not None
        for template in (TEMPLATE, MIGRATED):
            self._admin.execute(f"CREATE DATABASE {template}")

    def start_server(self) -> None:
        """Starts the server of the cluster made by `start` (again, after `stop_server`): the
        same settings, folder, socket and port, so the URLs handed out stay good."""
        options = [f"-c {name}={value}" for name, value in SETTINGS.items()]
        options += [f"-c unix_socket_directories={self.folder}", f"-p {self.port}"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", " ".join(options), "-w", "start")
        self._admin = psycopg.connect(self.url("postgres"), autocommit=True)

    def stop_server(self) -> None:
        """Stops the server as an administrator would (`-m fast`: sessions are ended, open
        transactions rolled back, what was committed kept); `start_server` starts it again.
        The copies being made ahead are finished first, and kept."""
        self._maker.submit(lambda: None).result()  # whatever was queued is done
        for made in self._next.values():
            made.result()
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """The server restarted (`pg_ctl restart -m fast` is this stop and start)."""
        self.stop_server()
        self.start_server()

    def stop(self) -> None:
        self._maker.shutdown(wait=True, cancel_futures=True)
        if self._admin is not None:
            self._admin.close()
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, template: str = TEMPLATE) -> str:
        """The name of a fresh database copied from `template`: TEMPLATE (empty), or MIGRATED
        (once migrated, every copy starts at the current schema). A copy takes a tenth of a
        second or more (every catalogue file is copied), so the next one of the same template
        is made meanwhile, while this test runs."""
        made = self._next.pop(template, None) or self._maker.submit(self._copy_template, template)
        self._next[template] = self._maker.submit(self._copy_template, template)
        return made.result()

    def drop_database(self, name: str) -> None:
        self._maker.submit(self._drop, name)

    # Run only in the `_maker` thread: the admin connection is used by one thread at a time.

    def _copy_template(self, template: str) -> str:
        assert self._admin is not None, "the cluster is not started"
        name = f"test_{next(self._names)}"
        self._admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def _drop(self, name: str) -> None:
        assert self._admin is not None, "the cluster is not started"
        self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_cluster(worker: str, installed: Path = DEBIAN_PROGRAMS) -> Cluster:
    """Starts a cluster in a new temporary folder; raises FileNotFoundError(INSTALL_HINT)
    where PostgreSQL is not installed."""
    bin_dir = server_programs(installed)
    if bin_dir is None:
        raise FileNotFoundError(INSTALL_HINT)
    remove_abandoned(bin_dir, Path(tempfile.gettempdir()))
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{worker}-"))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    cluster = Cluster(bin_dir, folder, _free_port(), _unprivileged_user())
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster

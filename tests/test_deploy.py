"""deploy/: the image, the compose file, the systemd units and the nginx snippet (deploy/README.md).

What needs a tool this machine may lack is skipped with a message saying which: the compose
file is started only where a Docker engine answers (`docker info`), nginx's snippet is served
only where nginx is installed. Everything else is read and checked here.
"""

from __future__ import annotations

import asyncio
import fnmatch
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.runtime.config import Settings
from tests.fakebot import FakeBotServer, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
UNITS = DEPLOY / "systemd"
NGINX = DEPLOY / "nginx-webhook.conf"
GUIDE = DEPLOY / "README.md"
VARIABLE = re.compile(r"\bLANTOA_([A-Z][A-Z0-9_]*)\b")
# What the guide must explain (the list of variables).
GUIDED = {"BOT_TOKEN", "DATABASE", "ROOT_UNIT", "WEBHOOK_URL", "WEBHOOK_SECRET", "HTTP_LISTEN",
          "METRICS", "LEASE_SECONDS", "BOT_API_URL"}
TOKEN = "123456:TEST-token"


# --- the settings the deployment files name ---------------------------------------------------

def _deployment_files() -> list[Path]:
    return [path for path in DEPLOY.rglob("*") if path.is_file()]


def test_every_lantoa_variable_the_deployment_names_is_a_setting() -> None:
    named = {(path.name, name) for path in _deployment_files()
             for name in VARIABLE.findall(path.read_text(encoding="utf-8"))}
    assert named
    # LANTOA_CONFIG names the file, read before Settings.
    unknown = sorted((file, name) for file, name in named
                     if name.lower() not in Settings.model_fields and name != "CONFIG")
    assert unknown == [], "not a setting of bot/runtime/config.py's Settings"


def test_the_guide_explains_every_variable_an_office_sets() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    table = {name for line in guide.splitlines() if line.startswith("| `LANTOA_")
             for name in VARIABLE.findall(line.split("|")[1])}
    assert table >= GUIDED, sorted(GUIDED - table)


def test_the_main_readme_links_the_guide() -> None:
    assert "(deploy/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- the Dockerfile ---------------------------------------------------------------------------

def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments left out)."""
    logical, lines = [], DOCKERFILE.read_text(encoding="utf-8").splitlines()
    current = ""
    for line in lines:
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def test_the_image_runs_lantoa_run_as_a_user_that_is_not_root() -> None:
    instructions = _instructions()
    users = [argument for keyword, argument in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    final = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    assert any(keyword == "USER" for keyword, _ in instructions[final:]), "the last stage's"
    said = dict(instructions[final:])
    assert json.loads(said["ENTRYPOINT"]) == ["lantoa"]
    assert json.loads(said["CMD"]) == ["run"]
    assert dict(instructions)["ARG"] == "PYTHON_IMAGE=python:3.11-slim-bookworm"
    assert said["FROM"] == "${PYTHON_IMAGE}"
    runs = " ".join(argument for keyword, argument in instructions if keyword == "RUN")
    assert "postgresql-client-15" in runs and "pip install ." in runs


def _healthcheck() -> list[str]:
    argument = dict(_instructions())["HEALTHCHECK"]
    command: list[str] = json.loads(argument.split(" CMD ", 1)[1])
    return command


@dataclass
class Backend:
    """A stand-in for one `lantoa run`'s HTTP server, on 127.0.0.1: every request (the
    webhook, /healthz) is answered `status`, and kept."""

    status: int
    seen: list[tuple[str, str, bytes, str | None]] = field(default_factory=list)

    @contextmanager
    def serving(self) -> Iterator[int]:
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
                backend.seen.append((self.command, self.path, body, secret))
                self.send_response(backend.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _answer  # http.server's names

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            server.server_close()


def _health_exit(listen: str) -> int:
    command = _healthcheck()
    assert command[0] == "python"  # the image's own, on PATH
    env = {"PATH": os.environ["PATH"], "LANTOA_HTTP_LISTEN": listen}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True,
                          timeout=30).returncode


def test_the_healthcheck_is_healthy_only_while_healthz_answers_200() -> None:
    with Backend(200).serving() as port:
        assert _health_exit(f"0.0.0.0:{port}") == 0
    with Backend(503).serving() as port:
        assert _health_exit(f"0.0.0.0:{port}") != 0
    assert _health_exit(f"0.0.0.0:{port}") != 0  # nothing listens any more


def _ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves the file out of the build context: the last pattern that
    matches the path or one of its folders decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    left_out = False
    for pattern in patterns:
        wanted = pattern.removeprefix("!")
        if any(fnmatch.fnmatchcase(prefix, wanted) for prefix in prefixes):
            left_out = not pattern.startswith("!")
    return left_out


def test_the_build_context_holds_the_package_and_nothing_else() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    sent = {path for path in tracked if not _ignored(path, patterns)}
    copied = [argument.split()[:-1] for keyword, argument in _instructions()
              if keyword == "COPY" and not argument.startswith("--from")]
    for sources in copied:
        for source in sources:
            assert any(path == source or path.startswith(source + "/") for path in sent), source
    assert {"bot/runtime/cli.py", "bot/ui/texts/vi/cli.toml", "bot/ui/templates/report_doc.docx",
            "storage/migrations/postgresql/0010_schema.sql", "config.toml"} <= sent
    assert not {path for path in sent if path.startswith(("tests/", "bench/", "deploy/"))}
    assert _ignored("bot/__pycache__/cli.cpython-311.pyc", patterns)
    assert _ignored("data/lantoa.sqlite3", patterns) and _ignored(".git/HEAD", patterns)


# --- the compose file -------------------------------------------------------------------------

def test_the_compose_file_runs_postgresql_the_bot_and_a_standby_on_one_database() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: compose.yaml not parsed")
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "init", "bot", "standby", "backup"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    bot, standby = services["bot"], services["standby"]
    for key in ("image", "env_file", "environment", "build"):
        assert bot[key] == standby[key] == services["init"][key], key
    assert bot["environment"]["LANTOA_DATABASE"].startswith("postgresql://")
    assert bot["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    assert services["init"]["command"] == ["init"]
    assert services["backup"]["profiles"] == ["tools"]  # not started by `up`
    assert "${POSTGRES_PASSWORD" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_no_secret_is_committed() -> None:
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    token = re.search(r"^LANTOA_BOT_TOKEN=(.*)$", example, re.MULTILINE)
    assert token and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{35}", token.group(1))
    ignored = subprocess.run(["git", "check-ignore", "deploy/.env", "deploy/backups/x.dump"],
                             cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == ["deploy/.env", "deploy/backups/x.dump"]


def _docker_engine() -> str | None:
    """Why the compose file cannot be started here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker command on this machine"
    for command in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            said = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` did not answer"
        if said.returncode != 0:
            lines = (said.stderr or said.stdout).strip().splitlines() or ["?"]
            return f"`{' '.join(command)}` failed: {lines[-1]}"
    return None


@dataclass
class Compose:
    """`docker compose` on a project of this test's own, with its env file and override."""

    project: str
    files: list[Path]
    env_file: Path
    said: list[str] = field(default_factory=list)

    async def __call__(self, *args: str, timeout: float = 300) -> tuple[int, str]:
        command = ["docker", "compose", "--project-name", self.project,
                   "--env-file", str(self.env_file)]
        for file in self.files:
            command += ["-f", str(file)]
        process = await asyncio.create_subprocess_exec(
            *command, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        text = out.decode(errors="replace")
        self.said.append(f"$ docker compose {' '.join(args)} -> {process.returncode}\n{text}")
        assert process.returncode is not None
        return process.returncode, text

    async def health(self, service: str) -> str:
        code, container = await self("ps", "-q", service)
        if code != 0 or not container.strip():
            return "absent"
        process = await asyncio.create_subprocess_exec(
            "docker", "inspect", "--format", "{{.State.Health.Status}}", container.strip(),
            stdout=asyncio.subprocess.PIPE)
        out, _ = await process.communicate()
        return out.decode().strip()


async def _healthy(compose: Compose, services: tuple[str, ...], timeout: float) -> None:
    """Until every service's healthcheck says healthy (Docker runs them on its own clock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        states = {service: await compose.health(service) for service in services}
        if all(state == "healthy" for state in states.values()):
            return
        assert loop.time() < deadline, f"not healthy: {states}\n" + "\n".join(compose.said[-3:])
        await asyncio.sleep(1)


async def test_the_compose_file_starts_answers_and_backs_up(tmp_path: Path) -> None:
    why_not = _docker_engine()
    if why_not is not None:
        pytest.skip(f"compose.yaml not started: {why_not} (it needs a Docker engine)")
    fake = FakeTelegram()
    async with FakeBotServer(fake, TOKEN, host="0.0.0.0") as server:
        backups = tmp_path / "backups"
        backups.mkdir(mode=0o777)
        backups.chmod(0o777)  # the image's user (uid 10001) writes there
        env_file = tmp_path / "test.env"
        env_file.write_text("\n".join([
            f"LANTOA_BOT_TOKEN={TOKEN}", f"POSTGRES_PASSWORD={secrets.token_hex(16)}",
            f"LANTOA_BOT_API_URL=http://host.docker.internal:{urlsplit(server.url).port}",
            "LANTOA_POLL_TIMEOUT=1", f"ENV_FILE={env_file}", f"BACKUP_DIR={backups}", ""]))
        override = tmp_path / "override.yaml"
        override.write_text("services:\n" + "".join(
            f"  {name}:\n    extra_hosts: [\"host.docker.internal:host-gateway\"]\n"
            for name in ("init", "bot", "standby", "backup")))
        compose = Compose(f"lantoa-test-{os.getpid()}", [COMPOSE, override], env_file)
        try:
            code, _ = await compose("up", "--detach", "--build", timeout=1800)
            assert code == 0, compose.said[-1]
            await _healthy(compose, ("postgres", "bot", "standby"), timeout=240)
            fake.add_user(1001, "Lan")
            fake.send_text(1001, "/start")
            await fake.wait_for(lambda telegram: bool(telegram.messages(1001)), timeout=60)
            code, said = await compose("exec", "-T", "bot", "lantoa", "check")
            assert code == 0, said
            code, said = await compose("run", "--rm", "-T", "backup")
            assert code == 0, said
            assert [path.suffix for path in backups.iterdir()] == [".dump"], said
        finally:
            await compose("logs", "--no-color", "--tail", "200")
            await compose("down", "--volumes", "--remove-orphans", timeout=300)
            print("\n".join(compose.said))


# --- the systemd units ------------------------------------------------------------------------

HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
             "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
             "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "CapabilityBoundingSet=",
             "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
             "SystemCallFilter=@system-service", "User=lantoa")


def test_every_service_of_a_bot_shares_one_user_and_sandbox() -> None:
    shared = (UNITS / "lantoa-.service.d" / "lantoa.conf").read_text(encoding="utf-8")
    lines = set(shared.splitlines())
    assert set(HARDENING) <= lines, sorted(set(HARDENING) - lines)
    assert "EnvironmentFile=/etc/lantoa/%i.env" in lines
    # systemd applies lantoa-.service.d/ to every unit named lantoa-….service.
    services = sorted(path.name for path in UNITS.glob("*.service"))
    assert services == ["lantoa-backup@.service", "lantoa-bot@.service"]
    bot = (UNITS / "lantoa-bot@.service").read_text(encoding="utf-8").splitlines()
    assert "Restart=always" in bot and any(line.startswith("RestartSec=") for line in bot)


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """A copy of deploy/systemd whose programs exist on this machine: `verify` checks that
    each ExecStart's program is there (/opt/lantoa/venv/bin/lantoa on a server)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed: the units are not verified")
    program = tmp_path / "bin" / "lantoa"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    copy = tmp_path / "units"
    shutil.copytree(UNITS, copy)
    for unit in copy.rglob("*.service"):
        text = unit.read_text(encoding="utf-8")
        assert "/opt/lantoa/venv/bin/lantoa " in text
        unit.write_text(text.replace("/opt/lantoa/venv/bin/lantoa ", f"{program} "))
    return copy


def _analyze(units: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The copy first on the unit path, then the machine's own (for the targets named).
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:"}
    return subprocess.run(["systemd-analyze", *args], cwd=units, env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_units_pass_systemd_analyze_verify(units: Path) -> None:
    said = _analyze(units, "verify", "lantoa-bot@tinh.service", "lantoa-backup@tinh.service",
                    "lantoa-backup@tinh.timer")
    ours = [line for line in said.stderr.splitlines() if "lantoa" in line]
    assert (said.returncode, ours) == (0, []), said.stderr


def test_the_sandbox_applies_to_both_services(units: Path) -> None:
    for unit in ("lantoa-bot@tinh.service", "lantoa-backup@tinh.service"):
        said = _analyze(units, "security", "--offline=true", "--no-pager", unit)
        if "--offline" in said.stderr and said.returncode != 0:
            pytest.skip("this systemd-analyze has no `security --offline`")
        level = re.search(r"Overall exposure level for \S+: ([\d.]+)", said.stdout)
        assert level, said.stdout + said.stderr
        # Measured 1.4 ("OK"); without the drop-in a service scores 9.6 ("UNSAFE").
        assert float(level.group(1)) <= 2.0, said.stdout


# --- the nginx snippet ------------------------------------------------------------------------

WEBHOOK_PATH = "/telegram/lantoa"


def _snippet(upstreams: tuple[int, int], port: int, folder: Path, local_allowed: bool) -> str:
    """deploy/nginx-webhook.conf on this machine's ports and a throwaway certificate; with
    `local_allowed` this machine counts as Telegram. Every line replaced must be there."""
    text = NGINX.read_text(encoding="utf-8")
    changes = [("server 127.0.0.1:8081 ", f"server 127.0.0.1:{upstreams[0]} "),
               ("server 127.0.0.1:8082 ", f"server 127.0.0.1:{upstreams[1]} "),
               ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
               ("listen [::]:443 ssl;", "#"),
               ("/etc/letsencrypt/live/bot.example.gov.vn/fullchain.pem", str(folder / "c.pem")),
               ("/etc/letsencrypt/live/bot.example.gov.vn/privkey.pem", str(folder / "k.pem"))]
    if local_allowed:
        changes.append(("deny all;", "allow 127.0.0.1;\n        deny all;"))
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@contextmanager
def _nginx(folder: Path, upstreams: tuple[int, int], local_allowed: bool = True) -> Iterator[int]:
    """nginx serving the snippet (`_snippet`) from `folder`, until the block ends: its port."""
    port = _free_port()
    (folder / "lantoa.conf").write_text(_snippet(upstreams, port, folder, local_allowed))
    temp = "".join(f"{kind}_temp_path {folder}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        + f"http {{\naccess_log off;\n{temp}include {folder}/lantoa.conf;\n}}\n")
    command = ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"])
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(500):
        assert process.poll() is None, "nginx stopped"
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError(f"nginx does not listen on {port}")


def _request(port: int, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> int:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


def _free_port() -> int:
    with http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler) as s:
        return s.server_address[1]


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl is not installed: nginx-webhook.conf is not served")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem")], capture_output=True, check=True, timeout=60)
    return tmp_path


def test_nginx_passes_telegram_updates_to_the_active_process_past_the_standby(
        certificate: Path) -> None:
    active, standby = Backend(200), Backend(503)
    with standby.serving() as first, active.serving() as second, \
            _nginx(certificate, (first, second)) as port:
        updates = [json.dumps({"update_id": n}).encode() for n in range(6)]
        answers = [_request(port, "POST", WEBHOOK_PATH, update,
                            {"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"})
                   for update in updates]
        assert answers == [200] * 6
        assert [body for _, _, body, _ in active.seen] == updates
        assert {secret for *_, secret in active.seen} == {"s3cr3t"}
        assert standby.seen, "round robin never tried the standby first"
        # Not for the internet: the bot's other routes, and bodies above any update.
        assert _request(port, "GET", "/healthz") == 404
        assert _request(port, "GET", "/metrics") == 404
        assert _request(port, "POST", WEBHOOK_PATH, b"x" * (2 * 1024 * 1024)) == 413
        assert len(active.seen) == 6 and all(method == "POST" for method, *_ in active.seen)


def test_nginx_passes_updates_on_when_a_process_is_down(certificate: Path) -> None:
    active, down = Backend(200), _free_port()  # nothing listens on `down`: a stopped process
    with active.serving() as alive, _nginx(certificate, (down, alive)) as port:
        assert [_request(port, "POST", WEBHOOK_PATH, b"{}") for _ in range(4)] == [200] * 4
        assert len(active.seen) == 4


def test_nginx_refuses_whoever_is_not_telegram(certificate: Path) -> None:
    active = Backend(200)
    with active.serving() as alive, \
            _nginx(certificate, (alive, alive), local_allowed=False) as port:
        assert _request(port, "POST", WEBHOOK_PATH, b"{}") == 403
        assert active.seen == []

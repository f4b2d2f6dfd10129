"""Updates through the webhook (`lantoa run --webhook`): the fake Telegram POSTs them to the
bot's own HTTP server, which stores each in the inbox before answering 200. Requests that are
not Telegram's (a wrong secret, a body that is no update, a huge one) are refused and store
nothing; an update sent twice is answered once; a process that is not the active one answers
503; switching between polling and the webhook works both ways. /healthz and /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.runtime.app import ServeFailure, serve
from bot.runtime.cli import main
from bot.runtime.config import Settings
from bot.runtime.intake import ALLOWED_UPDATES
from bot.runtime.webhook import MAX_BODY, SECRET_HEADER, HttpServer
from storage import inbox
from storage.db import DatabaseUnavailable
from storage.deliveries import Status
from storage.schedules import ScheduleKind
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.harness import TOKEN, Harness, migrated_database, started
from tests.test_end_to_end import (
    _admin,
    _expect,
    _last_text,
    _step,
    _tap,
    bot_environment,
    bot_process,
)
from tests.test_schedules_due import (
    GROUP,
    MONDAY_0730,
    cell_with_group,
    ledger,
    row_of,
    run_job,
)

MAI = 1001
SECRET = "bi-mat_Lan-Toa_2026"
PATH = "/telegram/lantoa"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_settings(port: int) -> dict[str, Any]:
    return {"http_listen": f"127.0.0.1:{port}", "webhook_url": f"http://127.0.0.1:{port}{PATH}",
            "webhook_secret": SECRET, "metrics": True}


@asynccontextmanager
async def hooked(tmp_path: Path, fake: FakeTelegram | None = None) -> AsyncIterator[Harness]:
    fake = fake or FakeTelegram()
    if MAI not in fake.users:
        fake.add_user(MAI, "Mai")
    port = free_port()
    async with started(tmp_path, fake, webhook=True, **webhook_settings(port)) as bot:
        yield bot


@pytest.fixture
async def hook(tmp_path: Path) -> AsyncIterator[Harness]:
    async with hooked(tmp_path) as bot:
        yield bot


def url(bot: Harness, path: str = PATH) -> str:
    return f"http://{bot.core.services.settings.http_listen}{path}"


async def post(bot: Harness, body: bytes | str, secret: str | None = SECRET,
               **headers: str) -> int:
    sent = {SECRET_HEADER: secret} if secret is not None else {}
    async with httpx.AsyncClient() as client:
        answer = await client.post(url(bot), content=body, headers={**sent, **headers})
    return answer.status_code


def start_update(update_id: int, user_id: int = MAI) -> str:
    message = {"message_id": update_id, "date": 1_790_000_000, "text": "/start",
               "chat": {"id": user_id, "type": "private", "first_name": "Mai"},
               "from": {"id": user_id, "is_bot": False, "first_name": "Mai"},
               "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
    return json.dumps({"update_id": update_id, "message": message})


async def stored(bot: Harness) -> int:
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT COUNT(*) AS n FROM inbox")
    return int(row["n"]) if row is not None else 0


async def test_a_member_is_answered_through_the_webhook(hook: Harness) -> None:
    [hooked_at] = hook.fake.calls_to("setWebhook")
    assert hooked_at.params["url"] == url(hook)
    assert hooked_at.params["secret_token"] == SECRET
    assert hooked_at.params["allowed_updates"] == ALLOWED_UPDATES
    assert hooked_at.params["max_connections"] == 40
    await hook.member_of_new_cell(MAI)
    seen = await hook.begin_report(MAI, description="Giúp bà con thu hoạch lúa chạy bão")
    assert "form.report.summary_title" in seen.keys
    assert hook.fake.webhook_posts and all(status == 200 for _, status in hook.fake.webhook_posts)
    assert hook.fake.get_updates_calls == [], "no polling while the webhook is set"


@pytest.mark.parametrize("secret", [None, "", "sai-bi-mat", SECRET[:-1], SECRET + "x"])
async def test_a_wrong_or_missing_secret_is_refused_and_not_logged(
        hook: Harness, secret: str | None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert await post(hook, start_update(500), secret) == 403
    assert await stored(hook) == 0 and hook.fake.messages(MAI) == []
    assert "secret" in caplog.text
    assert SECRET not in caplog.text and (not secret or secret not in caplog.text)


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'"update"', b"null",
                                  b'{"message": {}}', b'{"update_id": "7"}',
                                  b'{"update_id": true}', b"\xff\xfe{}"])
async def test_a_body_that_is_no_update_is_refused_and_nothing_stored(
        hook: Harness, body: bytes) -> None:
    assert await post(hook, body) == 400
    assert await stored(hook) == 0


async def test_a_huge_body_is_refused_before_it_is_read(hook: Harness) -> None:
    huge = b'{"update_id": 1, "x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    assert await post(hook, huge) == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read up to the limit
        for _ in range(10):
            yield b"a" * (1024 * 1024)

    async with httpx.AsyncClient() as client:
        answer = await client.post(url(hook), content=chunks(), headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 413
    assert await stored(hook) == 0
    assert await post(hook, start_update(501)) == 200, "the server still serves"
    assert MAX_BODY == 1024 * 1024


async def test_only_post_on_the_webhook_path(hook: Harness) -> None:
    async with httpx.AsyncClient() as client:
        assert (await client.get(url(hook), headers={SECRET_HEADER: SECRET})).status_code == 405
        assert (await client.put(url(hook), content=start_update(502),
                                 headers={SECRET_HEADER: SECRET})).status_code == 405
        answer = await client.post(url(hook, "/elsewhere"), content=start_update(503),
                                   headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 404
    assert await stored(hook) == 0


async def test_an_update_sent_twice_is_stored_once_and_answered_once(hook: Harness) -> None:
    first = await hook.say(MAI, "/start")
    assert first.calls and await stored(hook) == 1
    again = await hook.redeliver(first.update_id)
    assert not again.calls, "nothing said twice"
    assert [status for update_id, status in hook.fake.webhook_posts
            if update_id == first.update_id] == [200, 200]
    assert await stored(hook) == 1


async def test_a_process_that_is_not_active_answers_503_and_gets_the_update_later(
        hook: Harness) -> None:
    hook.health.become("standby", hook.clock.now())
    update_id = hook.fake.send_text(MAI, "/start")
    await hook.fake.wait_for(lambda f: (update_id, 503) in f.webhook_posts)
    assert await stored(hook) == 0 and hook.fake.messages(MAI) == []
    hook.health.become("active", hook.clock.now())
    seen = await hook.after(update_id, len(hook.fake.calls))
    assert seen.calls, "Telegram sent it again, and this time it was answered"


async def test_switching_from_webhook_to_polling_and_back(tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with hooked(tmp_path, fake) as hook:
        assert fake.webhook_url == url(hook)
        assert (await hook.say(MAI, "/start")).calls
    async with started(tmp_path, fake) as polled:
        assert fake.calls_to("deleteWebhook") and fake.webhook_url == ""
        assert (await polled.say(MAI, "/start")).calls
        assert fake.get_updates_calls
    async with hooked(tmp_path, fake) as hook:
        polls = len(fake.get_updates_calls)
        assert fake.webhook_url == url(hook) and fake.webhook_secret == SECRET
        assert (await hook.say(MAI, "/start")).calls
        assert len(fake.get_updates_calls) == polls


async def test_a_polling_bot_serves_healthz_and_metrics_but_no_webhook(tmp_path: Path) -> None:
    port = free_port()
    async with started(tmp_path, http_listen=f"127.0.0.1:{port}", metrics=True) as bot:
        bot.fake.add_user(MAI, "Mai")
        assert (await bot.say(MAI, "/start")).calls and bot.fake.get_updates_calls
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            metrics = await client.get(f"http://127.0.0.1:{port}/metrics")
            webhook = await client.post(f"http://127.0.0.1:{port}{PATH}",
                                        content=start_update(900), headers={SECRET_HEADER: ""})
    assert health.status_code == 200 and health.json()["role"] == "active"
    assert sample(metrics.text, "lantoa_updates_handled_total") == 1
    assert webhook.status_code == 404 and not bot.fake.calls_to("setWebhook")


async def test_the_fake_refuses_polling_while_a_webhook_is_set(hook: Harness) -> None:
    status, body = await hook.fake.call_api("getUpdates", {"timeout": 0})
    assert status == 409 and "webhook is active" in body["description"]


async def test_healthz_tells_the_role_and_the_last_update(hook: Harness) -> None:
    await hook.say(MAI, "/start")
    async with httpx.AsyncClient() as client:
        answer = await client.get(url(hook, "/healthz"))
    assert answer.status_code == 200
    health = answer.json()
    assert health["status"] == "ok" and health["role"] == "active"
    assert health["updates_handled"] == 1 and health["last_update_handled_at"] is not None
    hook.health.become("standby", hook.clock.now())
    async with httpx.AsyncClient() as client:
        assert (await client.get(url(hook, "/healthz"))).json()["role"] == "standby"


class AwayDatabase:
    """A database server that is not there, or that does not answer in time."""

    def __init__(self, hangs: bool) -> None:
        self.hangs = hangs

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        if self.hangs:
            await asyncio.Event().wait()
        raise DatabaseUnavailable("postgresql://lantoa@db/lantoa", "server closed the connection")
        yield


@pytest.mark.parametrize("hangs", [False, True])
async def test_healthz_is_503_when_the_database_does_not_answer(
        hook: Harness, hangs: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    settings = hook.core.services.settings.model_copy(update={"http_listen": f"127.0.0.1:{port}"})
    monkeypatch.setattr("bot.runtime.webhook.DATABASE_WAIT_SECONDS", 0.2)
    server = HttpServer(settings, AwayDatabase(hangs), hook.health,  # type: ignore[arg-type]
                        hook.app.bot_data["lantoa:metrics"], webhook=False)
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/healthz")
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await server.stop()
    assert answer.status_code == 503 and answer.json()["status"] == "unavailable"
    assert scraped.status_code == 200, "the metrics are served all the same"
    assert "lantoa_ledger_backlog 0.0" in scraped.text


def sample(text: str, name: str, **labels: str) -> float:
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                     if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


async def scrape(bot: Harness) -> str:
    async with httpx.AsyncClient() as client:
        answer = await client.get(url(bot, "/metrics"))
    assert answer.status_code == 200
    return answer.text


async def test_metrics_move_with_the_traffic(hook: Harness) -> None:
    before = await scrape(hook)
    assert sample(before, "lantoa_updates_handled_total") == 0
    await hook.member_of_new_cell(MAI)
    hook.fake.fail_next("sendMessage", status=429,
                        description="Too Many Requests: retry after 1", retry_after=1)
    await hook.begin_report(MAI, description="Giúp bà con thu hoạch lúa chạy bão")
    after = await scrape(hook)
    handled = sample(after, "lantoa_updates_handled_total")
    assert handled == hook.health.updates_handled >= 4
    assert sample(after, "lantoa_answer_seconds_count") == handled
    assert sample(after, "lantoa_messages_sent_total", kind="reply") >= 4
    assert sample(after, "lantoa_retry_after_total") == 1
    assert "lantoa_ledger_backlog 0.0" in after
    assert "lantoa_digest_run_seconds_count 0.0" in after


async def test_a_digest_run_is_timed_and_its_messages_counted_by_kind(hook: Harness) -> None:
    tree = await cell_with_group(hook)
    digest = await row_of(hook, tree.cell, ScheduleKind.DIGEST)
    hook.clock.moment = MONDAY_0730
    await run_job(hook, digest.id)
    await hook.deliveries_settled()
    sent = [d for d in await ledger(hook, "digest") if d.status is Status.SENT]
    assert GROUP in {d.chat_id for d in sent}
    metrics = await scrape(hook)
    assert sample(metrics, "lantoa_digest_run_seconds_count") == 1
    assert sample(metrics, "lantoa_messages_sent_total", kind="digest") == len(sent)
    assert sample(metrics, "lantoa_ledger_backlog") == 0


async def test_metrics_are_not_served_unless_asked(tmp_path: Path) -> None:
    port = free_port()
    settings = {**webhook_settings(port), "metrics": False}
    async with started(tmp_path, webhook=True, **settings) as bot, httpx.AsyncClient() as client:
        assert (await client.get(url(bot, "/metrics"))).status_code == 404


async def test_an_update_answered_200_is_in_the_inbox(hook: Harness) -> None:
    assert await post(hook, start_update(777)) == 200
    async with hook.db.transaction() as tx:
        assert 777 in {int(r["update_id"]) for r in await tx.all("SELECT update_id FROM inbox")}
    await hook.app.update_queue.join()
    async with hook.db.transaction() as tx:
        assert await inbox.unhandled_ids(tx) == []


async def test_the_real_program_through_the_webhook_replays_what_a_kill_left(
        tmp_path: Path) -> None:
    """`lantoa run --webhook` against the HTTP fake: a member joins and starts a report; the
    process is killed after it stored an answer (200) and before it replied; the next process
    replies from its inbox, Telegram never sending the answer again."""
    fake = FakeTelegram()
    fake.add_user(MAI, "Mai", "Hoàng Thị")
    async with FakeBotServer(fake, TOKEN) as server:
        port = free_port()
        env = bot_environment(tmp_path, server.url)
        env.update({f"LANTOA_{name.upper()}": str(value)
                    for name, value in webhook_settings(port).items()})
        await _admin(env, "init")
        await _admin(env, "unit", "add", "--name", "Chi bộ Thôn Bản Chặng", "--kind", "chi bộ")
        code = re.search(r"Mã mời: (\S+)", await _admin(env, "invite", "--unit", "1"))
        assert code is not None
        log = tmp_path / "bot.log"
        async with bot_process(env, log, "--webhook") as first:
            await _step(fake, lambda: fake.send_text(MAI, f"/start {code[1]}"), "Họ và tên")
            await _step(fake, lambda: _tap(fake, "✅ Đúng"), "Đã ghi nhận")
            await _step(fake, lambda: fake.send_text(MAI, "/report"), "ngày nào")
            fake.time_out_next("sendMessage", chat_id=MAI)  # its reply hangs: killed meanwhile
            answer = fake.send_text(MAI, "hom qua")
            await fake.wait_for(lambda f: (answer, 200) in f.webhook_posts and any(
                c.error == "timed out" for c in f.calls_to("sendMessage")), timeout=15)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert "lĩnh vực" not in _last_text(fake)
        async with bot_process(env, log, "--webhook") as second:
            await _expect(fake, "lĩnh vực")
            assert [s for u, s in fake.webhook_posts if u == answer] == [200], "not sent again"
            await _step(fake, lambda: fake.send_text(MAI, "moi truong"), "đã làm gì")
            async with httpx.AsyncClient() as client:
                health = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
                metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            # The replayed answer is done (the next one waited for it); the last may be finishing.
            assert health["role"] == "active" and health["updates_handled"] >= 1
            assert sample(metrics, "lantoa_updates_handled_total") >= 1
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), timeout=20) == 0, "a clean stop"
    assert len(fake.calls_to("setWebhook")) == 2 and not fake.calls_to("deleteWebhook")
    assert fake.get_updates_calls == []
    text = log.read_text(encoding="utf-8")
    assert "replaying 1 update(s)" in text
    assert TOKEN not in text and SECRET not in text, "no secret reaches the logs"


WEBHOOK_ENV = {"LANTOA_HTTP_LISTEN": "127.0.0.1:8443", "LANTOA_WEBHOOK_SECRET": SECRET,
               "LANTOA_WEBHOOK_URL": "https://bot.tinh-uy.vn/telegram/lantoa"}


@pytest.mark.parametrize(("env", "named"), [
    ({"LANTOA_HTTP_LISTEN": None}, "LANTOA_HTTP_LISTEN"),
    ({"LANTOA_WEBHOOK_URL": None}, "LANTOA_WEBHOOK_URL"),
    ({"LANTOA_WEBHOOK_SECRET": None}, "LANTOA_WEBHOOK_SECRET"),
    ({"LANTOA_WEBHOOK_SECRET": "khoá#riêng-tư"}, "LANTOA_WEBHOOK_SECRET"),
    ({"LANTOA_WEBHOOK_SECRET": "x" * 257}, "LANTOA_WEBHOOK_SECRET"),
    ({"LANTOA_HTTP_LISTEN": "8080"}, "LANTOA_HTTP_LISTEN"),
    ({"LANTOA_HTTP_LISTEN": "0.0.0.0:99999"}, "LANTOA_HTTP_LISTEN"),
    ({"LANTOA_HTTP_LISTEN": "localhost:http"}, "LANTOA_HTTP_LISTEN"),
    ({"LANTOA_WEBHOOK_URL": "bot.tinh-uy.vn/telegram"}, "LANTOA_WEBHOOK_URL"),
])
def test_run_webhook_refuses_missing_or_wrong_settings_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        env: dict[str, str | None], named: str) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml
    for variable in [v for v in os.environ if v.startswith("LANTOA_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("LANTOA_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LANTOA_DATABASE", str(tmp_path / "lantoa.sqlite3"))
    for variable, value in {**WEBHOOK_ENV, **env}.items():
        if value is not None:
            monkeypatch.setenv(variable, value)
    assert main(["run", "--webhook"]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"lantoa: {named}") and captured.out == ""
    assert SECRET not in line and "khoá#" not in line and "x" * 20 not in line
    assert not (tmp_path / "lantoa.sqlite3").exists(), "refused before anything was opened"


async def test_a_taken_port_is_said_in_one_line(tmp_path: Path) -> None:
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings = Settings(database=tmp_path / "lantoa.sqlite3", **webhook_settings(port))
        try:
            with pytest.raises(ServeFailure) as refused:
                await serve(settings, TOKEN, db, webhook=True)
        finally:
            await db.close()
    assert refused.value.key == "cli.http_listen_failed"
    assert refused.value.params["listen"] == f"127.0.0.1:{port}"

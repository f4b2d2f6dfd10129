"""A photo's acknowledgement ("Đã nhận N ảnh") waits for the rest of the album in a job in
memory; a process that dies before the job runs must still owe it after the restart
(issue 5, crash-restart: a photo sent six times over 40 s was never acknowledged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.forms.engine import DraftState
from handlers import forms
from storage import drafts
from tests.fakebot import FakeTelegram
from tests.harness import Harness, started

MAI = 1001


async def _at_the_photo_step(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI, description="Dọn vệ sinh đường làng cùng đoàn thanh niên")
    await bot.tap(MAI, "➕ Thêm chi tiết")
    await bot.skip_details(MAI, until="photos")


def _acknowledgements(fake: FakeTelegram) -> list[str]:
    return [m["text"] for m in fake.messages(MAI) if "ảnh (tối đa" in m.get("text", "")]


def _telegram_after_a_restart() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_user(MAI, "Mai")
    fake.continue_update_ids_from(9000)
    return fake


async def _owed(bot: Harness) -> bool:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None
    return DraftState.model_validate(draft.state).photos_unacknowledged


async def test_a_photo_taken_just_before_a_crash_is_acknowledged_after_the_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with started(tmp_path) as before:
        await _at_the_photo_step(before)
        # The process dies before the album's quiet time is over: its job never runs.
        with monkeypatch.context() as patched:
            patched.setattr(forms, "_acknowledge_album_later", lambda *_: None)
            await before.send(MAI, "photo", file_id="photo-1")
        assert _acknowledgements(before.fake) == []
        assert await _owed(before), "the draft remembers the acknowledgement it owes"
    async with started(tmp_path, _telegram_after_a_restart()) as after:
        await after.photos_acknowledged(MAI, 1)
        assert "Xong" in after.buttons(MAI)
        assert not await _owed(after), "owed no more: the next start says nothing"


async def test_an_album_acknowledged_in_time_owes_nothing(bot: Harness) -> None:
    await _at_the_photo_step(bot)
    bot.fake.send_photo(MAI, media_group_id="album")
    bot.fake.send_photo(MAI, media_group_id="album")
    await bot.photos_acknowledged(MAI, 2)
    assert not await _owed(bot)
    assert len(_acknowledgements(bot.fake)) == 1

"""What keeps a form step cheap (benchmark 2 of issue 5) must not change what people see: the
statements run in one trip to the database thread, the menu is not looked at on every update,
and a cell's member list is read again as soon as someone joins."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows import command_menus
from bot.flows.command_menus import LEADER, MenuChecks
from storage.db import Database
from tests.harness import Harness

MAI, SON = 3101, 3102


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "db.sqlite3")
    async with database.transaction() as tx:
        await tx.run("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    yield database  # type: ignore[misc]
    await database.close()


async def test_one_all_and_run_answer_as_before(db: Database) -> None:
    async with db.transaction() as tx:
        first = await tx.run("INSERT INTO notes (body) VALUES (?)", ("a",))
        second = await tx.run("INSERT INTO notes (body) VALUES (?)", ("b",))
        assert (first, second) == (1, 2)
        assert await tx.run("UPDATE notes SET body = 'c'") == 2
        assert await tx.run("DELETE FROM notes WHERE id = 99") == 0
        row = await tx.one("SELECT body FROM notes ORDER BY id")
        assert row is not None and row["body"] == "c"
        assert await tx.one("SELECT body FROM notes WHERE id = 99") is None
        assert [r["id"] for r in await tx.all("SELECT id FROM notes ORDER BY id")] == [1, 2]


async def test_version_grows_with_committed_changes_only(db: Database) -> None:
    start = db.version("notes")
    async with db.transaction() as tx:
        await tx.all("SELECT * FROM notes")
        await tx.run("UPDATE notes SET body = 'x' WHERE id = 1")  # no such row: no change
    assert db.version("notes") == start
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.run("INSERT INTO notes (body) VALUES ('lost')")
            raise RuntimeError("rolled back")
    assert db.version("notes") == start
    async with db.transaction() as tx:
        await tx.run("INSERT INTO notes (body) VALUES ('kept')")
        assert db.version("notes") == start, "not before the commit"
    assert db.version("notes") == start + 1
    async with db.transaction() as tx:
        await tx.all("DELETE FROM notes RETURNING id")
    assert db.version("notes") == start + 2
    assert db.version("people") == 0


async def test_a_menu_is_looked_at_again_only_after_a_change(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    services = bot.core.services
    looks = []
    look = command_menus.menu_change_for

    async def counted(*args: object) -> command_menus.CommandMenu | None:
        looks.append(args)
        return await look(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(command_menus, "menu_change_for", counted)
    checks = MenuChecks()
    assert await checks.change_for(services, MAI) is None
    assert await checks.change_for(services, MAI) is None
    assert len(looks) == 1
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET role = 'leader' WHERE role = 'member'")
    change = await checks.change_for(services, MAI)
    assert change is not None and change.commands is not None
    assert [c for c, _ in change.commands] == list(LEADER)


async def test_someone_joining_mid_form_is_offered_as_co_participant(bot: Harness) -> None:
    cell = await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI)
    await bot.join(SON, cell, "Sơn")
    await bot.say(MAI, "Dọn vệ sinh đường làng cùng bà con thôn Bản Chặng")
    together = await bot.tap(MAI, "➕ Thêm chi tiết")
    assert together.shows("form.report.participant_ids.prompt")
    assert any("Sơn" in label for label in bot.buttons(MAI))

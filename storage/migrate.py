"""Numbered migrations (`migrations/NNNN_name.sql`), tracked in PRAGMA user_version."""

from __future__ import annotations

from importlib import resources

import aiosqlite


def migration_scripts() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(conn: aiosqlite.Connection) -> int:
    """Brings the schema up to date, each migration in its own transaction; returns the version."""
    current = await schema_version(conn)
    for number, script in migration_scripts():
        if number <= current:
            continue
        try:
            await conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        current = number
    return current

"""The queries behind every figure. bot/rules/counting.py says which to use when (the counting
rules); this module only knows how to ask. Withdrawn reports never count.

Figures of several units are asked at once: `tree(id, root)` pairs every unit of each root's
subtree with that root, and each query groups by root, so a unit and all its children cost the
same few queries as one unit, whatever the number of reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.clock import to_db
from storage.db import Tx, placeholders

# A report is in a period either by when it was received (digests, reminders) or by the day
# the deed happened (/stats, exports): the two ways to bound it.
RECEIVED_WITHIN = "r.received_at >= ? AND r.received_at < ?"
DONE_WITHIN = "r.deed_date >= ? AND r.deed_date <= ?"
COUNTED = "r.state != 'withdrawn'"
# "Chờ ghi nhận" means one thing in /review, the digests, /stats and the leaders' notices: a
# report in state pending, waiting for a leader. One sent back for more (needs_more, "cần bổ
# sung") waits for its author and is counted apart (SENT_BACK).
WAITING = "pending"
SENT_BACK = "needs_more"
# The membership `m` someone reports in, as bot/flows/reports.py's reporter_for says: their
# member role, or, for a leader who holds none, the first unit they lead.
_REPORTS_THERE = """m.status = 'active'
      AND (m.role = 'member'
           OR m.role = 'leader'
              AND m.id = (SELECT MIN(l.id) FROM memberships l
                          WHERE l.person_id = m.person_id AND l.status = 'active'
                            AND l.role = 'leader')
              AND NOT EXISTS (SELECT 1 FROM memberships o
                              WHERE o.person_id = m.person_id AND o.status = 'active'
                                AND o.role = 'member'))"""
# The people counted in y, with the unit they count in: those who report there and are not
# excused.
EXPECTED = f"""SELECT m.person_id AS person_id, m.unit_id AS unit_id FROM memberships m
    WHERE m.excused = 0 AND {_REPORTS_THERE}"""
# Everyone who reports somewhere, the excused (miễn sinh hoạt) too, with the unit they report in.
REPORTING = f"""SELECT m.person_id AS person_id, m.unit_id AS unit_id, m.excused AS excused
    FROM memberships m WHERE {_REPORTS_THERE}"""
# A model `m` runs in a year (the year is both parameters) when it has started by then and was
# not stopped or completed in an earlier year (the latest status before the year decides, so a
# model taken up again counts again).
RUNS_IN_YEAR = """m.start_year <= ?
    AND COALESCE((SELECT y.status FROM model_years y
                  WHERE y.model_id = m.id AND y.year < ?
                  ORDER BY y.year DESC LIMIT 1), 'in_progress') NOT IN ('stopped', 'completed')"""

# A co-participant is credited where they report, whichever unit the report is of: a commune-wide
# deed is reported once, by one cell, naming the people of the others (bot/flows/reports.py
# partners_of), and each counts in x of their own cell and every unit above it. The report's
# own figures count in the reporting unit's subtree only. `p` is report_participants, `e` the
# REPORTING row of the co-participant.
_NAMED = f"""reports r JOIN report_participants p ON p.report_id = r.id
    JOIN ({REPORTING}) e ON e.person_id = p.person_id"""

Within = tuple[str, tuple[str, str]]
_SUMS = ("total", "acknowledged", "pending", "needs_more", "people_helped", "households_helped",
         "value_vnd", "model_reports", "models_with_reports")


@dataclass(frozen=True, slots=True)
class Tally:
    """What a set of reports adds up to; each report once, however many took part in it.
    Plain values, not a validated model: a province's Monday makes one per unit."""

    total: int = 0
    acknowledged: int = 0
    pending: int = 0
    needs_more: int = 0
    by_field: dict[str, int] = field(default_factory=dict)
    people_helped: int = 0
    households_helped: int = 0
    value_vnd: int = 0
    model_reports: int = 0  # reports made under a model
    models_with_reports: int = 0  # distinct models those reports name

    @property
    def waiting(self) -> int:
        """Chờ ghi nhận: the reports a leader has to acknowledge (WAITING). The reports sent
        back for more (cần bổ sung, `needs_more`) wait for their author, not for a leader,
        and are shown apart."""
        return self.pending


# What a Tally adds up, as SQL over reports `r` (all but the distinct models); its
# parameters, _SUMMED_PARAMS, go where it stands among the query's (SQL is parameterised always).
_SUMMED = """COUNT(*) AS total, COUNT(*) FILTER (WHERE r.state = 'acknowledged') AS acknowledged,
    COUNT(*) FILTER (WHERE r.state = ?) AS pending,
    COUNT(*) FILTER (WHERE r.state = ?) AS needs_more,
    COALESCE(SUM(r.people_helped), 0) AS people_helped,
    COALESCE(SUM(r.households_helped), 0) AS households_helped,
    COALESCE(SUM(r.value_vnd), 0) AS value_vnd, COUNT(r.model_id) AS model_reports"""
_SUMMED_PARAMS = (WAITING, SENT_BACK)


def bounds_received(start: dt.datetime, end: dt.datetime) -> Within:
    return RECEIVED_WITHIN, (to_db(start), to_db(end))


def bounds_done(first: dt.date, last: dt.date) -> Within:
    return DONE_WITHIN, (first.isoformat(), last.isoformat())


def _tree(roots: Sequence[int]) -> str:
    """`tree(id, root)`: each root's subtree, every unit paired with its root. Roots may be
    nested (a unit and its children): a unit then appears once under each of them."""
    return f"""tree(id, root) AS (
                   SELECT id, id FROM units WHERE id IN ({placeholders(roots)})
                   UNION ALL
                   SELECT u.id, tree.root FROM units u JOIN tree ON u.parent_id = tree.id
               )"""


async def participants(tx: Tx, unit_ids: list[int], within: Within) -> set[int]:
    """People who reported in the units, or who report there and were named as co-participants
    (in a report of any unit), within the bounds."""
    if not unit_ids:
        return set()
    condition, params = within
    marks = placeholders(unit_ids)
    rows = await tx.all(
        f"""SELECT r.person_id AS person_id FROM reports r
            WHERE r.unit_id IN ({marks}) AND {COUNTED} AND {condition}
            UNION
            SELECT p.person_id FROM {_NAMED}
            WHERE e.unit_id IN ({marks}) AND {COUNTED} AND {condition}""",
        (*unit_ids, *params, *unit_ids, *params),
    )
    return {int(r["person_id"]) for r in rows}


async def _tallies(tx: Tx, scope: str, scope_params: tuple, within: Within) -> dict[int, Tally]:
    """Tallies per group; `scope` is a WITH clause defining `scope(grp, rid)`: which reports
    (rid, each at most once per group) belong to which group."""
    condition, params = within
    rows = await tx.all(
        f"""{scope}
            SELECT s.grp AS grp, {_SUMMED},
                   COUNT(DISTINCT r.model_id) AS models_with_reports
            FROM scope s JOIN reports r ON r.id = s.rid
            WHERE {COUNTED} AND {condition}
            GROUP BY s.grp""",
        (*scope_params, *_SUMMED_PARAMS, *params),
    )
    fields = await tx.all(
        f"""{scope}
            SELECT s.grp AS grp, r.field AS field, COUNT(*) AS n
            FROM scope s JOIN reports r ON r.id = s.rid
            WHERE {COUNTED} AND {condition}
            GROUP BY s.grp, r.field""",
        (*scope_params, *params),
    )
    by_field: dict[int, dict[str, int]] = defaultdict(dict)
    for row in fields:
        by_field[int(row["grp"])][str(row["field"])] = int(row["n"])
    return {
        int(row["grp"]): Tally(**{k: int(row[k]) for k in _SUMS},
                               by_field=by_field[int(row["grp"])])
        for row in rows
    }


async def tallies_by_root(tx: Tx, roots: list[int], within: Within) -> dict[int, Tally]:
    """The reports of each root's subtree. Roots without reports are left out."""
    if not roots:
        return {}
    scope = f"""WITH RECURSIVE {_tree(roots)},
                scope(grp, rid) AS (SELECT tree.root, r.id FROM reports r
                                    JOIN tree ON r.unit_id = tree.id)"""
    return await _tallies(tx, scope, tuple(roots), within)


async def tally_of_person(tx: Tx, person_id: int, within: Within) -> tuple[Tally, int]:
    """The reports a person wrote or was named in (each once), and how many they wrote."""
    scope = """WITH scope(grp, rid) AS (
                   SELECT 0, id FROM reports WHERE person_id = ?
                   UNION
                   SELECT 0, report_id FROM report_participants WHERE person_id = ?)"""
    found = await _tallies(tx, scope, (person_id, person_id), within)
    condition, params = within
    row = await tx.one(
        f"SELECT COUNT(*) AS n FROM reports r WHERE r.person_id = ? AND {COUNTED} AND {condition}",
        (person_id, *params),
    )
    return found.get(0, Tally()), int(row["n"]) if row else 0


async def participants_by_root(tx: Tx, roots: list[int], within: Within) -> dict[int, set[int]]:
    """Per root: who reported in its subtree, or reports there and was named as a
    co-participant (in a report of any unit)."""
    if not roots:
        return {}
    condition, params = within
    rows = await tx.all(
        f"""WITH RECURSIVE {_tree(roots)}
            SELECT tree.root AS grp, r.person_id AS person_id
            FROM reports r JOIN tree ON r.unit_id = tree.id
            WHERE {COUNTED} AND {condition}
            UNION
            SELECT tree.root, p.person_id FROM {_NAMED} JOIN tree ON e.unit_id = tree.id
            WHERE {COUNTED} AND {condition}""",
        (*roots, *params, *params),
    )
    found: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        found[int(row["grp"])].add(int(row["person_id"]))
    return dict(found)


async def expected_by_root(tx: Tx, roots: list[int]) -> dict[int, set[int]]:
    """Per root: the people who report in its subtree and are not excused (miễn sinh hoạt)."""
    if not roots:
        return {}
    rows = await tx.all(
        f"""WITH RECURSIVE {_tree(roots)}
            SELECT DISTINCT tree.root AS grp, e.person_id AS person_id
            FROM ({EXPECTED}) e JOIN tree ON e.unit_id = tree.id""",
        tuple(roots),
    )
    found: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        found[int(row["grp"])].add(int(row["person_id"]))
    return dict(found)


async def new_models_by_root(tx: Tx, roots: list[int], start: dt.datetime,
                             end: dt.datetime) -> dict[int, int]:
    """Per root: models registered in its subtree in [start, end)."""
    if not roots:
        return {}
    rows = await tx.all(
        f"""WITH RECURSIVE {_tree(roots)}
            SELECT tree.root AS grp, COUNT(*) AS n
            FROM models m JOIN tree ON m.owner_unit_id = tree.id
            WHERE m.created_at >= ? AND m.created_at < ?
            GROUP BY tree.root""",
        (*roots, to_db(start), to_db(end)),
    )
    return {int(r["grp"]): int(r["n"]) for r in rows}


async def models_of_year_by_root(tx: Tx, roots: list[int], year: int
                                 ) -> dict[int, dict[str, int]]:
    """Per root and field: the models its subtree runs in `year` (RUNS_IN_YEAR)."""
    if not roots:
        return {}
    rows = await tx.all(
        f"""WITH RECURSIVE {_tree(roots)}
            SELECT tree.root AS grp, m.field AS field, COUNT(*) AS n
            FROM models m JOIN tree ON m.owner_unit_id = tree.id
            WHERE {RUNS_IN_YEAR}
            GROUP BY tree.root, m.field""",
        (*roots, year, year),
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        found[int(row["grp"])][str(row["field"])] = int(row["n"])
    return dict(found)


async def models_of_year(tx: Tx, root: int, year: int) -> list[int]:
    """The ids of the models `root`'s subtree runs in `year`, the ones counted by
    models_of_year_by_root."""
    rows = await tx.all(
        f"""WITH RECURSIVE {_tree([root])}
            SELECT m.id FROM models m JOIN tree ON m.owner_unit_id = tree.id
            WHERE {RUNS_IN_YEAR} ORDER BY m.id""",
        (root, year, year),
    )
    return [int(r["id"]) for r in rows]


# --- every unit at once ---------------------------------------------------------------------
# The digests of a whole province (thousands of units) are written together on Monday: these
# queries read the period's rows once, grouped by the unit they belong to, and bot/rules/counting.py
# adds each unit's rows into every unit above it. `root` limits them to one unit's subtree;
# None reads every unit (the index on received_at then finds the period's rows).


def scope_of(root: int | None) -> tuple[str, str, tuple]:
    """(WITH clause, condition on `unit`, params) for the units in scope."""
    if root is None:
        return "", "TRUE", ()
    return ("""WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL
                                    SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)""",
            "IN (SELECT id FROM sub)", (root,))


def in_scope(column: str, condition: str) -> str:
    return condition if condition == "TRUE" else f"{column} {condition}"


@dataclass(slots=True)
class UnitSums:
    """One unit's own reports in a period (no units below it): what a Tally adds up (`sums`,
    in OWN_SUMS order), with the models named, so that distinct models can be counted over a
    subtree. Plain values, not a validated model: a province has thousands of these."""

    sums: list[int]
    by_field: dict[str, int] = field(default_factory=dict)
    models: set[int] = field(default_factory=set)


OWN_SUMS = tuple(k for k in _SUMS if k != "models_with_reports")


async def sums_by_unit(tx: Tx, root: int | None, within: Within) -> dict[int, UnitSums]:
    """Each unit's own counted reports within the bounds; units without any left out."""
    condition, params = within
    scope, units_in, scope_params = scope_of(root)
    where = f"{COUNTED} AND {condition} AND {in_scope('r.unit_id', units_in)}"
    rows = await tx.all(
        f"""{scope}
            SELECT r.unit_id AS unit, {_SUMMED}
            FROM reports r WHERE {where} GROUP BY r.unit_id""",
        (*scope_params, *_SUMMED_PARAMS, *params))
    found = {row[0]: UnitSums(sums=list(row[1:])) for row in rows}
    for unit, name, n in await tx.all(
            f"""{scope}
                SELECT r.unit_id AS unit, r.field AS field, COUNT(*) AS n
                FROM reports r WHERE {where} GROUP BY r.unit_id, r.field""",
            (*scope_params, *params)):
        found[unit].by_field[name] = n
    for unit, model in await tx.all(
            f"""{scope}
                SELECT DISTINCT r.unit_id AS unit, r.model_id AS model
                FROM reports r WHERE {where} AND r.model_id IS NOT NULL""",
            (*scope_params, *params)):
        found[unit].models.add(model)
    return found


async def participants_by_unit(tx: Tx, root: int | None, within: Within
                               ) -> list[tuple[int, int]]:
    """(unit, person): who wrote one of the unit's own reports, or reports in the unit and was
    named as a co-participant (in a report of any unit); each pair once."""
    condition, params = within
    scope, units_in, scope_params = scope_of(root)
    where = f"{COUNTED} AND {condition} AND {in_scope('r.unit_id', units_in)}"
    rows = await tx.all(
        f"""{scope}
            SELECT r.unit_id AS unit, r.person_id AS person_id FROM reports r WHERE {where}
            UNION
            SELECT e.unit_id, p.person_id FROM {_NAMED}
            WHERE {COUNTED} AND {condition} AND {in_scope('e.unit_id', units_in)}""",
        (*scope_params, *params, *params))
    return [(row[0], row[1]) for row in rows]


async def counts_by_person(tx: Tx, root: int | None, within: Within
                           ) -> dict[int, tuple[int, int]]:
    """Per person: the reports of the units (in scope) they wrote, and those they were named
    in as a co-participant while reporting in one of the units (a report of any unit), each
    once, and how many of those they wrote. People with none left out."""
    condition, params = within
    scope, units_in, scope_params = scope_of(root)
    where = f"{COUNTED} AND {condition} AND {in_scope('r.unit_id', units_in)}"
    rows = await tx.all(
        f"""{scope}
            SELECT person_id, COUNT(DISTINCT rid) AS total, SUM(authored) AS authored FROM (
                SELECT r.person_id AS person_id, r.id AS rid, 1 AS authored
                FROM reports r WHERE {where}
                UNION
                SELECT p.person_id, r.id, 0 FROM {_NAMED}
                WHERE {COUNTED} AND {condition} AND {in_scope('e.unit_id', units_in)}) credited
            GROUP BY person_id""",
        (*scope_params, *params, *params))
    return {row[0]: (row[1], row[2]) for row in rows}


async def expected_by_unit(tx: Tx, root: int | None) -> list[tuple[int, int]]:
    """(unit, person): the people counted in each unit's own y (not its subtree's); each pair
    once (memberships_live: one membership per person, unit and role)."""
    scope, units_in, scope_params = scope_of(root)
    rows = await tx.all(
        f"""{scope}
            SELECT e.unit_id AS unit, e.person_id AS person_id FROM ({EXPECTED}) e
            WHERE {in_scope('e.unit_id', units_in)}""",
        scope_params)
    return [(row[0], row[1]) for row in rows]


async def new_models_by_unit(tx: Tx, root: int | None, start: dt.datetime,
                             end: dt.datetime) -> list[tuple[int, str]]:
    """(owner unit, name) of the models registered in [start, end), oldest first."""
    scope, units_in, scope_params = scope_of(root)
    rows = await tx.all(
        f"""{scope}
            SELECT m.owner_unit_id AS unit, m.name AS name FROM models m
            WHERE m.created_at >= ? AND m.created_at < ?
              AND {in_scope('m.owner_unit_id', units_in)}
            ORDER BY m.created_at, m.id""",
        (*scope_params, to_db(start), to_db(end)))
    return [(int(r["unit"]), str(r["name"])) for r in rows]

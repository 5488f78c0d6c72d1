"""Object versions and their owners on SQLite: Add Objects, the filtered keyset query, delete.

Must not: touch the hub's other records, or open connections of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..model import AddResult, NewVersion, ObjectFilter, ObjectScope, Page, StoredVersion
from ..timestamps import format_us
from ..timestamps import now_us as wall_clock_us
from .sqlite_connection import SQLiteConnection
from .sqlite_feed_state import content_changed
from .versions import on_whole_ms, same_content

_MEDIA = {"2.1": "application/stix+json;version=2.1", "2.0": "application/stix+json;version=2.0"}


def newest_date_added(conn: sqlite3.Connection, scope: ObjectScope) -> int | None:
    """The largest date_added in the part of a collection `scope` sees (the poll history's and the feed
    validators' question); None when it is empty."""
    sql = "SELECT max(date_added) FROM object_versions WHERE collection_id = ?"
    params: list[object] = [scope.collection_id]
    if scope.owner is not None:
        sql += " AND part = ?"
        params.append(scope.owner)
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else None


class SQLiteObjects(SQLiteConnection):
    def add_versions(
        self,
        scope: ObjectScope,
        writer: str,
        may_supersede: bool,
        versions: Sequence[NewVersion],
        now_us: int,
    ) -> list[AddResult]:
        cid = scope.collection_id
        part = scope.partition_for(writer)
        results: list[AddResult] = []
        with self._write() as conn:
            row = conn.execute("SELECT last_us FROM collection_clock WHERE collection_id=?", (cid,)).fetchone()
            clock = max(now_us, (row[0] + 1) if row else 0)
            start = clock
            last_took_version = False  # whether the last version added took its date_added as its version
            for v in versions:
                # The common case, a new versioned id, costs two statements: claim the id, then insert the
                # version unless that exact version is somehow there already (then the careful path decides).
                if v.version_us is not None and conn.execute(
                    "INSERT INTO object_owner (collection_id, part, id, org_id) VALUES (?,?,?,?) "
                    "ON CONFLICT DO NOTHING",
                    (cid, part, v.id, writer),
                ).rowcount == 1:
                    version = v.version or format_us(v.version_us)
                    if conn.execute(
                        "INSERT INTO object_versions (collection_id, date_added, part, id, type, version,"
                        " version_us, spec_version, added_by, raw) VALUES (?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT DO NOTHING",
                        (cid, clock, part, v.id, v.type, version, v.version_us, v.spec_version, writer, v.raw),
                    ).rowcount == 1:
                        results.append(AddResult(v.id, version, "added"))
                        clock += 1
                        last_took_version = False
                        continue
                owner = conn.execute(
                    "SELECT org_id FROM object_owner WHERE collection_id=? AND part=? AND id=?", (cid, part, v.id)
                ).fetchone()
                if v.version_us is None:
                    existing = conn.execute(
                        "SELECT raw, version FROM object_versions WHERE collection_id=? AND part=? AND id=? "
                        "ORDER BY version_us LIMIT 1",
                        (cid, part, v.id),
                    ).fetchone()
                    version, version_us = format_us(clock), clock
                else:
                    existing = conn.execute(
                        "SELECT raw, version FROM object_versions "
                        "WHERE collection_id=? AND part=? AND id=? AND version_us=?",
                        (cid, part, v.id, v.version_us),
                    ).fetchone()
                    version, version_us = v.version or format_us(v.version_us), v.version_us
                if existing and same_content(bytes(existing[0]), v.raw):
                    results.append(AddResult(v.id, existing[1], "duplicate"))  # the same fact again: no change
                    continue
                if owner and owner[0] != writer and not may_supersede:
                    results.append(AddResult(v.id, v.version or "", "not_owner"))
                    continue
                if existing:
                    results.append(AddResult(v.id, existing[1], "conflict"))
                    continue
                conn.execute(
                    "INSERT INTO object_versions (collection_id, date_added, part, id, type, version, version_us,"
                    " spec_version, added_by, raw) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (cid, clock, part, v.id, v.type, version, version_us, v.spec_version, writer, v.raw),
                )
                if not owner:
                    conn.execute(
                        "INSERT INTO object_owner (collection_id, part, id, org_id) VALUES (?,?,?,?) "
                        "ON CONFLICT DO NOTHING",
                        (cid, part, v.id, writer),
                    )
                results.append(AddResult(v.id, version, "added"))
                clock += 1
                last_took_version = v.version_us is None
            if clock != start:
                last = self._end_on_whole_ms(conn, cid, clock - 1, last_took_version, results)
                conn.execute(
                    "INSERT INTO collection_clock (collection_id, last_us) VALUES (?, ?) "
                    "ON CONFLICT (collection_id) DO UPDATE SET last_us = excluded.last_us",
                    (cid, last),
                )
                content_changed(conn, cid, (part,), last)
        return results

    @staticmethod
    def _end_on_whole_ms(conn: Any, cid: str, last: int, took_version: bool, results: list[AddResult]) -> int:
        """Move the commit's last version up to a whole millisecond (storage/versions.py `on_whole_ms`): it is the
        newest in the collection and the next commit starts after it, so the order is kept."""
        aligned = on_whole_ms(last)
        if aligned == last:
            return last
        if took_version:  # an object without a version has its date_added as version: move both
            conn.execute("UPDATE object_versions SET date_added=?, version_us=?, version=? "
                         "WHERE collection_id=? AND date_added=?", (aligned, aligned, format_us(aligned), cid, last))
            added = [n for n, r in enumerate(results) if r.outcome == "added"][-1]
            results[added] = replace(results[added], version=format_us(aligned))
        else:
            conn.execute("UPDATE object_versions SET date_added=? WHERE collection_id=? AND date_added=?",
                         (aligned, cid, last))
        return aligned

    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        where, params = _predicate("v", scope, flt)
        lower = max(x for x in (after_us, flt.added_after_us, -1) if x is not None)
        sql = (
            "SELECT v.id, v.type, v.version, v.date_added, v.spec_version, v.raw FROM object_versions v "
            f"WHERE v.collection_id=? AND v.date_added > ? AND {where} ORDER BY v.date_added LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(sql, (scope.collection_id, lower, *params, limit + 1)).fetchall()
        items = tuple(
            StoredVersion(r[0], r[1], r[2], r[3], r[4], _MEDIA.get(r[4], _MEDIA["2.1"]), bytes(r[5]))
            for r in rows[:limit]
        )
        return Page(items, more=len(rows) > limit)

    def object_exists(self, scope: ObjectScope, object_id: str) -> bool:
        sql = "SELECT 1 FROM object_versions WHERE collection_id=? AND id=?"
        params: list[Any] = [scope.collection_id, object_id]
        if scope.owner is not None:
            sql += " AND part=?"
            params.append(scope.owner)
        with self._read() as conn:
            return conn.execute(sql + " LIMIT 1", params).fetchone() is not None

    def object_owner(self, scope: ObjectScope, object_id: str) -> str | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT org_id FROM object_owner WHERE collection_id=? AND part=? AND id=?",
                (scope.collection_id, scope.owner or "", object_id),
            ).fetchone()
        return str(row[0]) if row else None

    def first_writers(self, object_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        wanted = sorted(set(object_ids))
        with self._read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                for oid, cid, org in conn.execute(
                    "SELECT id, collection_id, org_id FROM object_owner INDEXED BY object_owner_id "
                    f"WHERE part = '' AND id IN ({','.join('?' * len(chunk))})", chunk,
                ):
                    found.setdefault(str(oid), {})[str(cid)] = str(org)
        return found

    def delete(self, scope: ObjectScope, object_id: str, flt: ObjectFilter) -> int:
        flt = replace(flt, ids=(object_id,), types=())
        where, params = _predicate("v", scope, flt)
        with self._write() as conn:
            doomed = conn.execute(
                f"SELECT v.date_added, v.part FROM object_versions v WHERE v.collection_id=? AND {where}",
                (scope.collection_id, *params),
            ).fetchall()
            conn.executemany(
                "DELETE FROM object_versions WHERE collection_id=? AND date_added=?",
                [(scope.collection_id, d) for d, _ in doomed],
            )
            if doomed:
                content_changed(conn, scope.collection_id, (p for _, p in doomed), wall_clock_us())
            for part in {p for _, p in doomed}:
                left = conn.execute(
                    "SELECT 1 FROM object_versions WHERE collection_id=? AND part=? AND id=? LIMIT 1",
                    (scope.collection_id, part, object_id),
                ).fetchone()
                if not left:
                    conn.execute(
                        "DELETE FROM object_owner WHERE collection_id=? AND part=? AND id=?",
                        (scope.collection_id, part, object_id),
                    )
        return len(doomed)


def _predicate(alias: str, scope: ObjectScope, flt: ObjectFilter) -> tuple[str, list[Any]]:
    """The WHERE clause (without the collection and cursor) for the TAXII filters, version keywords included.

    Plain filters are applied to the candidate row and to every sibling version it is compared with, so that
    'first', 'last' and the default spec version are chosen among the versions that match the rest of the
    request (checklist J13).
    """
    def plain(a: str) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if scope.owner is not None:
            clauses.append(f"{a}.part = ?")
            params.append(scope.owner)
        if flt.added_after_us is not None:
            clauses.append(f"{a}.date_added > ?")
            params.append(flt.added_after_us)
        if flt.ids:
            clauses.append(f"{a}.id IN ({','.join('?' * len(flt.ids))})")
            params.extend(flt.ids)
        if flt.types:
            clauses.append(f"{a}.type IN ({','.join('?' * len(flt.types))})")
            params.extend(flt.types)
        if flt.spec_versions:
            clauses.append(f"{a}.spec_version IN ({','.join('?' * len(flt.spec_versions))})")
            params.extend(flt.spec_versions)
        return clauses, params

    v = alias
    clauses, params = plain(v)

    def sibling(extra: str) -> tuple[str, list[Any]]:
        o_clauses, o_params = plain("o")
        cond = " AND ".join(
            [f"o.collection_id = {v}.collection_id", f"o.part = {v}.part", f"o.id = {v}.id", *o_clauses, extra]
        )
        # INDEXED BY: the planner must not depend on statistics (without ANALYZE it scanned the collection)
        return f"NOT EXISTS (SELECT 1 FROM object_versions o INDEXED BY object_versions_object WHERE {cond})", o_params

    same_spec = ""
    if not flt.spec_versions:
        clause, p = sibling(f"o.spec_version > {v}.spec_version")
        clauses.append(clause)
        params.extend(p)
        same_spec = f" AND o.spec_version = {v}.spec_version"
    if not flt.all_versions:
        wanted: list[str] = []
        if flt.version_instants:
            wanted.append(f"{v}.version_us IN ({','.join('?' * len(flt.version_instants))})")
            params.extend(flt.version_instants)
        for keyword, op in (("last", ">"), ("first", "<")):
            if keyword in flt.version_keywords:
                clause, p = sibling(f"o.version_us {op} {v}.version_us{same_spec}")
                wanted.append(clause)
                params.extend(p)
        clauses.append("(" + " OR ".join(wanted) + ")" if wanted else "0")
    return " AND ".join(clauses) or "1", params

"""Change capture: database triggers record which rows of the captured tables were written (ADR 0008).

Every insert, update and delete of a captured table adds one row to ``core_change`` — the table's name,
the row id and a *mark* — written by a trigger, so bulk ``QuerySet.update()``/``delete()``, ``COPY``
and raw SQL are captured as well as the services' saves. A delete leaves its row id in the log (the
tombstone); the reader re-reads the current rows for every logged id, so a row that is gone is gone.

A reader's :class:`Watermark` is the highest ``seq`` it has seen; changes with a higher ``seq`` are
new. On PostgreSQL a sequence number is taken when a row is logged, not when its transaction commits,
so a reader also remembers the transactions still running when it looked (the snapshot's running
list and ``xmax``; each change's ``mark`` is its transaction id) and reads their changes again next
time: a change is never skipped, some are read twice, which is harmless. PostgreSQL logs with
statement triggers and transition tables (one ``INSERT ... SELECT`` per statement); SQLite, which
has one writer at a time (sequence order is commit order), with row triggers.

Consumers register their watermark in ``core_change_cursor`` (:class:`ChangeCursor`); :func:`prune`
removes what every consumer has read. A new consumer always starts from a full read, so nothing older
than the oldest cursor is kept (nothing at all when there is no consumer).

The migrations of each app call :func:`install` / :func:`uninstall` for their own tables.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import models

__all__ = ["LOG", "Change", "ChangeCursor", "Watermark", "changes_since", "install", "install_functions",
           "prune", "register", "registered", "uninstall", "uninstall_functions", "watermark"]

LOG = "core_change"


class Change(models.Model):
    """One captured write of a row; written by the database triggers only, read by the stores."""

    seq = models.BigAutoField(primary_key=True)
    tbl = models.CharField(max_length=100)
    row_id = models.BigIntegerField()
    #: PostgreSQL: the writing transaction's id (null on SQLite, where ``seq`` orders the changes).
    mark = models.BigIntegerField(null=True, db_index=True)

    class Meta:
        db_table = LOG

    def __str__(self) -> str:
        return f"{self.tbl}:{self.row_id}@{self.mark or self.seq}"


class ChangeCursor(models.Model):
    """A consumer's watermark (:class:`Watermark`): it has applied every change up to it."""

    consumer = models.CharField(max_length=200, primary_key=True)
    seq = models.BigIntegerField()
    oldest_xid = models.BigIntegerField(null=True)  # PostgreSQL: the watermark's xmin
    token = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "core_change_cursor"

    def __str__(self) -> str:
        return f"{self.consumer}@{self.seq}"


# ---------------------------------------------------------------------------------------------
# Schema (called from migrations)
# ---------------------------------------------------------------------------------------------


def install_functions(apps, schema_editor) -> None:
    """PostgreSQL: the trigger functions, one per transition table name (a trigger names them)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for rows in ("new_rows", "old_rows"):
        schema_editor.execute(
            f"""CREATE FUNCTION jiayi_capture_{rows}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {LOG} (tbl, row_id, mark)
                SELECT TG_TABLE_NAME, r.id, pg_current_xact_id()::text::bigint FROM {rows} AS r;
                RETURN NULL;
            END $$"""
        )


def uninstall_functions(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for rows in ("new_rows", "old_rows"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS jiayi_capture_{rows}()")


_EVENTS = (("ins", "INSERT", "NEW TABLE AS new_rows", "new_rows", "NEW"),
           ("upd", "UPDATE", "NEW TABLE AS new_rows", "new_rows", "NEW"),
           ("del", "DELETE", "OLD TABLE AS old_rows", "old_rows", "OLD"))


def _trigger_sql(vendor: str, table: str) -> list[str]:
    out = []
    for suffix, event, referencing, rows, record in _EVENTS:
        name = f"jiayi_capture_{table}_{suffix}"
        if vendor == "postgresql":
            out.append(
                f'CREATE TRIGGER {name} AFTER {event} ON "{table}" REFERENCING {referencing} '
                f"FOR EACH STATEMENT EXECUTE FUNCTION jiayi_capture_{rows}()"
            )
        else:
            out.append(
                f'CREATE TRIGGER {name} AFTER {event} ON "{table}" FOR EACH ROW BEGIN '
                f"INSERT INTO {LOG} (tbl, row_id) VALUES ('{table}', {record}.id); END"
            )
    return out


def install(*labels: str):
    """A migration operation's forward function: capture the tables of the models ``labels``."""

    def forward(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        for label in labels:
            _run(schema_editor, _trigger_sql(vendor, apps.get_model(label)._meta.db_table))

    return forward


def uninstall(*labels: str):
    def backward(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        for label in labels:
            table = apps.get_model(label)._meta.db_table
            for suffix, *_rest in _EVENTS:
                on = f' ON "{table}"' if vendor == "postgresql" else ""
                schema_editor.execute(f"DROP TRIGGER IF EXISTS jiayi_capture_{table}_{suffix}{on}")

    return backward


def _run(schema_editor, statements: Iterable[str]) -> None:
    for sql in statements:
        schema_editor.execute(sql)


# ---------------------------------------------------------------------------------------------
# Reading (the indicator store)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watermark:
    """How far a reader has read: every change with ``seq`` up to ``seq`` whose transaction had committed,
    i.e. all of them except those of the transactions in ``pending`` or from ``xmax`` on (PostgreSQL:
    they were running, or not yet started, when the reader looked; their changes are read next time)."""

    seq: int
    pending: tuple[int, ...] = ()
    xmax: int | None = None
    xmin: int | None = None
    #: The reader's own transaction, if it had written: its changes up to ``seq`` were visible to it.
    own: int | None = None

    def token(self) -> str:
        return json.dumps([self.seq, list(self.pending), self.xmax, self.xmin, self.own])

    @classmethod
    def parse(cls, token: str) -> Watermark:
        seq, pending, xmax, xmin, own = json.loads(token)
        return cls(int(seq), tuple(int(x) for x in pending), xmax, xmin, own)


def watermark(connection) -> Watermark:
    """Where a reader stands now; take it *before* reading the changes and the rows they name."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A transaction's own id is never in its snapshot's running list: its own changes are visible.
            cursor.execute(
                "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, "
                "ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x), "
                "pg_current_xact_id_if_assigned()::text::bigint FROM pg_current_snapshot() AS s"
            )
            xmin, xmax, pending, own = cursor.fetchone()
        else:
            xmin = xmax = own = None
            pending = []
        # Read after the snapshot: a change it sees that the snapshot did not belongs to a pending
        # transaction (or one from xmax on), which is read again anyway.
        cursor.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {LOG}")
        seq = int(cursor.fetchone()[0])
    return Watermark(seq, tuple(sorted(int(x) for x in pending or ())), xmax, xmin, own)


def changes_since(connection, since: Watermark, tables: Sequence[str] | None = None) -> dict[str, set[int]]:
    """Table name -> ids of the rows inserted, updated or deleted after ``since``."""
    where = ["seq > %s"]
    params: list = [since.seq]
    if since.pending:
        where.append(f"mark IN ({', '.join(['%s'] * len(since.pending))})")
        params += list(since.pending)
    if since.xmax is not None:
        # xmax can be the reader's own id (the newest transaction): its changes up to seq were seen.
        where.append("(mark >= %s AND mark <> %s)")
        params += [since.xmax, since.own if since.own is not None else -1]
    sql = f"SELECT DISTINCT tbl, row_id FROM {LOG} WHERE ({' OR '.join(where)})"
    if tables:
        sql += f" AND tbl IN ({', '.join(['%s'] * len(tables))})"
        params += list(tables)
    out: dict[str, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for tbl, row_id in cursor.fetchall():
            out[tbl].add(int(row_id))
    return dict(out)


def register(consumer: str, mark: Watermark) -> None:
    """Record that ``consumer`` has applied every change up to ``mark``."""
    ChangeCursor.objects.update_or_create(
        consumer=consumer[:200], defaults={"seq": mark.seq, "oldest_xid": mark.xmin, "token": mark.token()}
    )


def registered(consumer: str) -> str | None:
    """The watermark ``consumer`` registered last, as its token (None: never, or the database was
    restored or flushed since)."""
    return ChangeCursor.objects.filter(consumer=consumer[:200]).values_list("token", flat=True).first()


def prune(connection) -> int:
    """Delete the changes every registered consumer has read (all of them when there is none: a new
    consumer starts with a full read); returns the rows deleted."""
    oldest = ChangeCursor.objects.aggregate(seq=models.Min("seq"), xmin=models.Min("oldest_xid"))
    if oldest["seq"] is None:
        now = watermark(connection)
        oldest = {"seq": now.seq, "xmin": now.xmin}
    sql, params = f"DELETE FROM {LOG} WHERE seq <= %s", [oldest["seq"]]
    if connection.vendor == "postgresql":
        # Changes of transactions that were still running for some reader are kept (xmin <= all of them).
        sql += " AND mark < %s"
        params.append(oldest["xmin"] if oldest["xmin"] is not None else 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount

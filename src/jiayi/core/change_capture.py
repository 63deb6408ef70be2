"""Change capture: database triggers record which rows of the captured tables were written (ADR 0008).

Every insert, update and delete of a captured table adds one row to ``core_change`` — the table's name,
the row id and a *mark* — written by a trigger, so bulk ``QuerySet.update()``/``delete()``, ``COPY``
and raw SQL are captured as well as the services' saves. A delete leaves its row id in the log (the
tombstone); the reader re-reads the current rows for every logged id, so a row that is gone is gone.

Marks order the changes for a reader that keeps a watermark:

- PostgreSQL: the writing transaction's id (``pg_current_xact_id()``). A reader takes the oldest
  transaction still running (``pg_snapshot_xmin``) as its next watermark and next time reads every
  change with ``mark >= watermark``: a transaction that had not committed when the reader looked has
  an id at least that large, so a change is never skipped (some are read twice, which is harmless).
  The triggers are per statement with transition tables: one ``INSERT ... SELECT`` per statement.
- SQLite: the log's own ``AUTOINCREMENT`` sequence (one writer at a time: sequence order is commit
  order). Row triggers (SQLite has no statement triggers).

Consumers register their watermark in ``core_change_cursor`` (:class:`ChangeCursor`); :func:`prune`
removes what every consumer has read. A new consumer always starts from a full read, so nothing older
than the oldest cursor is kept (nothing at all when there is no consumer).

The migrations of each app call :func:`install` / :func:`uninstall` for their own tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import models

__all__ = ["LOG", "Change", "ChangeCursor", "changes_since", "current_mark", "install", "install_functions",
           "prune", "register", "registered", "uninstall", "uninstall_functions"]

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
    """A consumer's watermark: it has applied every change whose mark is below ``mark``."""

    consumer = models.CharField(max_length=200, primary_key=True)
    mark = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "core_change_cursor"

    def __str__(self) -> str:
        return f"{self.consumer}@{self.mark}"


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


def current_mark(connection) -> int:
    """The watermark a reader records before it reads: changes with a mark at least this large may
    not be visible yet and are read again next time."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        else:
            cursor.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {LOG}")
        return int(cursor.fetchone()[0])


def _mark_column(connection) -> str:
    return "mark" if connection.vendor == "postgresql" else "seq"


def changes_since(connection, mark: int, tables: Sequence[str] | None = None) -> dict[str, set[int]]:
    """Table name -> ids of the rows inserted, updated or deleted since the watermark ``mark``."""
    sql = f"SELECT DISTINCT tbl, row_id FROM {LOG} WHERE {_mark_column(connection)} >= %s"
    params: list = [mark]
    if tables:
        sql += f" AND tbl IN ({', '.join(['%s'] * len(tables))})"
        params += list(tables)
    out: dict[str, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for tbl, row_id in cursor.fetchall():
            out[tbl].add(int(row_id))
    return dict(out)


def register(consumer: str, mark: int) -> None:
    """Record that ``consumer`` has applied every change below ``mark``."""
    ChangeCursor.objects.update_or_create(consumer=consumer[:200], defaults={"mark": mark})


def registered(consumer: str) -> int | None:
    """The watermark ``consumer`` registered last (None: never, or the database was restored or flushed)."""
    return ChangeCursor.objects.filter(consumer=consumer[:200]).values_list("mark", flat=True).first()


def prune(connection) -> int:
    """Delete the changes every registered consumer has read (all of them when there is none: a new
    consumer starts with a full read); returns the rows deleted."""
    oldest = ChangeCursor.objects.aggregate(m=models.Min("mark"))["m"]
    if oldest is None:
        oldest = current_mark(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG} WHERE {_mark_column(connection)} < %s", [int(oldest)])
        return cursor.rowcount

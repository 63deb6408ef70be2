"""Delete everything a district holds (``synth --replace``), fast and without loading rows.

The roots are the district's areas, institutions (with their staff and teams), households and
residents; every row that points at them through a foreign key, in any app, is deleted first (or has
the key set to NULL when the relation is SET_NULL), discovered from the model graph, so apps added
later are covered. Runs inside the caller's transaction; the database still checks every foreign key.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection as default_connection
from django.db import models

_MAX_DEPTH = 8


def _q(name: str) -> str:
    return f'"{name}"'


def _delete(cur, model: type[models.Model], where: str, params: list, depth: int = 0,
            tables: frozenset[str] = frozenset()) -> int:
    """Delete rows of ``model`` matching ``where`` (SQL over its own columns) and their dependants.

    ``tables``: the tables that exist (models of apps not migrated yet are skipped)."""
    if model._meta.db_table not in tables:
        return 0
    if depth > _MAX_DEPTH:
        raise RuntimeError(f"purge: dependency chain too deep at {model._meta.label}")
    table = model._meta.db_table
    pk = model._meta.pk.column
    selector = f"SELECT {_q(pk)} FROM {_q(table)} WHERE {where}"
    for rel in model._meta.related_objects:
        child = rel.related_model
        if child._meta.proxy or not child._meta.managed:
            continue
        if rel.many_to_many:
            through = rel.through if hasattr(rel, "through") else None
            if through is None:
                continue
            for f in through._meta.get_fields():
                if getattr(f, "related_model", None) is model and f.concrete:
                    _delete(cur, through, f"{_q(f.column)} IN ({selector})", params, depth + 1, tables)
            continue
        field = rel.field
        if not field.concrete:
            continue
        if child is model:  # self-reference (area or institution trees): the selector covers the subtree
            continue
        cond = f"{_q(field.column)} IN ({selector})"
        if child._meta.db_table not in tables:
            continue
        if rel.on_delete is models.SET_NULL:
            cur.execute(f"UPDATE {_q(child._meta.db_table)} SET {_q(field.column)} = NULL WHERE {cond}", params)
        elif rel.on_delete is models.DO_NOTHING:
            continue
        else:
            _delete(cur, child, cond, params, depth + 1, tables)
    # Break self-references inside the deleted set first (deferred FKs would cope, but be explicit).
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is model:
            cur.execute(f"UPDATE {_q(table)} SET {_q(f.column)} = NULL WHERE {where}", params)
    cur.execute(f"DELETE FROM {_q(table)} WHERE {where}", params)
    return cur.rowcount


def purge_district(county_code: str, district_key: str, *, connection=None) -> dict[str, int]:
    """Delete the district whose county code is ``county_code``; returns rows deleted per root."""
    conn = connection or default_connection
    Area = apps.get_model("org", "Area")
    Institution = apps.get_model("org", "Institution")
    Resident = apps.get_model("residents", "Resident")
    Household = apps.get_model("residents", "Household")
    Counter = apps.get_model("residents", "RecordSerialCounter")
    SynthRun = apps.get_model("synth", "SynthRun")
    like = county_code + "%"
    areas = f'SELECT id FROM "{Area._meta.db_table}" WHERE code LIKE %s'
    out: dict[str, int] = {}
    with conn.cursor() as cur:
        tables = frozenset(conn.introspection.table_names(cur))
        out["residents"] = _delete(cur, Resident, f'"area_id" IN ({areas})', [like], tables=tables)
        out["households"] = _delete(cur, Household, f'"area_id" IN ({areas})', [like], tables=tables)
        out["institutions"] = _delete(cur, Institution, f'"area_id" IN ({areas})', [like], tables=tables)
        out["areas"] = _delete(cur, Area, '"code" LIKE %s', [like], tables=tables)
        cur.execute(f'DELETE FROM "{Counter._meta.db_table}" WHERE prefix LIKE %s', [like])
        cur.execute(f'DELETE FROM "{SynthRun._meta.db_table}" WHERE district = %s', [district_key])
    from jiayi.org.selectors import clear_org_cache

    clear_org_cache()
    return out

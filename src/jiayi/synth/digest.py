"""A content hash of the generated data, to check that the same seed gives the same district.

Hashes every row (all columns, ordered by primary key) of the tables the generator writes; the
generator log (``synth_synthrun``, which holds wall-clock times) is left out. Values are hashed in
their database representation, so compare digests taken on the same database backend.
"""

from __future__ import annotations

import hashlib

from django.apps import apps
from django.db import connection as default_connection

#: Models the generator writes, in stage order. Later stages' models are included when installed.
DIGEST_MODELS = (
    "org.Area", "org.Institution", "org.Staff", "org.Team", "org.TeamMember",
    "residents.Household", "residents.Resident", "residents.HealthRecord", "residents.RecordSerialCounter",
    "residents.Problem", "residents.KeyPopulationTag", "residents.Measurement",
    "contracts.ServicePackage", "contracts.PackageItem", "contracts.HouseholdSigning", "contracts.Contract",
    "contracts.ContractPackage", "contracts.ContractItem", "contracts.ServiceDelivery",
    "contracts.SatisfactionSurvey",
    "programmes.Enrolment", "programmes.Visit", "programmes.Task", "programmes.Referral",
    "programmes.MedicationPlan", "programmes.MedicationPlanLine",
)


def _models():
    for label in DIGEST_MODELS:
        try:
            yield apps.get_model(label)
        except LookupError:
            continue


def content_digest(*, connection=None) -> dict[str, str]:
    """SHA-256 per table and overall ('*'), over all rows ordered by primary key."""
    conn = connection or default_connection
    out: dict[str, str] = {}
    total = hashlib.sha256()
    with conn.cursor() as cur:
        for model in _models():
            table = model._meta.db_table
            cols = [f.column for f in model._meta.concrete_fields]
            h = hashlib.sha256()
            cur.execute(
                "SELECT {} FROM \"{}\" ORDER BY \"{}\"".format(
                    ", ".join(f'"{c}"' for c in cols), table, model._meta.pk.column
                )
            )
            while True:
                rows = cur.fetchmany(20_000)
                if not rows:
                    break
                for row in rows:
                    h.update(repr(row).encode())
            out[table] = h.hexdigest()
            total.update(table.encode() + out[table].encode())
    out["*"] = total.hexdigest()
    return out

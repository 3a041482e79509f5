"""Database-level append-only guard for ledger rows.

PostgreSQL refuses UPDATE and DELETE on entries, lot movements and shortfalls (TRUNCATE, used
only by maintenance and test flushes, stays possible). SQLite refuses UPDATE; its DELETE stays
possible because Django's test flush deletes rows, and the Python models refuse it anyway.
"""

from django.db import migrations

TABLES = ("ledger_entry", "ledger_lotmovement", "ledger_shortfall")


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION patron_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'ledger rows are append-only: post a reversal instead'; "
            "END; $$ LANGUAGE plpgsql;"
        )
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION patron_append_only();"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
                "SELECT RAISE(ABORT, 'ledger rows are append-only: post a reversal instead'); "
                "END;"
            )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]

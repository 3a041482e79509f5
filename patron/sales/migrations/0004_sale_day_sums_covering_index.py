"""The home's sales per store and day read the 90 days from an index alone (PostgreSQL).

An index on (merchant, occurred_at) that also carries store, total and member answers
`sales.selectors.daily_sales` without visiting the table (docs/scale.md, "The console home at
a million"). SQLite has no INCLUDE; it keeps its (merchant, occurred_at) index.
"""

from django.db import migrations

INDEX = "sale_merchant_day_sums"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON sales_sale (merchant_id, occurred_at) "
            "INCLUDE (store_id, total, member_id)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_tenders")]

    operations = [migrations.RunPython(create_index, drop_index)]

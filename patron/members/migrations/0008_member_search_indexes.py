"""Indexes that answer member search on PostgreSQL (docs/scale.md, "Search").

The database's collation is not C, so `LIKE '138%'` cannot use a plain btree: prefixes get
text_pattern_ops indexes, the last digits of a mobile an index on its reverse, names a GIN
index on their characters (a name of one or two characters has no trigram) and pinyin a
trigram index. SQLite gets none of them: it searches by scanning, which a small shop's
database does quickly enough.
"""

from django.db import migrations, models

POSTGRES_INDEXES = {
    "member_mobile_prefix": "btree (merchant_id, mobile text_pattern_ops)",
    "member_card_prefix": "btree (merchant_id, card_no text_pattern_ops)",
    "member_mobile_suffix": "btree (merchant_id, reverse(mobile) text_pattern_ops)",
    "member_name_chars": "gin (string_to_array(lower(name), NULL))",
    "member_pinyin_trgm": "gin (name_pinyin gin_trgm_ops)",
}


def create_search_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in POSTGRES_INDEXES.items():
        method, columns = definition.split(" ", 1)
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON members_member USING {method} {columns}"
        )


def drop_search_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in POSTGRES_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0007_alliances"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                fields=["merchant", "status", "joined_at"], name="member_status_joined"
            ),
        ),
    ]

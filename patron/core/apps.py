from django.apps import AppConfig

# psycopg parses a statement's %s placeholders on every execution unless the statement has at
# most this many parameters (its default is 50, meant for ORM-generated multi-row INSERTs of
# varying size). A sale's lines, entries and ledger transactions go out as multi-row INSERTs
# of 36-105 parameters with a handful of shapes (one per line count), so with the default
# they were re-parsed on every sale (a large share of the server's CPU went to psycopg's query
# splitting: docs/checkout-benchmarks.md). The cache stays bounded (128 statements).
PSYCOPG_CACHED_STATEMENT_PARAMS = 500


class CoreConfig(AppConfig):
    name = "patron.core"
    label = "core"

    def ready(self) -> None:
        cache_long_statements()


def cache_long_statements() -> None:
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only installs
        return
    # Only where psycopg has it: a renamed constant must show up as a failing test
    # (tests/ledger/test_postings.py), not as a new attribute nobody reads.
    current = getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", None)
    if current is not None and current < PSYCOPG_CACHED_STATEMENT_PARAMS:
        _queries.MAX_CACHED_STATEMENT_PARAMS = PSYCOPG_CACHED_STATEMENT_PARAMS

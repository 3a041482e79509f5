# Patron — the two commands: `make run` and `make test`.
SHELL := /bin/bash
# uv from PATH, else the one pip installs as a module (works wherever pip put it).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
PY := .venv/bin/python
PATRON := .venv/bin/patron
PORT ?= 8000
# Keep compiled bytecode (machines here may set PYTHONDONTWRITEBYTECODE): every `patron`
# process, and the tests start hundreds, otherwise compiles Django and the apps afresh —
# 7 s instead of 3.5 s per start.
export PYTHONDONTWRITEBYTECODE :=
PG_URL ?= postgres://postgres@127.0.0.1:5432/patron

.PHONY: run test install lint bench-import bench-import-balances bench-ledger bench-engine bench-sales bench-flash-sale bench-clv bench-segments bench-import-sales bench-rfm bench-campaigns bench-scale bench-whatif messages compile-messages

install:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet
	@# The pricing engine compiled by mypyc (skipped when built for these sources; never fails
	@# the install: on any problem the pure-Python engine runs). See patron/engine/native.py.
	@$(PY) scripts/build_engine.py --quiet || echo "engine: build step failed; the pure-Python engine is used"

# The demo's member pages log their SMS codes (PATRON_SMS_BACKEND=log) unless told otherwise.
run: install
	$(PATRON) migrate --verbosity 0
	$(PATRON) demo --if-empty --url http://127.0.0.1:$(PORT)/ > /dev/null
	PATRON_SMS_BACKEND=$${PATRON_SMS_BACKEND:-log} $(PATRON) serve --port $(PORT)

# Everything on SQLite and, at the same time, the suites marked `postgres` again on PostgreSQL
# when one answers (PATRON_TEST_POSTGRES, defaulting to the local server if it accepts
# connections): two processes on two cores, the PostgreSQL run with its own data directory (its
# own job queue file) and its output shown after the SQLite run's.
test: install
	.venv/bin/ruff check patron tests bench
	@# The floors of docs/architecture.md (contracts in pyproject.toml, [tool.importlinter]).
	.venv/bin/lint-imports --no-cache
	@pg="$${PATRON_TEST_POSTGRES:-}"; \
	if [ -z "$$pg" ] && $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=2).close()" 2>/dev/null; then pg="$(PG_URL)"; fi; \
	rm -rf var/pg-suite; mkdir -p var/pg-suite; \
	if [ -n "$$pg" ]; then \
	  ( PATRON_DATA_DIR="$$PWD/var/pg-suite" PATRON_DATABASE_URL="$$pg" PATRON_TEST_POSTGRES="$$pg" \
	    $(PY) -m pytest -p no:cacheprovider -m postgres $(PYTEST_ARGS) > var/pg-suite.log 2>&1; \
	    echo $$? > var/pg-suite.rc ) & \
	fi; \
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS); sqlite=$$?; \
	wait; \
	if [ -n "$$pg" ]; then \
	  echo "== PostgreSQL suites on $$pg"; cat var/pg-suite.log; postgres=$$(cat var/pg-suite.rc); \
	else echo "== PostgreSQL not reachable: postgres suites ran on SQLite only"; postgres=0; fi; \
	if [ "$$sqlite" -ne 0 ]; then exit $$sqlite; fi; exit $$postgres

lint: install
	.venv/bin/ruff check patron tests bench
	.venv/bin/ruff format --check patron tests bench

# Refresh the zh-Hans catalogue after changing strings; review every new or fuzzy entry,
# then compile (tests/console/test_i18n.py fails on untranslated, fuzzy or stale entries).
messages: install
	cd patron && PATRON_DATA_DIR=../var ../$(PATRON) makemessages -l zh_Hans --ignore=.venv --no-obsolete
	@echo "Now translate the new / fuzzy entries in patron/locale/zh_Hans/LC_MESSAGES/django.po, then: make compile-messages"

compile-messages: install
	cd patron && PATRON_DATA_DIR=../var ../$(PATRON) compilemessages -l zh_Hans

bench-import: install
	$(PY) bench/import_members.py

# Moving in from another system: 100,000 members with cards, tiers, points and stored value,
# beside the same members without them (docs/moving-in.md).
bench-import-balances: install
	$(PY) bench/import_balances.py

# History in: 100,000 past sales imported on SQLite and PostgreSQL (rows/s), and the facets
# rebuilt over 1,000,000 sale lines (docs/history-import.md).
bench-import-sales: install
	$(PY) bench/import_sales.py

bench-ledger: install
	$(PY) bench/ledger.py

bench-engine: install
	$(PY) bench/engine.py

bench-sales: install
	$(PY) bench/sales.py

# 500 buyers on 100 units of a limited offer at the opening second (docs/activities.md).
bench-flash-sale: install
	$(PY) bench/flash_sale.py

# BG/NBD and Gamma-Gamma on the 23,570-customer CDNOW cohort against lifetimes, which runs in
# a virtual environment of its own (docs/value.md).
bench-clv: install
	$(PY) bench/clv.py

# Segment counts over 1,000,000 members on PostgreSQL, with their plans (docs/segments.md).
bench-segments: install
	$(PY) bench/segments.py

# A one-off campaign to 100,000 members through a fake SMS provider; with Redis, 1 vs 2
# `patron worker` processes (docs/campaigns.md).
bench-campaigns: install
	$(PY) bench/campaign_send.py --redis redis://127.0.0.1:6379/13

# The reports dashboard (F-47) over 500,000 sales in three years, on PostgreSQL.
bench-reports: install
	$(PY) bench/reports_dashboard.py

# RFM over 10,000,000 sale lines against a bare Polars group-by, and the nightly refresh of
# 1,000,000 members on PostgreSQL (its own database, dropped at the end): docs/lifecycle-rfm.md.
bench-rfm: install
	$(PY) bench/rfm.py

# A million members on PostgreSQL (issue 21): built through `patron import members` (its time
# and peak memory), then p50/p95 of each member search and console list against plain SQL in
# the same run, and the plans of those that miss (docs/scale.md). BENCH_SCALE_ARGS=--reuse
# keeps the database for the next run (building it takes minutes).
bench-scale: install
	$(PY) bench/scale.py $(BENCH_SCALE_ARGS)

# What if (issue 22): 1,000,000 sales over 12 months replayed under the current program and a
# draft (wall time by phase, sales/s, peak RSS) beside bare pricing.quote of the same baskets
# in 1 and N processes (docs/whatif.md, "Speed"). BENCH_WHATIF_ARGS=--reuse keeps the database.
bench-whatif: install
	$(PY) bench/whatif.py $(BENCH_WHATIF_ARGS)

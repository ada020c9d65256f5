# Two commands on a fresh machine: `make run` and `make test`.
# Without DATABASE_URL both use the embedded PostgreSQL under .data/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Development defaults; production sets its own environment (see README).
export DEBUG ?= true

.PHONY: run test test-pgbouncer lint format migrations-check migrate seed bench bench-small db-stop clean-db help lint-migrations fuzz token

help:
	@echo "make run               set up everything, seed the demo, serve on http://127.0.0.1:8000"
	@echo "make test              run the test suite"
	@echo "make test-pgbouncer    the API behind PgBouncer in transaction mode (needs pgbouncer, Redis)"
	@echo "make lint              ruff lint and format check"
	@echo "make fuzz              Schemathesis with every phase and 100 examples per operation (before a release)"
	@echo "make migrations-check  fail if models and migrations disagree"
	@echo "make lint-migrations   lint every migration's SQL (sqlmigrate, forwards) with squawk"
	@echo "make bench             run the benchmarks, update results and docs (docs/performance.md)"
	@echo "make bench-small       the same on seconds' worth of data (a smoke run)"
	@echo "make token USER=NAME   print the API token of a user (any demo user, admin too)"
	@echo "make db-stop           stop the embedded PostgreSQL"
	@echo "make clean-db          stop it and delete .data/"

$(INSTALLED): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

# Development settings for every later `python manage.py ...`: DEBUG on, a generated
# SECRET_KEY, the embedded database. Written once, never overwritten (prosaas/dotenv.py).
.env: | $(INSTALLED)
	$(BIN)/python -m prosaas.dotenv create

migrate: $(INSTALLED) | .env
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo
	@echo "Serving on http://127.0.0.1:8000/api/  (admin: http://127.0.0.1:8000/admin/)"
	@echo "Try:  curl -H 'Authorization: Token <acme_owner token above>' http://127.0.0.1:8000/api/intelligence/customers/"
	@echo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

token: $(INSTALLED) | .env
	@test "$(origin USER)" = "command line" || { echo "usage: make token USER=<username>, e.g. make token USER=admin" >&2; exit 2; }
	@$(BIN)/python manage.py drf_create_token "$(USER)"

test: $(INSTALLED)
	$(BIN)/python -m pytest

# The service behind a PgBouncer the suite starts itself (tests/smoke_pgbouncer.py); not
# part of `make test`, whose own set-up and fault tests need a direct connection.
test-pgbouncer: $(INSTALLED)
	$(BIN)/python -m pytest tests/smoke_pgbouncer.py

# The suite's Schemathesis run, larger: the coverage phase and 100 examples per
# operation and role. Takes tens of minutes; run it before a release.
fuzz: $(INSTALLED)
	SCHEMATHESIS_MAX_EXAMPLES=100 SCHEMATHESIS_PHASES=examples,coverage,fuzzing \
		$(BIN)/python -m pytest tests/test_schemathesis.py -p no:warnings

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(INSTALLED)
	$(BIN)/python manage.py makemigrations --check --dry-run

# The SQL of every migration of the project's apps, linted by squawk; the exceptions and
# their reasons are in prosaas/lint_migrations.py.
lint-migrations: $(INSTALLED)
	$(BIN)/python -m prosaas.lint_migrations

# Own database (<name>_bench on the same server); data is generated once and reused.
bench: $(INSTALLED)
	$(BIN)/python -m bench

bench-small: $(INSTALLED)
	$(BIN)/python -m bench --scale small

db-stop: $(INSTALLED)
	$(BIN)/python -m prosaas.embedded_db stop

clean-db: db-stop
	rm -rf .data

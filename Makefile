# PartyEdu — every target sets up what it needs (virtualenv, pinned dependencies) first.
#   make run    set up, migrate, seed the demo on an empty database, serve on 127.0.0.1:$(PORT)
#               (gunicorn, several worker processes, DEBUG off); make dev: Django's runserver
#   make serve  production processes (gunicorn + Celery worker + Celery beat), from the environment
#   make test   set up and run the whole test suite (SQLite; browser tests when Chromium is present;
#               the API schema fuzzing stage runs on its own: make test-fuzz)
#   make ci     lint + suite on SQLite with coverage + suite on PostgreSQL + multi-process stage
#               + API fuzzing + browser tests
#   make bench  benchmarks (100,000 members) on the configured database

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
DEMO_MEMBERS ?= 2000
PG_URL ?= postgres://postgres@127.0.0.1:5432/partyedu
# The exam benchmarks' own databases (each seeds its city on first use).
EXAMS_GRADING_URL ?= postgres://postgres@127.0.0.1:5432/pe_bench_exams_grading
EXAMS_LOAD_URL ?= postgres://postgres@127.0.0.1:5432/pe_bench_exams
PYTEST := $(BIN)/python -m pytest
export PYTHONDONTWRITEBYTECODE := 1

BASE_STAMP := $(VENV)/.base-$(shell sha1sum requirements/base.txt 2>/dev/null | cut -c1-12)
DEV_STAMP  := $(VENV)/.dev-$(shell sha1sum requirements/dev.txt 2>/dev/null | cut -c1-12)

.PHONY: run dev serve test-multiprocess install install-dev migrate seed test test-fast test-sqlite test-postgres test-browser test-fuzz \
        lint typecheck ci bench clean browser-deps check-deploy

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE_STAMP): requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/base.txt
	@rm -f $(VENV)/.base-*; touch $@

$(DEV_STAMP): requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	@rm -f $(VENV)/.dev-* $(VENV)/.base-*; touch $@ $(BASE_STAMP)

install: $(BASE_STAMP)
install-dev: $(DEV_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput -v0

seed: migrate
	$(BIN)/python manage.py seed_demo --members $(DEMO_MEMBERS) --seed 2026 --no-accounts

# The demo is served as production serves: gunicorn with one process per share of the CPUs
# (config/gunicorn.conf.py; WEB_CONCURRENCY=N to choose), static files collected into
# var/staticfiles and served by WhiteNoise, DEBUG off. Jobs run in the process that queued them
# (there is no Celery worker here, even with REDIS_URL set).
run: seed
	@$(BIN)/python manage.py collectstatic --noinput -v0
	@echo
	@$(BIN)/python manage.py demo_accounts
	@echo
	@DEBUG=$${DEBUG:-0} JOBS_BACKEND=$${JOBS_BACKEND:-thread} PORT=$(PORT) HOST=127.0.0.1 \
		GUNICORN_LOG_LEVEL=$${GUNICORN_LOG_LEVEL:-warning} DJANGO_SETTINGS_MODULE=config.settings.dev \
		exec $(BIN)/gunicorn -c config/gunicorn.conf.py config.wsgi

# Development: Django's runserver (reloads on change, DEBUG on, static files from the source tree).
dev: seed
	@echo
	@$(BIN)/python manage.py demo_accounts
	@echo
	@echo "PartyEdu 开发服务器：http://127.0.0.1:$(PORT)/  （Ctrl-C 停止）"
	JOBS_BACKEND=$${JOBS_BACKEND:-thread} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production processes in the foreground, from environment variables only (docs/deployment.md):
# migrate + collectstatic, then gunicorn, a Celery worker and Celery beat; Ctrl-C stops all three.
serve: install
	DJANGO_SETTINGS_MODULE=config.settings.prod bin/serve

# The whole suite on SQLite. Browser tests run when Chromium is installed (under CI=true they
# must run: a missing browser fails the run instead of skipping).
test: install-dev
	$(PYTEST) -n 2 --dist loadgroup -q -m "not fuzz and not multiprocess"

test-sqlite: install-dev
	$(PYTEST) -n 2 --dist loadgroup -q -m "not browser and not fuzz and not multiprocess" --cov --cov-report=term --cov-fail-under=85

test-postgres: install-dev
	@bash .ci/ensure-postgres
	DATABASE_URL=$(PG_URL) $(PYTEST) -n 2 --dist loadgroup -q -m "not browser and not fuzz and not multiprocess"

# Several real processes against one PostgreSQL database and Redis: two gunicorn servers taking
# turns in one user's flow, a Celery worker, media in an S3 store (moto); and bin/serve itself.
# Under CI=true a missing PostgreSQL or Redis fails the stage. About a minute.
test-multiprocess: install-dev
	@bash .ci/ensure-postgres
	@bash .ci/ensure-redis
	$(PYTEST) -q -m multiprocess -p no:randomly partyedu/core/tests/test_multiprocess.py

# Schemathesis sends generated requests for every operation of /api/schema/ to the app in process
# (two callers, bounded derandomized examples); any 5xx or undocumented answer fails. Two processes,
# each with its own database and seed.
test-fuzz: install-dev
	$(PYTEST) -n 2 -q -m fuzz -p no:randomly partyedu/api/tests/test_schema_fuzz.py

browser-deps:
	@bash .ci/ensure-chromium

test-browser: install-dev browser-deps
	$(PYTEST) -q -m browser

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory check-deploy
	$(BIN)/mypy

# The production settings pass Django's deployment checks (throwaway secrets, never used).
check-deploy: install-dev
	DJANGO_SETTINGS_MODULE=config.settings.prod SECRET_KEY=ci-check-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG \
		FIELD_ENCRYPTION_KEY=u7V0vZc3mJ5b9aWk6nL8Qo2rS4tX1yZ0aB3cD5eF7gI= ALLOWED_HOSTS=partyedu.example \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# mypy over the whole package with pyproject.toml's [tool.mypy] (strict for scope, services and
# selectors); also the last step of `make lint`.
typecheck: install-dev
	$(BIN)/mypy

ci: lint test-sqlite test-postgres test-multiprocess test-fuzz test-browser

bench: install-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/competitions.py
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) $(BIN)/python bench/pages.py;; *) echo "bench/pages.py skipped: it times every page on the PostgreSQL city that bench/run.py seeded (DATABASE_URL=postgres://…)";; esac
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) $(BIN)/python bench/points.py;; *) echo "bench/points.py skipped: it measures points on the PostgreSQL city that bench/run.py seeded (DATABASE_URL=postgres://…)";; esac
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) $(BIN)/python bench/load.py;; *) echo "bench/load.py skipped: the load run needs DATABASE_URL=postgres://… (and Redis, REDIS_URL); see bench/README.md";; esac
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) createdb -h 127.0.0.1 -U postgres pe_bench_exams_grading 2>/dev/null; DATABASE_URL=$(EXAMS_GRADING_URL) $(BIN)/python bench/exams_grading.py --regrade-runs 3 --submit-sample 2000 --profile never;; *) echo "bench/exams_grading.py skipped: it runs on PostgreSQL, in a database of its own (EXAMS_GRADING_URL)";; esac
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) createdb -h 127.0.0.1 -U postgres pe_bench_exams 2>/dev/null; DATABASE_URL=$(EXAMS_LOAD_URL) $(BIN)/python bench/exams_load.py;; *) echo "bench/exams_load.py skipped: the 2,000-taker run needs PostgreSQL (EXAMS_LOAD_URL) and Redis; see bench/README.md";; esac

clean:
	rm -rf $(VENV) var .coverage htmlcov

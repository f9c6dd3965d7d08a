# Two commands: `make run` and `make test`. Everything else is for maintainers.
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test lint bench install install-dev browser oidc-op redis postgres nginx cli-tools bench-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: install
	$(BIN)/pip install --quiet -r requirements-dev.txt

# Debian's Chromium drives the browser tests (Playwright's own download is not used).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The independent OpenID provider the sign-in tests run against (npm oidc-provider, pinned
# by tests/identity/op/package-lock.json), run with the machine's node.
oidc-op:
	@command -v node >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	cd tests/identity/op && npm ci --no-audit --no-fund --silent
	cd tests/e2e && npm ci --no-audit --no-fund --silent  # axe-core for the accessibility tests

# Redis for the gateway's shared rate-limit counter test.
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

# PostgreSQL for the suite's second pass and the scale test, which start their own servers on
# free ports in temporary folders (tests/services.py); nginx is the scale test's load balancer.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

# curl and jq: the README's onboarding lines, which tests/onboarding/test_readme.py runs as written.
cli-tools:
	@command -v curl >/dev/null && command -v jq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl jq >/dev/null; }

# The references the gateway bench runs beside it (bench/gateway_bench.py).
bench-tools:
	@command -v wrk >/dev/null && command -v nginx >/dev/null && command -v apache2 >/dev/null && test -e /usr/lib/apache2/modules/mod_auth_openidc.so || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light apache2 libapache2-mod-auth-openidc >/dev/null; }

run: install
	DEBUG=1 $(BIN)/python manage.py migrate --no-input -v 0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@# The usage aggregator runs beside the portal (its own process in production) and stops with it.
	@DEBUG=1 $(BIN)/python manage.py aggregate_usage & agg=$$!; trap 'kill $$agg 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 PORT=$(PORT) HOST=$(HOST) $(BIN)/python manage.py serve

# The whole suite twice: on the embedded defaults (SQLite, local-memory cache; this pass also
# runs the scale test, tests/topology/, which brings its own PostgreSQL, Redis and nginx), then
# on PostgreSQL + Redis started for the run by tests/services.py.
test: install-dev browser oidc-op redis postgres nginx cli-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0
	@# Both passes run whatever the first one finds; the target fails if either failed.
	@status=0; \
	echo "== tests on SQLite and the local-memory cache"; \
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS) || status=1; \
	echo "== tests on PostgreSQL and Redis"; \
	$(BIN)/python -m tests.services -- \
		$(BIN)/pytest -n 2 --dist loadfile --ignore=tests/topology $(PYTEST_ARGS) || status=1; \
	exit $$status

bench: install-dev bench-tools postgres redis
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

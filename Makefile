# Jiayi — two commands: `make demo` (set up and serve the demo district) and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DISTRICT ?= xuhui
DEMO_RESIDENTS ?= 20000
DEMO_SEED ?= 20260501
export JIAYI_ALLOW_DEV_KEY := 1

.PHONY: demo test install system-deps assets migrate lint bench bench-quick messages clean-demo

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test,spark]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed assets .env

# A development checkout gets its own random SECRET_KEY (never committed: .env is ignored).
.env:
	@echo "SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env with a random SECRET_KEY for this checkout"

assets: node_modules/.installed

# Debian packages the suite needs: Chromium for the browser tests, a CJK font so Chinese renders,
# gettext for the translation catalogues, Java for the Spark indicator test. Installed when missing
# and running as root; otherwise the browser test reports what is missing (a failure under CI=true).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Missing Debian packages (run as root to install):$$missing"; fi; \
	fi

messages: install system-deps
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

migrate: install
	$(BIN)/python manage.py migrate --noinput -v 0

demo: install system-deps migrate
	@if [ ! -f var/demo-$(DEMO_DISTRICT)-$(DEMO_SEED).stamp ]; then \
	  $(BIN)/python manage.py synth --district $(DEMO_DISTRICT) --residents $(DEMO_RESIDENTS) --seed $(DEMO_SEED) --replace && \
	  touch var/demo-$(DEMO_DISTRICT)-$(DEMO_SEED).stamp; \
	fi
	$(BIN)/python manage.py contracts_expire
	$(BIN)/python manage.py indicators compute --backend duckdb
	$(BIN)/python manage.py demo_accounts
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

clean-demo:
	rm -f var/jiayi.sqlite3* var/demo-*.stamp

# The whole suite on DATABASE_URL's database, in TEST_WORKERS pytest-xdist workers (auto = one per core;
# 0 = in this process). JIAYI_TESTS=db|nodb picks the tests that use the database or those that do not.
TEST_WORKERS ?= auto
test: install system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench

bench: install
	$(BIN)/python bench/run.py

bench-quick: install
	$(BIN)/python bench/run.py --quick

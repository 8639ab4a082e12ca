# The course's commands. `make` alone lists them.
# Every target installs what it needs into .venv first (once; again only when a
# requirements file changes). Extra arguments go in ARGS, e.g. make test ARGS="-k lab".

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
BROWSER := $(VENV)/.installed-browser

# Where the sandbox listens and keeps its data (the same variables the notebooks read).
IGGY_TCP_ADDRESS ?= 127.0.0.1:8090
IGGY_HTTP_URL ?= http://127.0.0.1:3000
COURSE_DATA_DIR ?= .sandbox-data
HTTP_LISTEN = $(patsubst http://%,%,$(patsubst %/,%,$(IGGY_HTTP_URL)))

.PHONY: help lab test test-real test-browser conformance doctor parity-record server up down reset classroom bench lint clean

help: ## list the targets
	@echo "Apache Iggy 0.9.0 course. Usage: make TARGET"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# apache-iggy 0.9.0 ships wheels for CPython 3.10-3.13 only; say so before pip starts a
# Rust build that cannot succeed.
$(PY):
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(None if (3, 10) <= v <= (3, 13) else "$(PYTHON) is Python %d.%d; the course needs 3.10 to 3.13 (apache-iggy 0.9.0 has wheels for those only). Try: make PYTHON=python3.12 ..." % v)'
	$(PYTHON) -m venv $(VENV)

# --only-binary: on a platform without an apache-iggy wheel, fail with a clear message
# instead of deep inside a Rust build.
define pip_install
	$(PY) -m pip install --disable-pip-version-check --quiet --only-binary apache-iggy -r $(1) \
	  || { echo "pip could not install $(1). If apache-iggy is the problem, this platform has no wheel for it: see README.md, 'Platforms'." >&2; exit 1; }
endef

# The course itself goes in editable, after its pins, so every kernel of .venv can
# `import helpers` wherever Jupyter was started.
define install_course
	$(PY) -m pip install --disable-pip-version-check --quiet --no-deps --editable .
endef

$(RUNTIME): requirements.txt pyproject.toml | $(PY)
	$(call pip_install,requirements.txt)
	$(install_course)
	@touch $@

$(DEV): requirements.txt requirements-dev.txt pyproject.toml | $(PY)
	$(call pip_install,requirements-dev.txt)
	$(install_course)
	@touch $@ $(RUNTIME)

$(BROWSER): requirements.txt requirements-dev.txt requirements-browser.txt pyproject.toml | $(PY)
	$(call pip_install,requirements-browser.txt)
	$(install_course)
	@touch $@ $(DEV) $(RUNTIME)

lab: $(RUNTIME) ## open the course in JupyterLab (starts the sandbox if no server answers; ARGS go to JupyterLab)
	$(PY) -m coursekit.lab $(ARGS)

doctor: $(RUNTIME) ## check the setup: Python, SDK, which server answers, login, Docker pitfalls; a fix per ❌
	$(PY) -m coursekit.doctor

lint: $(DEV) ## check the code style (ruff)
	$(PY) -m ruff check .

# pytest with $(1), then ARGS (left out of $(call ...), where a comma would split it).
# pytest exits 5 when it collects no test: here that is a broken suite, not a success.
define run_pytest
	@status=0; $(PY) -m pytest $(1) $(ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make $@: pytest collected no tests, which counts as a failure" >&2; fi; \
	exit $$status
endef

# The SDK maintainers' own suite runs last (not with ARGS), against the same server.
test: export COURSE_SMALL = 1
test: lint ## lint, run the tests (they start their own sandboxes), then the conformance suite
	$(call run_pytest)
	@if [ -z "$(ARGS)" ]; then $(PY) -m tests.conformance -q; fi

# Needs Chromium from the system's packages (apt-get install chromium); Playwright drives it.
test-browser: export COURSE_SMALL = 1
test-browser: $(BROWSER) ## run every notebook in JupyterLab in headless Chromium (screenshots: .cache/screenshots/)
	$(call run_pytest,-m browser tests/test_browser.py)

# Runs against an Iggy 0.9.0 that is already running (docker compose up -d) at
# IGGY_TCP_ADDRESS / IGGY_HTTP_URL: only the tests that talk to it (tests/conftest.py says
# which are skipped, and the run's last line counts them).
test-real: export IGGY_TEST_SERVER = real
test-real: test ## the tests that talk to the server, against a running real one (docker compose up -d first)

conformance: $(DEV) ## run the SDK maintainers' own test suite against the sandbox (IGGY_TEST_SERVER=real: the running server)
	$(PY) -m tests.conformance $(ARGS)

# Records only: start the real server yourself, fresh (empty data directory, root iggy/iggy,
# its cleaner every CLEANER_INTERVAL seconds), then point this at it.
CLEANER_INTERVAL ?= 1
parity-record: $(DEV) ## record a real Iggy's answers as the parity golden files (tests/parity)
	$(PY) -m tests.parity.record --tcp $(IGGY_TCP_ADDRESS) --http $(IGGY_HTTP_URL) \
	  --cleaner-interval $(CLEANER_INTERVAL) $(ARGS)

server: $(RUNTIME) ## run the sandbox in the foreground (Ctrl+C stops it)
	$(PY) -m sandbox --tcp $(IGGY_TCP_ADDRESS) --http $(HTTP_LISTEN) --data-dir $(COURSE_DATA_DIR)

up: ## start the real Apache Iggy 0.9.0 in Docker and wait until it is healthy
	docker compose up -d --wait

down: ## stop the Docker server (its data stays; `docker compose down -v` deletes it)
	docker compose down

reset: $(RUNTIME) ## delete the streams and users the notebooks created (PREFIX=nb03 for one notebook)
	$(PY) -m coursekit.reset $(PREFIX)

classroom: $(RUNTIME) ## create N learner users on a shared server and print their settings (N=30)
	$(PY) -m coursekit.classroom $(N) $(ARGS)

bench: $(RUNTIME) ## sandbox throughput per workload against the SDK's own ceiling; exits 1 below target
	$(PY) -m bench.throughput $(ARGS)

clean: ## remove .venv, the sandbox's data and all caches
	rm -rf $(VENV) .sandbox-data .cache .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

# The two commands: `make demo` runs one night end to end on the embedded default; `make test` runs the tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NIGHT  ?=
EXECUTOR ?=
# The BI tool's venv (bi_tool/): see the `bi` targets below.
SUPERSET_VENV  := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
PORT   ?=

export DO_NOT_TRACK := 1

# A long install says what it installs and about how long it takes before, and how long it took after:
# $(call install-started,VENV,WHAT,USUAL TIME) … $(call install-finished,VENV)
install-started  = @mkdir -p $(1) && date +%s > $(1)/.install-started && echo "installing $(2) into $(1) ($(3))…"
install-finished = @echo "$(1) ready in $$(( $$(date +%s) - $$(cat $(1)/.install-started) )) s" && rm -f $(1)/.install-started

.PHONY: airflow airflow-stop demo test lint lint-fix install warehouse-stop clean bench bench-full bi bi-screenshot bi-bundle bi-lock superset-install docs browser

install: $(STAMP)

# The editable install maps the production packages only (pyproject.toml: what the wheel ships); the development ones
# (sharewhy_dev, simulator, bench) run from the checkout, which this .pth puts on the venv's sys.path, so that
# `.venv/bin/sharewhy demo` finds them from any folder.
define CHECKOUT_ON_PATH
import pathlib, sys, sysconfig
pathlib.Path(sysconfig.get_path("purelib"), "sharewhy-checkout.pth").write_text(sys.argv[1] + "\n")
endef
export CHECKOUT_ON_PATH

# Reinstall only when the dependency list or the lock file changed.
$(STAMP): pyproject.toml constraints.txt
	$(call install-started,$(VENV),Airflow + dbt + Great Expectations + the project,≈1–2 min)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -c "$$CHECKOUT_ON_PATH" $(CURDIR)
	touch $(STAMP)
	$(call install-finished,$(VENV))

demo: $(STAMP)
	$(BIN)/sharewhy demo $(if $(NIGHT),--night $(NIGHT))

# Airflow's api-server, scheduler, dag-processor and triggerer on 127.0.0.1 (UI http://127.0.0.1:8080, PORT=…; the admin
# password is printed), with the embedded warehouse, the simulator's connections and the webhook receiver (:8090).
# Runs in the foreground: Ctrl-C stops everything; so does `make airflow-stop` from another shell.
# EXECUTOR=celery: CeleryExecutor with two workers over the Redis of SHAREWHY_CELERY_BROKER_URL (127.0.0.1:6379).
airflow: $(STAMP)
	$(if $(PORT),SHAREWHY_AIRFLOW_PORT=$(PORT) )$(BIN)/sharewhy airflow up $(if $(EXECUTOR),--executor $(EXECUTOR))

airflow-stop: $(STAMP)
	$(BIN)/sharewhy airflow stop

# The linters, clean or `make test` stops before the tests: ruff (lint and format) over the Python, sqlfluff over the
# dbt SQL (.sqlfluff: PostgreSQL, Jinja rendered with dbt_project/sqlfluff_jinja's stubs of dbt), mypy over
# ingestion/ and expectations/. `make lint-fix` applies what ruff and sqlfluff can fix by themselves.
DBT_SQL := dbt_project/models dbt_project/macros dbt_project/data-tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint $(DBT_SQL)
	$(BIN)/mypy

lint-fix: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix $(DBT_SQL)

# The dashboards' acceptance test runs the real Superset: its venv is built once (≈ 1–2 min), a no-op afterwards;
# and renders every chart in Chromium (`make browser`).
test: lint $(STAMP) $(SUPERSET_STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Apache Superset in its own venv (its pins, e.g. sqlalchemy<2, clash with Airflow's), locked by bi_tool/constraints.txt.
superset-install: $(SUPERSET_STAMP)

$(SUPERSET_STAMP): bi_tool/requirements.txt bi_tool/constraints.txt
	$(call install-started,$(SUPERSET_VENV),Apache Superset,≈1–2 min)
	test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/pip install --quiet --upgrade pip
	$(SUPERSET_VENV)/bin/pip install --quiet -c bi_tool/constraints.txt -r bi_tool/requirements.txt
	touch $(SUPERSET_STAMP)
	$(call install-finished,$(SUPERSET_VENV))

# Superset on 127.0.0.1:8088 (PORT=…) with the stakeholder dashboard provisioned against the warehouse; Ctrl-C stops.
bi: $(STAMP) $(SUPERSET_STAMP)
	$(BIN)/python -m bi_tool.provision serve $(if $(PORT),--port $(PORT))

# Debian's chromium and chromium-driver (the browser test and the screenshots): installed with apt-get when either
# is missing (≈ 15 s, needs root), otherwise a clear message of what to install.
CHROMIUM     := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
APT_BROWSER  := apt-get install -y --no-install-recommends chromium chromium-driver

browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "$(CHROMIUM) or $(CHROMEDRIVER) is missing: install Debian's chromium and chromium-driver" \
	       "(as root: apt-get install -y chromium chromium-driver), then run make again" >&2; exit 1; fi; \
	echo "installing Debian's chromium and chromium-driver with apt-get (≈ 15 s)"; \
	{ $(APT_BROWSER) >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && $(APT_BROWSER) >/dev/null; }; } \
	  && [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ] \
	  || { echo "apt-get could not install chromium and chromium-driver: install them by hand" \
	            "(apt-get install -y chromium chromium-driver)" >&2; exit 1; }

# Screenshots of the dashboard as the admin and as the viewer, into .sharewhy/screenshots/ (untracked);
# README=1 rewrites the README's images instead (bi_tool/dashboard-admin.png, bi_tool/dashboard-viewer.png).
README ?=
bi-screenshot: $(STAMP) $(SUPERSET_STAMP) browser
	$(BIN)/python -m bi_tool.provision screenshot $(if $(filter 1,$(README)),--readme)

# Regenerate the committed YAML bundle from bi_tool/dashboards.py.
bi-bundle: $(STAMP)
	$(BIN)/python -m bi_tool.dashboards write

# Re-resolve bi_tool/requirements.txt into the lock file, in a scratch venv.
bi-lock:
	rm -rf .venv-superset-lock && $(PYTHON) -m venv .venv-superset-lock
	.venv-superset-lock/bin/pip install --quiet -r bi_tool/requirements.txt
	.venv-superset-lock/bin/pip check
	{ sed -n '1,2p' bi_tool/constraints.txt; .venv-superset-lock/bin/pip freeze | sort -f; } > bi_tool/constraints.txt.new
	mv bi_tool/constraints.txt.new bi_tool/constraints.txt && rm -rf .venv-superset-lock

# The dbt docs site for analysts, generated into .sharewhy/dbt-docs/ and served on 127.0.0.1:8081 (PORT=…); Ctrl-C stops.
docs: $(STAMP)
	$(BIN)/python -m bi_tool.docs $(if $(PORT),--port $(PORT))

# Benchmarks (bench/): `make bench` is the quick version (under 5 minutes), `make bench-full` the reference scale.
# dlt and py-spy live in a bench-only venv with its own lock file, so the project's lock stays untouched.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_ARGS  ?=

$(BENCH_STAMP): bench/requirements.lock
	$(call install-started,$(BENCH_VENV),the benchmarks' dlt and py-spy,≈1 min)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet --no-deps -r bench/requirements.lock
	touch $(BENCH_STAMP)
	$(call install-finished,$(BENCH_VENV))

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m bench --profile quick $(BENCH_ARGS)

bench-full: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m bench --profile full $(BENCH_ARGS)

warehouse-stop: $(STAMP)
	$(BIN)/sharewhy warehouse stop

clean: warehouse-stop
	rm -rf .sharewhy dbt_project/target dbt_project/logs

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

.PHONY: airflow airflow-stop demo test install warehouse-stop clean bench bench-full bi bi-screenshot bi-bundle bi-lock superset-install docs

install: $(STAMP)

# Reinstall only when the dependency list or the lock file changed.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sharewhy demo $(if $(NIGHT),--night $(NIGHT))

# Airflow's api-server, scheduler, dag-processor and triggerer on 127.0.0.1 (UI http://127.0.0.1:8080, the admin
# password is printed), with the embedded warehouse, the simulator's connections and the webhook receiver (:8090).
# Runs in the foreground: Ctrl-C stops everything; so does `make airflow-stop` from another shell.
# EXECUTOR=celery: CeleryExecutor with two workers over the Redis of SHAREWHY_CELERY_BROKER_URL (127.0.0.1:6379).
airflow: $(STAMP)
	$(BIN)/sharewhy airflow up $(if $(EXECUTOR),--executor $(EXECUTOR))

airflow-stop: $(STAMP)
	$(BIN)/sharewhy airflow stop

# The dashboards' acceptance test runs the real Superset: its venv is built once (≈ 1–2 min), a no-op afterwards.
test: $(STAMP) $(SUPERSET_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Apache Superset in its own venv (its pins, e.g. sqlalchemy<2, clash with Airflow's), locked by bi_tool/constraints.txt.
superset-install: $(SUPERSET_STAMP)

$(SUPERSET_STAMP): bi_tool/requirements.txt bi_tool/constraints.txt
	test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/pip install --quiet --upgrade pip
	$(SUPERSET_VENV)/bin/pip install --quiet -c bi_tool/constraints.txt -r bi_tool/requirements.txt
	touch $(SUPERSET_STAMP)

# Superset on 127.0.0.1:8088 (PORT=…) with the stakeholder dashboard provisioned against the warehouse; Ctrl-C stops.
bi: $(STAMP) $(SUPERSET_STAMP)
	$(BIN)/python -m bi_tool.provision serve $(if $(PORT),--port $(PORT))

# bi_tool/dashboard.png for the README (needs Debian's chromium and chromium-driver).
bi-screenshot: $(STAMP) $(SUPERSET_STAMP)
	$(BIN)/python -m bi_tool.provision screenshot

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

# The dbt docs site for analysts, generated into .sharewhy/dbt-docs/ and served on 127.0.0.1:8081; Ctrl-C stops.
docs: $(STAMP)
	$(BIN)/python -m bi_tool.docs

# Benchmarks (bench/): `make bench` is the quick version (under 5 minutes), `make bench-full` the reference scale.
# dlt and py-spy live in a bench-only venv with its own lock file, so the project's lock stays untouched.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_ARGS  ?=

$(BENCH_STAMP): bench/requirements.lock
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet --no-deps -r bench/requirements.lock
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m bench --profile quick $(BENCH_ARGS)

bench-full: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m bench --profile full $(BENCH_ARGS)

warehouse-stop: $(STAMP)
	$(BIN)/sharewhy warehouse stop

clean: warehouse-stop
	rm -rf .sharewhy dbt_project/target dbt_project/logs

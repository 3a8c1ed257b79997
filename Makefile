# The two commands: `make demo` runs one night end to end on the embedded default; `make test` runs the tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NIGHT  ?=

export DO_NOT_TRACK := 1

.PHONY: demo test install warehouse-stop clean

install: $(STAMP)

# Reinstall only when the dependency list or the lock file changed.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sharewhy demo $(if $(NIGHT),--night $(NIGHT))

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

warehouse-stop: $(STAMP)
	$(BIN)/sharewhy warehouse stop

clean: warehouse-stop
	rm -rf .sharewhy dbt_project/target dbt_project/logs

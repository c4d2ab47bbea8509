# Two commands on a fresh machine: `make demo` and `make test`.
# Both create the virtual environment (.venv) on first use, pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv browser benchmark clean lock

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/retention-ml demo

# Chromium renders the HTML lists and model cards in tests; install it when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  ( command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ) || \
	  echo "chromium could not be installed; browser tests will be skipped with that reason"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

benchmark: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b; done

# Refresh the pinned versions after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^retention' > constraints.txt

clean:
	rm -rf $(VENV) demo-output mlruns mlartifacts mlflow.db .pytest_cache

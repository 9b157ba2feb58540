# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv from
# pyproject.toml first (again whenever pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench eval lint clean

# The labelled corpus of real reporting that `make eval` scores the shipped rules on.
CORPUS ?= ../shared/corpus

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/monitor demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

eval: $(STAMP)
	@if [ -f $(CORPUS)/labels.jsonl ]; then $(BIN)/monitor rules eval $(CORPUS) -r rules/; \
	else echo "make eval: no labelled corpus at $(CORPUS) (set CORPUS=folder with labels.jsonl)"; fi

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[demo,test,dev]'
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/ruff check monitor tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist

# Two commands for a new user (Python >= 3.11 is all they need):
#   make reproduce   set up .venv if needed, then the main job (rdpc reproduce --quick)
#   make test        set up .venv if needed, then lint, types and the test suite
# Override on the command line: make reproduce DATA=/path/to/data OUT=results/quick
# (DATA holds mnist/*.gz; see README "Data"). The venv is made once and reused.

PYTHON ?= python3
VENV ?= .venv
DATA ?= ../shared/data
OUT ?= results/quick
BIN := $(VENV)/bin

.PHONY: reproduce test

reproduce: $(VENV)/.installed
	RDPC_DATA=$(DATA) $(BIN)/rdpc reproduce --quick --out $(OUT)

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy rdpc_common rdpc_theory rdpc rdpc_neural paper_checks figures
	RDPC_DATA=$(DATA) MPLBACKEND=Agg $(BIN)/python -m pytest -q --durations=15

# The README's install, redone when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[neural,dev,ray,slurm]"
	touch $@

# Two entry points for a fresh machine: `make demo` and `make test`.
# torch is installed first only when it is missing, and then as the CPU build pinned
# below (a local file on the project's machines); an existing torch >= 2.2 is kept.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
TORCH_CPU ?= torch==2.13.0

.PHONY: install install-test demo test typecheck lint

install:
	$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_CPU)"
	$(PIP) install -q -e ".[plot]"

install-test:
	$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_CPU)"
	$(PIP) install -q -e ".[test]"

demo: install
	$(PYTHON) -m mibound demo

test: install-test typecheck
	$(PYTHON) -m pytest -n 2

typecheck:
	$(PYTHON) -m mypy src

lint:
	ruff check . && ruff format --check .

# The two set-up commands of the README: `make run` and `make test`.
# Both install what they need first: uv (from PyPI) and the locked environment.

SHELL := /bin/bash
TOOLS := .itss/tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)

.PHONY: run test lint install

run: install
	$(UV) run --frozen itss run

test: install
	$(UV) run --frozen pytest

lint: install
	$(UV) run --frozen ruff check src tests dags expectations
	$(UV) run --frozen ruff format --check src tests dags expectations

install: $(UV)
	$(UV) sync --frozen --python 3.11

# Bootstrap uv without touching the system Python: a private venv, or pip --target
# where Debian's python3 has no venv module.
$(TOOLS)/bin/uv:
	@mkdir -p $(TOOLS)
	python3 -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet uv \
	  || (python3 -m pip install --quiet --target $(TOOLS)/lib uv && mkdir -p $(TOOLS)/bin \
	      && ln -sf ../lib/bin/uv $(TOOLS)/bin/uv)

# The two set-up commands of the README: `make run` and `make test`.
# Both install what they need first: uv (from PyPI) and the locked environment.

SHELL := /bin/bash
TOOLS := .itss/tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)

.PHONY: run test test-fast bench lint install report-fonts

run: install
	$(UV) run --frozen itss run

test: install
	$(UV) run --frozen pytest

# The fast tier: no PostgreSQL (integration) and no Airflow or dbt run (slow), in one process.
test-fast: install
	$(UV) run --frozen pytest -m "not integration and not slow" -n 0

# The benchmark suite at 1,000,000 and 100,000 tickets (docs/performance.md); not a test.
bench: install
	$(UV) run --frozen itss bench

lint: install
	$(UV) run --frozen ruff check src tests dags expectations
	$(UV) run --frozen ruff format --check src tests dags expectations
	$(UV) run --frozen mypy
	$(UV) run --frozen sqlfluff lint dbt_project/models

# Bytecode compiled once at install (as in the image): where PYTHONDONTWRITEBYTECODE is set,
# every process (each Airflow task, dbt, Great Expectations) would otherwise compile the
# libraries' sources again, seconds per task (docs/performance.md).
install: $(UV) report-fonts
	$(UV) sync --frozen --python 3.11 --compile-bytecode

# PDF reports need a font covering Chinese (never boxes) and HarfBuzz's subsetter
# (WeasyPrint embeds only the glyphs used); the tests read PDFs' text with poppler's
# pdftotext: Debian's packages, installed once.
report-fonts:
	@if ! fc-list :lang=zh-cn family 2>/dev/null | grep -q . || ! ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1 || ! command -v pdftotext >/dev/null; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -q fontconfig fonts-noto-cjk libharfbuzz-subset0 poppler-utils \
	    || ($$SUDO apt-get update -q && $$SUDO apt-get install -y -q fontconfig fonts-noto-cjk libharfbuzz-subset0 poppler-utils); \
	fi

# Bootstrap uv without touching the system Python: a private venv, or pip --target
# where Debian's python3 has no venv module.
$(TOOLS)/bin/uv:
	@mkdir -p $(TOOLS)
	python3 -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet uv \
	  || (python3 -m pip install --quiet --target $(TOOLS)/lib uv && mkdir -p $(TOOLS)/bin \
	      && ln -sf ../lib/bin/uv $(TOOLS)/bin/uv)

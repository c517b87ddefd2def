# Two entry points (README): `make demo` runs the main job, `make test` runs the checks.
# Each creates .venv with what it needs, so a fresh clone with only Python and pip works.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test lint bench clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	touch $@

$(VENV)/.demo-deps: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e ".[demo]"
	touch $@

$(VENV)/.test-deps: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.demo-deps
	$(PY) examples/run_demo.py

test: $(VENV)/.test-deps
	$(VENV)/bin/ruff check src tests bench examples
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test-deps
	$(PY) bench/case07_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

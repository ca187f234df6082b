# The two README commands: `make run` (main job) and `make test` (test suite).
# Both create or reuse the virtual environment in $(VENV) first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.pixinfo-installed
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: run test test-all bench setup docs docs-check tables
run: $(STAMP)
	$(BIN)/pixinfo score

test: $(STAMP)  ## two worker processes, each test file whole in one of them, one thread each (no oversubscription)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile

test-all: $(STAMP)  ## includes the slow experiments (meant for a GPU machine)
	$(BIN)/python -m pytest -m "slow or not slow"

docs: $(STAMP)  ## the docs site (MkDocs, warnings are errors) into site/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-check: $(STAMP)  ## the built site/ as a reader sees it: links resolve; pages render in headless Chromium, images load
	$(BIN)/python scripts/check_site.py site $(DOCS_CHECK_FLAGS)

tables: $(STAMP)  ## every committed table and figure, from the committed per-run records (trains nothing)
	PYTHON=$(BIN)/python bash analyses/regenerate.sh

bench: $(STAMP)
	$(BIN)/python analyses/bench_information.py

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PINS)
	$(BIN)/python -m pip install --quiet -e '.[dev,ray,docs,cipher]'
	bash scripts/install_fashion_mnist.sh
	bash scripts/install_chromium.sh
	touch $(STAMP)

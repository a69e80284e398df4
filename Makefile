# One command to set up and run the examples, one to set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean browser

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The main job: train on the shipped data (model version N), then score new rows in a second workflow
# that loads the saved model by name.
run: $(BIN)/.installed
	$(BIN)/emberflow run workflows/train.yaml
	$(BIN)/emberflow run workflows/score.yaml
	$(BIN)/emberflow models list

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# The web UI's end-to-end test drives Debian's chromium (Playwright's own browser downloads are not used).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# The Spark standalone-cluster test runs in a pytest invocation of its own (a process cannot switch its Spark
# master); the first invocation leaves it out, so it runs once.
test: $(BIN)/.installed browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not cluster"
	$(BIN)/python -m pytest -m cluster tests/spark_cluster

# Every benchmark against its hand-written baseline (bench/README.md): prints the ratios, writes bench/results/.
bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) models output .pytest_cache .ruff_cache

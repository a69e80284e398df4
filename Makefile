# One command to set up and run the examples, one to set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run run-sklearn test lint bench clean browser editor

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# pyspark 3.5, the Spark of many production clusters, in a second environment (the pyspark client must match the
# cluster): make test runs a subset of the Spark tests against it, and loads models across the two Spark versions.
# It installs the package without the dev tools; pip's cache serves what the first environment downloaded.
SPARK35_VENV ?= .venv-spark35
SPARK35 := $(SPARK35_VENV)/bin
PYSPARK35 ?= 3.5.9

$(SPARK35)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SPARK35_VENV)
	$(SPARK35)/python -m pip install --quiet --upgrade pip
	$(SPARK35)/python -m pip install --quiet -e ".[spark,tests]" "pyspark==$(PYSPARK35)"
	touch $@

# The embedded engine's examples (pandas + scikit-learn, no Java): train and save, load and score the diabetes
# pair; the clean_ pair prepares a messy CSV (missing labels, ages as text with stray values, a lookup table to
# join, SQL) before it trains and scores; the tutorial's script pickles a model that a workflow loads from its
# path and scores; the penguins pair trains a random forest on raw rows with text columns and gaps, and scores new
# rows holding an island it never saw (the same files run on Spark and H2O below, with --var engine=...).
define sklearn_examples
	$(BIN)/emberflow run workflows/train.yaml
	$(BIN)/emberflow run workflows/score.yaml
	$(BIN)/emberflow run workflows/clean_train.yaml
	$(BIN)/emberflow run workflows/clean_score.yaml
	$(BIN)/python workflows/tutorial_script.py
	$(BIN)/emberflow run workflows/score_tutorial_pickle.yaml
	$(BIN)/emberflow run workflows/penguins_train.yaml
	$(BIN)/emberflow run workflows/penguins_score.yaml
endef

# The main job: the example workflows on the shipped data. Each engine trains and saves a new model version,
# then a second workflow loads it by name and scores new rows (the last one with H2O's MOJO and no H2O running).
run: $(BIN)/.installed
	$(sklearn_examples)
	$(BIN)/emberflow run workflows/train_spark.yaml
	$(BIN)/emberflow run workflows/score_spark.yaml
	$(BIN)/emberflow run workflows/train_h2o.yaml
	$(BIN)/emberflow run workflows/score_h2o.yaml
	$(BIN)/emberflow run workflows/score_mojo.yaml
	$(BIN)/emberflow run workflows/penguins_train.yaml --var engine=spark
	$(BIN)/emberflow run workflows/penguins_score.yaml --var engine=spark
	$(BIN)/emberflow run workflows/penguins_train.yaml --var engine=h2o
	$(BIN)/emberflow run workflows/penguins_score.yaml --var engine=h2o
	$(BIN)/emberflow models list

# The embedded engine alone, in seconds.
run-sklearn: $(BIN)/.installed
	$(sklearn_examples)
	$(BIN)/emberflow models list

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# The web UI's end-to-end test drives Debian's chromium (Playwright's own browser downloads are not used).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# The workflow editor's JavaScript (React Flow, from npm with the lockfile) built into engine/ui/static/editor/,
# which is committed and shipped in the package: only needed after changing engine/ui/editor/src (needs Node.js).
editor:
	cd engine/ui/editor && npm ci && npm run build

# The Spark tests that pyspark 3.5 runs too (about 100 s): sessions, ReadCSV, the preparation nodes and SQL, the
# store's Spark models, what pyspark 3.5 lacks (test_spark_compat), and the spark35 tests, which train, save, load
# and score across the two environments' Spark versions (EMBERFLOW_MAIN_VENV names the first environment).
SPARK35_TESTS := tests/spark/test_sessions.py tests/spark/test_read_split.py tests/spark/test_prep_nodes.py \
	tests/spark/test_sql.py tests/spark/test_store_reliability.py tests/spark/test_spark_models.py tests/spark/test_spark_compat.py \
	tests/spark/test_across_spark_versions.py

# The Spark standalone-cluster test runs in a pytest invocation of its own (a process cannot switch its Spark
# master), and so does the two-node H2O cloud test (the h2o client holds one connection per process); the first
# invocation leaves both out, so each runs once.
test: $(BIN)/.installed $(SPARK35)/.installed browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not cluster and not spark35"
	$(BIN)/python -m pytest -m cluster tests/spark_cluster
	$(BIN)/python -m pytest -m cluster tests/h2o_cluster
	EMBERFLOW_MAIN_VENV=$(abspath $(VENV)) $(SPARK35)/python -m pytest $(SPARK35_TESTS)

# Every benchmark against its hand-written baseline (bench/README.md): prints the ratios, writes bench/results/.
bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(SPARK35_VENV) models output .pytest_cache .ruff_cache

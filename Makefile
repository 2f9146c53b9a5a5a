# churn: `make train` and `make test` are all a fresh machine needs. `make help` lists the rest.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHURN := $(BIN)/churn
PYPROJECT_HASH := $(shell sha1sum pyproject.toml | cut -c1-12)
STAMP := $(VENV)/.installed-$(PYPROJECT_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(PYPROJECT_HASH)

# Short forms `make train data=... target=... model=...`; any other Hydra override of the train
# step goes in ARGS, e.g. `make train ARGS="split.n_folds=4"`.
DATA_OVERRIDES := $(if $(data),data=$(data))
TRAIN_OVERRIDES := $(DATA_OVERRIDES) $(if $(target),target=$(target)) $(if $(model),model=$(model)) $(ARGS)
# The demo world lives in data/; any other data config in data/<name>/, so datasets never mix.
DATA_DIR ?= $(if $(filter-out synthetic,$(data)),data/$(data),data)
OUT_SUFFIX := $(if $(filter-out synthetic,$(data)),/$(data))
OUT_PATHS = paths.data_dir=$(DATA_DIR) paths.reports_dir=reports$(OUT_SUFFIX) paths.scores_dir=scores$(OUT_SUFFIX) paths.outcomes_dir=outcomes$(OUT_SUFFIX)

.PHONY: help setup setup-dev data validate features train uplift score outcomes report bench peers test test-fast lint mlflow-ui clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

# Training needs only the project itself; the tests and benchmarks add Spark and the test tools.
$(STAMP): pyproject.toml
	@echo "setting up $(VENV) (pyproject.toml changed or first run)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-*
	touch $@

$(DEV_STAMP): $(STAMP)
	@echo "adding the Spark and test extras to $(VENV)"
	$(BIN)/python -m pip install --quiet -e '.[spark,dev]'
	rm -f $(VENV)/.installed-dev-*
	touch $@

setup: $(STAMP) ## create .venv and install the project (skipped when pyproject.toml is unchanged)

setup-dev: $(DEV_STAMP) ## setup, plus Spark and the test tools (make test and make bench use it)

data: setup ## simulate the demo CRM world into data/raw, unless it is already there
	@if [ -n "$(filter-out synthetic,$(data))" ]; then \
		echo "data: $(data) is read where configs/data/$(data).yaml points (nothing to simulate)"; \
	elif [ -f $(DATA_DIR)/raw/customers.parquet ]; then \
		echo "data: $(DATA_DIR)/raw already holds a world, skipping (make clean to start over)"; \
	else $(CHURN) simulate paths.data_dir=$(DATA_DIR); fi

validate: data ## check the raw tables and load them into the warehouse, rejects kept with reasons
	$(CHURN) validate paths.data_dir=$(DATA_DIR) $(DATA_OVERRIDES)

features: validate ## build point-in-time features and labels per cutoff into data/features
	$(CHURN) features paths.data_dir=$(DATA_DIR) $(DATA_OVERRIDES)

train: features ## the main job: data, validate, features, train and register, response model, retention report
	$(CHURN) train paths.data_dir=$(DATA_DIR) $(TRAIN_OVERRIDES)
	$(if $(filter-out churn,$(target)),,$(CHURN) uplift paths.data_dir=$(DATA_DIR) $(DATA_OVERRIDES) || echo "uplift: no response model this time (the line above says why); the churn model is trained")
	$(if $(filter-out churn,$(target)),@echo "report: only for target=churn",$(CHURN) report $(OUT_PATHS) $(DATA_OVERRIDES))

score: setup ## score the whole base with the champion: scores/as_of=YYYY-MM-DD/, call list, drift
	$(CHURN) score $(OUT_PATHS) $(DATA_OVERRIDES) $(ARGS)

uplift: setup ## fit the retention response model on past randomized calls (registry: <prefix>-retention_uplift)
	$(CHURN) uplift paths.data_dir=$(DATA_DIR) $(DATA_OVERRIDES) $(ARGS)

outcomes: setup ## did the calls work? lists whose label window closed: outcomes/as_of=YYYY-MM-DD/
	$(CHURN) outcomes $(OUT_PATHS) $(DATA_OVERRIDES) $(ARGS)

report: setup ## the retention report for the champion: reports/retention_report.html
	$(CHURN) report $(OUT_PATHS) $(DATA_OVERRIDES) $(ARGS)

bench: setup-dev ## run every benchmark; results in benchmarks/results/
	$(BIN)/python benchmarks/run.py

PEERS := benchmarks/peers/.venv
peers: ## AutoGluon for the peer column of make bench, in its own benchmarks/peers/.venv
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q -r benchmarks/peers/requirements.txt

test: setup-dev ## the whole suite, as CI runs it (slow, Spark, browser and real-data tests included)
	$(BIN)/python -m pytest -n auto --dist loadgroup

test-fast: setup-dev ## the inner loop: everything but the slow tests
	$(BIN)/python -m pytest -n auto --dist loadgroup -m "not slow"

lint: setup-dev ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

mlflow-ui: setup ## the MLflow UI on http://127.0.0.1:5000
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --default-artifact-root mlruns --host 127.0.0.1 --port 5000

clean: ## remove generated data, runs, reports, scores and caches (keeps .venv)
	rm -rf $(DATA_DIR) reports scores outcomes mlruns mlflow.db outputs spark-warehouse metastore_db derby.log .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

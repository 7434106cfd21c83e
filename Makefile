# Set-up and everyday commands.  `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run serve demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: the built-in editions, the 2022 ranking recomputed from the published
## main-indicator values (with the published figures beside it), a province profile, and a
## 10,000-run uncertainty analysis on the illustrative 63-province demo data; the assessment demo
## (simulated answers, one log-in per role, printed); then it serves the results portal at
## http://127.0.0.1:8000/ and the assessment app at http://127.0.0.1:8000/app/ until Ctrl+C.
run: install
	$(BIN)/dti editions
	$(BIN)/dti compute --edition dti-province-2022
	$(BIN)/dti compare dti-province-2021 dti-province-2022
	$(BIN)/dti province "Đà Nẵng" --edition dti-province-2022
	mkdir -p var
	$(BIN)/dti analyse uncertainty --demo --runs 10000 --chart var/rank-intervals.svg
	@echo "Rank-interval chart: var/rank-intervals.svg (synthetic illustrative data beyond the top 5)"
	$(BIN)/dti demo
	@echo "Portal: http://$(HOST):$(PORT)/   Assessment app: http://$(HOST):$(PORT)/app/ (log-ins above)"
	$(BIN)/dti serve --host $(HOST) --port $(PORT)

## The assessment demo alone: the illustrative edition with simulated answers and the demo log-ins
## (in var/dti.db, or $$DTI_DATABASE_URL); running it again creates nothing and prints them again.
demo: install
	$(BIN)/dti demo

## The public results portal (published editions; English under /en/, open data under /api/v1/) and
## the assessment app under /app/.
serve: install
	$(BIN)/dti serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python benchmarks/cli.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/analysis.py
	$(BIN)/python benchmarks/planner.py
	$(BIN)/python benchmarks/portal.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis

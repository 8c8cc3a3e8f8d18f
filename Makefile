# mjdiff: the two quick-start commands (README) and a few helpers.
#   make reproduce   create/refresh .venv, install mjdiff, run the papermill reproduction (preset demo)
#   make test        create/refresh .venv, check notebooks ↔ library sync, run notebook tests and pytest
PYTHON ?= python3
VENV   ?= .venv
PRESET ?= demo
OUT    ?= outputs/$(PRESET)
PARAMS ?=
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mjdiff-installed

.PHONY: install reproduce test sync demo-checkpoint clean-outputs

$(STAMP): setup.py settings.ini
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip setuptools wheel
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

reproduce: install
	$(BIN)/mjdiff reproduce --preset $(PRESET) --out $(OUT) $(foreach p,$(PARAMS),--param $(p))

test: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q tests

# Rebuild the shipped demo weights from scratch (about 35 minutes on 2 CPU cores), then strip them to EMA weights.
demo-checkpoint: install
	$(BIN)/mjdiff reproduce --preset demo_pretrain --out outputs/demo_pretrain
	$(BIN)/mjdiff export-checkpoint outputs/demo_pretrain/checkpoints/last.pt mjdiff/assets/demo.pt

# After editing notebooks: regenerate the library and clean notebook metadata.
sync: install
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

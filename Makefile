# mjdiff: the two quick-start commands (README) and a few helpers.
#   make reproduce   create/refresh .venv, install mjdiff, run the papermill reproduction (preset demo)
#   make test        create/refresh .venv, check notebooks ↔ library sync, run notebook tests and pytest
#   make docs        the documentation site in _docs/ from the notebooks (nbdev_docs with Quarto, else a preview)
PYTHON ?= python3
VENV   ?= .venv
PRESET ?= demo
OUT    ?= outputs/$(PRESET)
PARAMS ?=
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mjdiff-installed

.PHONY: install reproduce test sync demo-checkpoint cifar-checkpoint cifar-paper-checkpoint demo-screenshot clean-outputs docs browser-deps

# A new .venv takes about 6.5 GiB (torch): refuse in one line when the disk cannot hold it, not deep in pip.
$(STAMP): setup.py settings.ini
	@test -x $(BIN)/python || { free=$$(df -Pk "$$(dirname $(VENV))" | awk 'NR==2 {print int($$4 / 1048576)}'); \
	  [ -z "$$free" ] || [ "$$free" -ge 7 ] \
	  || { echo "install: a new $(VENV) needs about 7 GiB free, only $$free GiB left (df -h $$(dirname $(VENV)))" >&2; exit 1; }; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip setuptools wheel
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

reproduce: install
	$(BIN)/mjdiff reproduce --preset $(PRESET) --out $(OUT) $(foreach p,$(PARAMS),--param $(p))

test: install browser-deps
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2
	# two workers, one thread each, each test file whole on one worker (module fixtures built once)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=12 tests

# For tests/test_browser.py: Debian's Chromium (only when /usr/bin/chromium is missing, and only as root) and the
# playwright package from PyPI (never `playwright install`). A failure is reported here and the browser test skips.
browser-deps: install
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "browser-deps: installing Debian's chromium (log: $(VENV)/chromium-install.log)"; \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } </dev/null >$(VENV)/chromium-install.log 2>&1 \
	      || echo "browser-deps: apt-get install chromium failed (see $(VENV)/chromium-install.log); tests/test_browser.py will skip"; \
	  else echo "browser-deps: /usr/bin/chromium is missing and we are not root; tests/test_browser.py will skip"; fi; \
	fi
	@$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m pip install -q --disable-pip-version-check playwright \
	  || echo "browser-deps: pip install playwright failed; tests/test_browser.py will skip"

# Rebuild the CIFAR-10 × MNIST weights from scratch (preset cifar10_mnist_pretrain, many hours on 2 CPU cores; stopped,
# the same command resumes it exactly), then strip them to EMA weights: tools/cifar_checkpoint.sh, one run per stage.
# CIFAR_PARAMS, given to every stage: representation alignment of the photo at the middle stage with the cached
# alignment encoder (trained first, 10-20 CPU-minutes). CIFAR_STAGES, one word per stage (k=v joined by commas): from
# scratch a constant LR to step 8,000, then a linear cooldown to 0 over 2,000 steps (640,000 pairs); each later stage
# from the EMA weights of the one before, with a new optimizer and a 200-step LR warm-up, the step and the running
# totals going on: to step 12,000 decaying linearly to 0 over the 2,000 (768,000 pairs), then to step 13,000 decaying
# over the 1,000 (832,000 pairs: the shipped weights). PARAMS add to every stage (a stage's own come last).
# The unaligned weights shipped before: CIFAR_PARAMS= CIFAR_STAGES=steps=32750,lr_decay=5000.
# cifar-paper-checkpoint: the same for the paper's method (cifar10_mnist_paper_pretrain), whose weights are kept so
# that its long run survives a lost machine.
CIFAR_PARAMS ?= align_modality=photo align_encoder=cached align_stage=mid
CIFAR_STAGES ?= steps=10000,lr_decay=2000 steps=12000,lr_decay=2000 steps=13000,lr_decay=1000
cifar-checkpoint: install
	MJDIFF=$(BIN)/mjdiff PARAMS="$(CIFAR_PARAMS) $(PARAMS)" tools/cifar_checkpoint.sh outputs/cifar10_mnist_pretrain $(CIFAR_STAGES)

cifar-paper-checkpoint: install
	$(BIN)/mjdiff reproduce --preset cifar10_mnist_paper_pretrain --out outputs/cifar10_mnist_paper_pretrain --stages train $(foreach p,$(PARAMS),--param $(p))
	$(BIN)/mjdiff export-checkpoint outputs/cifar10_mnist_paper_pretrain/checkpoints/last.pt mjdiff/assets/cifar10_mnist_paper.pt

# The front page's picture of the interactive demo: the browser test (tests/test_browser.py) on the shipped demo
# weights, after training their classifiers once (cached), writes nbs/images/demo_app.png.
demo-screenshot: browser-deps
	OMP_NUM_THREADS=1 $(BIN)/python -c "from mjdiff.demo_app import load_demo; load_demo('mjdiff/assets/demo.pt')"
	MJDIFF_SCREENSHOT=nbs/images/demo_app.png OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -s tests/test_browser.py

# The documentation site in _docs/: Quarto from the quarto-cli package when it installs (its PyPI release is a source
# package that downloads Quarto while it builds), else tools/build_docs.py builds a preview with nbconvert.
docs: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" command -v quarto >/dev/null 2>&1 \
	  || $(BIN)/python -m pip install -q --disable-pip-version-check quarto-cli >$(VENV)/quarto-install.log 2>&1 \
	  || echo "docs: quarto-cli could not be installed (log: $(VENV)/quarto-install.log); building the preview without Quarto"
	PATH="$(CURDIR)/$(BIN):$$PATH" OMP_NUM_THREADS=1 $(BIN)/python tools/build_docs.py

# Rebuild the shipped demo weights from scratch, then strip them to EMA weights: 19,500 steps (demo_pretrain, about
# 3 h 50 min on 2 idle CPU cores), then 5,000 more from its weights, re-warmed and decayed (demo_pretrain2, about 1 h),
# then two occlusion fine-tunes of 1,500 and 2,000 steps (demo_pretrain3 and 4, about 35 and 45 min at one thread).
demo-checkpoint: install
	$(BIN)/mjdiff reproduce --preset demo_pretrain --out outputs/demo_pretrain --stages train
	$(BIN)/mjdiff reproduce --preset demo_pretrain2 --out outputs/demo_pretrain2 --stages train
	$(BIN)/mjdiff reproduce --preset demo_pretrain3 --out outputs/demo_pretrain3 --stages train
	$(BIN)/mjdiff reproduce --preset demo_pretrain4 --out outputs/demo_pretrain4 --stages train
	$(BIN)/mjdiff export-checkpoint outputs/demo_pretrain4/checkpoints/last.pt mjdiff/assets/demo.pt

# After editing notebooks: regenerate the library and README.md (from nbs/index.ipynb), clean notebook metadata.
sync: install
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean && $(BIN)/python tools/build_readme.py

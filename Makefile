# The two quick-start commands:  make lab   (open the course)   make test   (run every test)
# Both create the virtual environment .venv on first use; nothing else is needed but
# Python >= 3.10 with pip and venv.  Plain-pip and conda alternatives are in README.md.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LAB_ARGS ?=
PYTEST_ARGS ?=
# Test files run in parallel, one pytest-xdist worker per core; a file (a notebook's cells, the
# browser tests' shared JupyterLab) stays in one worker, in order. PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: lab test test-portable install lint notebooks experiments figures screenshots clean-venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# JupyterLab refuses to run as root unless told to (containers, CI machines).
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--ServerApp.allow_root=True)

# Opens on 00_welcome.ipynb. jupyter/labconfig changes JupyterLab's defaults for this course only
# (no "get notified about news?" question); your own JupyterLab settings still win.
lab: install
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	$(PY) -m jupyterlab --ServerApp.root_dir=notebooks \
	--LabApp.default_url=/lab/tree/00_welcome.ipynb $(ROOT_ARGS) $(LAB_ARGS)

test: install
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The notebooks once more as another machine runs them: PyTorch's generic CPU kernels (no AVX,
# so no bf16 either) on one thread, and the embedded Fashion-MNIST subset instead of the full
# set. Every compared output must still match (CI runs this after `make test`).
PORTABLE_ENV := ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 \
	COURSE_FASHION_MNIST=$(CURDIR)/data/fashion-mnist-subset

test-portable: install
	$(PORTABLE_ENV) $(PY) -m pytest notebooks $(XDIST) $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check course tests scripts
	$(PY) -m ruff format --check course tests scripts

# Re-run every notebook in full mode and store its outputs (see scripts/run_notebooks.py).
notebooks: install
	$(PY) scripts/run_notebooks.py $(NOTEBOOKS)

# Every experiment's reference result again, into data/results/ (course/experiments/; tens of
# minutes on a 2-core CPU; an interrupted run resumes where it stopped).
experiments: install
	$(PY) -m course.experiments run all --budget reference

# Every figure the package draws (course/viz/gallery.py) as a PNG in figures/ for review, each
# checked for overlapping or cut-off text (the list of problems is printed; exit 1 if any); the
# ones README.md shows are copied to docs/figures/.
README_FIGURES := 06_inception_blocks 09_accuracy_tradeoffs
figures: install
	$(PY) -m course.viz.gallery figures
	mkdir -p docs/figures
	for name in $(README_FIGURES); do cp figures/$$name.png docs/figures/; done

# Pictures of every widget in a real JupyterLab (the browser tests), for README.md.
screenshots: install
	COURSE_SCREENSHOTS=docs/screenshots $(PY) -m pytest -m browser tests/test_browser.py -q

clean-venv:
	rm -rf $(VENV)

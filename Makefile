# The kit's commands. `make setup` then `make test` on a fresh machine; `make` runs the main job.
PY := .venv/bin/python
RNNKIT := .venv/bin/rnnkit
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: all setup test test-all test-fast assign dist examples bench calibrate hostile memory grade-all new clean

all: assign dist examples  ## build notebooks and Gradescope zips, grade the example submissions

setup: .venv/.installed  ## a .venv with the pinned dependencies (torch==2.13.0+cpu: the CPU build only)

# requirements.txt pins torch==2.13.0+cpu (a version PyPI never hosts, so no CUDA build can match)
# and names PyTorch's CPU index. When that index cannot be reached within 10 s, pip gets the file
# without it (torch must then come from pip's configured find-links or indexes, else pip says
# "No matching distribution found for torch==2.13.0+cpu"): pip would otherwise retry the dead
# index for every package. --timeout/--retries bound each request (pip: 15 s and 5 retries,
# unless a pip config sets more).
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
PIP_NET := --timeout 30 --retries 2
# --no-compile keeps the venv small (about 250 MB of bytecode, mostly of packages grading never
# imports); torch and numpy, which every grading worker imports, are compiled once here instead
# (`|| true`: like pip, skip the few torch test files written for newer Pythons).

.venv/.installed: requirements.txt pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install --quiet $(PIP_NET) --upgrade pip
	@if .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).close()' \
	        $(TORCH_CPU_INDEX)/torch/ 2>/dev/null; then \
	    echo "setup: $(TORCH_CPU_INDEX) reached"; \
	    cp requirements.txt .venv/requirements.txt; \
	else \
	    echo "setup: $(TORCH_CPU_INDEX) cannot be reached; torch==2.13.0+cpu must come from pip's find-links or indexes"; \
	    grep -v -e '^--extra-index-url' requirements.txt > .venv/requirements.txt; \
	fi
	.venv/bin/pip install --quiet $(PIP_NET) --no-compile -r .venv/requirements.txt
	.venv/bin/python -m compileall -q -j 0 .venv/lib/python3*/site-packages/torch .venv/lib/python3*/site-packages/numpy >/dev/null || true
	.venv/bin/python -c 'import torch; assert torch.version.cuda is None, torch.__version__; print("setup: torch", torch.__version__, "(CPU build)")'
	.venv/bin/pip install --quiet $(PIP_NET) --no-deps -e .  # the rnnkit command, runnable from any folder
	touch $@

test: setup  ## the kit's own tests, with a fixed sample of the corpora (about 25 minutes)
	$(PY) -m pytest -q -n auto --dist loadfile -m "not full" tests

test-all: setup  ## every test and every corpus entry on every assignment (about an hour)
	$(PY) -m pytest -q -n auto --dist loadfile tests

test-fast: setup  ## the tests not marked slow (no training, no hostile corpus, no Gradescope run)
	$(PY) -m pytest -q -n auto --dist loadfile -m "not slow" tests

assign: setup  ## student notebooks and reference solutions from solutions/<id>/master.ipynb
	$(RNNKIT) assign

dist: setup  ## dist/<id>/autograder.zip for Gradescope
	$(RNNKIT) dist

examples: setup  ## grade the bundled example submissions and print a score table
	$(RNNKIT) examples

clean:
	rm -rf dist

bench: setup  ## median grading time vs plain execution of each reference (5 runs); 40 submissions sequential vs grade-all
	$(RNNKIT) bench

calibrate: setup  ## train references, baselines and wrong answers on every calibration seed; dist/calibration/
	$(RNNKIT) calibrate -o dist/calibration

memory: setup  ## peak memory (PSS, judge + worker) of grading each reference, against Gradescope's 768 MB
	$(RNNKIT) memory

hostile: setup  ## grade every hostile corpus entry on its own for every assignment; dist/hostile.md
	$(RNNKIT) hostile -o dist/hostile.md

ASSIGNMENT ?= rnn-basics
SUBMISSIONS ?= dist/examples/$(ASSIGNMENT)/submissions
GRADED ?= dist/graded/$(ASSIGNMENT)
CANVAS_COLUMN ?=
grade-all: setup  ## a folder of submissions -> grades.csv, report.md: make grade-all ASSIGNMENT=id SUBMISSIONS=dir [CANVAS_COLUMN="Title (id)"]
	$(RNNKIT) grade-all $(ASSIGNMENT) $(SUBMISSIONS) -o $(GRADED) $(if $(CANVAS_COLUMN),--canvas-column "$(CANVAS_COLUMN)")

new: setup  ## scaffold a new assignment: make new ID=my-assignment
	$(RNNKIT) new $(ID)

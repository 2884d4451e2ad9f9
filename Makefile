# The kit's commands. `make setup` then `make test` on a fresh machine; `make` runs the main job.
PY := .venv/bin/python
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: all setup test assign dist examples bench calibrate hostile grade-all clean

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

.venv/.installed: requirements.txt
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
	touch $@

test: setup  ## the kit's own tests
	$(PY) -m pytest -q -n auto --dist loadfile tests

assign: setup  ## student notebooks and reference solutions from solutions/<id>/master.ipynb
	$(PY) -m autograder assign

dist: setup  ## dist/<id>/autograder.zip for Gradescope
	$(PY) -m autograder dist

examples: setup  ## grade the bundled example submissions and print a score table
	$(PY) -m autograder examples

clean:
	rm -rf dist

bench: setup  ## median grading time vs plain execution of each reference (5 runs); 40 submissions sequential vs grade-all
	$(PY) -m autograder.bench
	$(PY) -m autograder.batch bench -n 40

calibrate: setup  ## train references, baselines and wrong answers on every calibration seed; dist/calibration/
	$(PY) -m autograder.calibrate -o dist/calibration

hostile: setup  ## grade every hostile corpus entry on its own for every assignment; dist/hostile.md
	$(PY) -m autograder.hostile -o dist/hostile.md

ASSIGNMENT ?= rnn-basics
SUBMISSIONS ?= dist/examples/$(ASSIGNMENT)/submissions
GRADED ?= dist/graded/$(ASSIGNMENT)
CANVAS_COLUMN ?=
grade-all: setup  ## a folder of submissions -> grades.csv, report.md: make grade-all ASSIGNMENT=id SUBMISSIONS=dir [CANVAS_COLUMN="Title (id)"]
	$(PY) -m autograder grade-all $(ASSIGNMENT) $(SUBMISSIONS) -o $(GRADED) $(if $(CANVAS_COLUMN),--canvas-column "$(CANVAS_COLUMN)")

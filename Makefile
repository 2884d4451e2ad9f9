# The kit's commands. `make setup` then `make test` on a fresh machine; `make` runs the main job.
PY := .venv/bin/python
RNNKIT := .venv/bin/rnnkit
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: all setup test test-fast assign dist examples bench calibrate hostile grade-all new clean

all: assign dist examples  ## build notebooks and Gradescope zips, grade the example submissions

setup: .venv/.installed  ## a .venv with the pinned dependencies (torch==2.13.0 CPU)

.venv/.installed: requirements.txt pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -r requirements.txt
	.venv/bin/pip install --quiet --no-deps -e .  # the rnnkit command, runnable from any folder
	touch $@

test: setup  ## the kit's own tests, all of them
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

hostile: setup  ## grade every hostile corpus entry on its own for every assignment; dist/hostile.md
	$(RNNKIT) hostile -o dist/hostile.md

ASSIGNMENT ?= rnn-basics
SUBMISSIONS ?= dist/examples/$(ASSIGNMENT)/submissions
GRADED ?= dist/graded/$(ASSIGNMENT)
grade-all: setup  ## a folder of submissions -> grades.csv, report.md: make grade-all ASSIGNMENT=id SUBMISSIONS=dir
	$(RNNKIT) grade-all $(ASSIGNMENT) $(SUBMISSIONS) -o $(GRADED)

new: setup  ## scaffold a new assignment: make new ID=my-assignment
	$(RNNKIT) new $(ID)

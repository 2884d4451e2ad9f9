# The kit's commands. `make setup` then `make test` on a fresh machine; `make` runs the main job.
PY := .venv/bin/python
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: all setup test assign dist examples bench calibrate hostile grade-all clean

all: assign dist examples  ## build notebooks and Gradescope zips, grade the example submissions

setup: .venv/.installed  ## a .venv with the pinned dependencies (torch==2.13.0 CPU)

.venv/.installed: requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -r requirements.txt
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
grade-all: setup  ## a folder of submissions -> grades.csv, report.md: make grade-all ASSIGNMENT=id SUBMISSIONS=dir
	$(PY) -m autograder grade-all $(ASSIGNMENT) $(SUBMISSIONS) -o $(GRADED)

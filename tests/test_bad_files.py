"""Unusable submissions still get a valid results.json with a message that says what to do.

Damaged or wrongly packed copies of the reference (truncated JSON, not UTF-8, zips without or with
two notebooks, another assignment's notebook, nbformat 3) are entries of the hostile corpus
(autograder/hostile/corpus.py, tests/test_hostile.py).
"""
import json
import subprocess
import sys

import nbformat
import pytest

from autograder.judge.results import validate
from autograder.tools.hostile.corpus import zip_bytes
from conftest import ROOT


def grade_file(path, tmp_path, assignment="rnn-basics"):
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(path), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    validate(results)
    return results


@pytest.fixture(scope="module")
def student_json():
    with open(f"{ROOT}/assignments/rnn-basics/rnn-basics.ipynb") as f:
        return f.read()


CASES = {
    "empty.ipynb": (lambda nb: b"", "empty"),
    "no-cells.ipynb": (lambda nb: json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "no code cells"),
    "answers.py": (lambda nb: b"rnn = torch.nn.RNN(10, 20)\n", "not valid JSON"),
    "list.ipynb": (lambda nb: b"[1, 2, 3]", "not a Jupyter notebook"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_gets_zero_and_a_clear_message(name, tmp_path, student_json):
    make, message = CASES[name]
    path = tmp_path / name
    path.write_bytes(make(student_json))
    results = grade_file(path, tmp_path)
    assert results["score"] == 0
    assert message in results["output"], results["output"]
    assert all(t["output"] for t in results["tests"])


def test_missing_file_gets_results_too(tmp_path):
    results = grade_file(tmp_path / "nope.ipynb", tmp_path)
    assert "could not be read" in results["output"]


def test_unknown_assignment_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "nope", "x.ipynb"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "error:" in done.stderr and "rnn-basics" in done.stderr


def test_export_zip_and_renamed_notebook_are_graded(tmp_path):
    with open(f"{ROOT}/solutions/rnn-basics/rnn-basics-solution.ipynb") as f:
        solution = f.read()
    (tmp_path / "export.zip").write_bytes(zip_bytes({"rnn-basics.ipynb": solution, "notes.txt": "x"}))
    assert grade_file(tmp_path / "export.zip", tmp_path)["score"] == 20
    (tmp_path / "my copy (2).ipynb").write_text(solution)
    assert grade_file(tmp_path / "my copy (2).ipynb", tmp_path)["score"] == 20


def test_notebook_without_metadata_is_graded_as_named(tmp_path, grade):
    notebook = nbformat.read(f"{ROOT}/solutions/rnn-basics/rnn-basics-solution.ipynb", as_version=4)
    notebook.metadata = {}
    assert grade("rnn-basics", notebook)[0]["score"] == 20

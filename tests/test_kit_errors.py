"""The kit's own errors are the kit's: a check that fails while computing a reference is reported to
the instructor and marked, and the student is told the grader could not check that part, never
that their notebook tampered with the grader. An answer the judge cannot read fails its check with
a message about the answer."""
import nbformat
import pytest

from autograder.authoring import Assignment, UnreadableAnswer
from autograder.judge.engine import Grading
from autograder.judge.outcome import CheckOutcome, check_outcome
from autograder.tools.batch.run import kit_errors

demo = Assignment(id="kit-errors-demo", title="kit errors", cell_timeout=20, budget=60)


@demo.check("q1", "a reference the kit cannot compute")
def broken_reference(w):
    value = w.describe("x").value
    _ = {}["the grader's own bug"]  # noqa: F841  (a KeyError in the judge, after a valid reply)
    return value


@demo.check("q1", "a reply no worker of the kit sends")
def forged(w):
    raise UnreadableAnswer("a module description of the wrong form")


@demo.check("q1", "a check that works")
def fine(w):
    assert w.describe("x").value == 1


demo.set_points({"q1": 3})


@pytest.fixture
def graded(tmp_path, capfd):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                               nbformat.v4.new_code_cell('grader.check("q1")')])
    path = tmp_path / "demo.ipynb"
    nbformat.write(notebook, str(path))
    results = Grading(demo).grade(str(path))
    return {t["name"]: t for t in results["tests"]}, results, capfd.readouterr().err


def test_a_kit_error_is_reported_as_the_kits_and_marked(graded):
    tests, results, stderr = graded
    entry = tests["q1: a reference the kit cannot compute"]
    assert entry["score"] == 0 and check_outcome(entry) is CheckOutcome.KIT_ERROR
    assert "internals" not in entry["output"] and "reported to the course staff" in entry["output"]
    assert kit_errors(results) == ["q1: a reference the kit cannot compute"]
    assert "kit error" in stderr and "KeyError" in stderr  # the traceback goes to the instructor


def test_an_unreadable_answer_fails_its_check_with_a_message(graded):
    tests, _, _ = graded
    entry = tests["q1: a reply no worker of the kit sends"]
    assert "could not read the answer your code gave" in entry["output"]
    assert check_outcome(entry) is CheckOutcome.FAILED
    assert tests["q1: a check that works"]["score"] == 1

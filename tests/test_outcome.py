"""Typed outcomes: the engine records what happened, every renderer reads it from results.json."""
import json

import nbformat

from autograder import assignments
from autograder.authoring import Assignment, Fail
from autograder.judge import results
from autograder.judge.engine import Grading, grade_or_report
from autograder.judge.outcome import CheckOutcome, GradingOutcome, check_outcome, grading_outcome
from autograder.tools.batch.run import ERROR_KIND


def _tiny_assignment():
    tiny = Assignment(id="rnn-basics", title="tiny", cell_timeout=10, budget=60)

    @tiny.check("q1", "passes")
    def ok(w):
        pass

    @tiny.check("q1", "fails")
    def wrong(w):
        raise Fail("wrong on purpose")

    @tiny.check("q1", "the check's own bug")
    def buggy(w):
        return {}["missing"]

    return tiny.set_points({"q1": 3})


def test_each_check_records_its_outcome_and_a_kit_error_is_not_the_students(tmp_path):
    path = tmp_path / "rnn-basics.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), str(path))
    out = Grading(_tiny_assignment()).grade(str(path))
    results.validate(out)
    assert grading_outcome(out) is GradingOutcome.GRADED
    by_name = {t["name"]: t for t in out["tests"]}
    assert check_outcome(by_name["q1: passes"]) is CheckOutcome.PASSED
    assert check_outcome(by_name["q1: fails"]) is CheckOutcome.FAILED
    bug = by_name["q1: the check's own bug"]
    assert check_outcome(bug) is CheckOutcome.KIT_ERROR and bug["score"] == 0
    assert "not a judgement of your work" in bug["output"] and "internals" not in bug["output"]
    assert results._marked(bug).startswith("[kit error] ")  # how the CLI table shows it


def test_unreadable_submission_and_kit_failure_are_told_apart(tmp_path, monkeypatch):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json")
    assignment = assignments.load("rnn-basics")
    unreadable = grade_or_report(assignment, str(bad))
    assert grading_outcome(unreadable) is GradingOutcome.NOT_GRADABLE
    assert {check_outcome(t) for t in unreadable["tests"]} == {CheckOutcome.NOT_RUN}

    def broken(self, path):
        raise RuntimeError("a kit bug")
    monkeypatch.setattr(Grading, "grade", broken)
    failed = grade_or_report(assignment, str(bad))
    assert grading_outcome(failed) is GradingOutcome.KIT_ERROR
    # grade-all's error kinds come from the outcome, never from message text
    assert ERROR_KIND[grading_outcome(failed)] == "kit" and ERROR_KIND[grading_outcome(unreadable)] == "submission"
    assert json.loads(json.dumps(failed))["extra_data"]["outcome"] == "kit error"


def test_every_outcome_has_an_error_kind():
    assert set(ERROR_KIND) == set(GradingOutcome)

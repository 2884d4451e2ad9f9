"""results.json agrees with its visibility, and its points add up exactly.

Gradescope's spec: while a test with points is hidden until publication (after_published,
after_due_date), students do not see their total score, so the always-shown top-level output must
not state it either; `hidden` tests never show and must carry no points. Points are decimals: the
maxima of every assignment add up to its points exactly (rnn-basics q8 is five checks of 0.4).
"""
import json

import pytest

from autograder import assignments
from autograder.judge import results


def all_passed(assignment):
    """The test entries a submission passing every check of `assignment` gets, in check order."""
    return [results.test_entry(f"{c.question}: {c.name}", c.points, c.points, "Passed.", c.visible)
            for c in assignment.checks]


@pytest.mark.parametrize("aid", assignments.available())
def test_maxima_add_up_to_the_assignments_points_exactly(aid):
    assignment = assignments.load(aid)
    tests = json.loads(json.dumps(all_passed(assignment)))  # as Gradescope reads them
    total = sum(assignment.questions.values())
    built = results.build(tests, "x", 1.0)
    assert results.exact_sum(t["max_score"] for t in tests) == total
    assert built["score"] == total  # full marks: exactly the points, not 19.999999999999993
    assert results.per_question(built) == {q: [float(p), float(p)] for q, p in assignment.questions.items()}
    for t in tests:  # each entry is a short decimal, the same after a JSON round trip
        assert t["max_score"] == round(t["max_score"], results.PLACES)


def test_five_checks_of_0_4_make_exactly_2():
    tests = [results.test_entry(f"q8: practice question {i}", 0.4, 0.4, "", False) for i in range(1, 6)]
    assert sum([0.1] * 10) != 1.0  # the float addition that exact_sum avoids
    assert results.exact_sum([0.1] * 10) == 1.0 and results.exact_sum([19.6, 0.4]) == 20.0
    assert results.build(tests, "", 0)["score"] == 2.0
    assert results.per_question(results.build(tests, "", 0)) == {"q8": [2.0, 2.0]}


def test_rnn_basics_grading_keeps_the_total_out_of_the_visible_output(grade, published):
    """The reference gets full marks; its results name no total while hidden checks are unpublished."""
    _, solution = published("rnn-basics")
    graded, table = grade("rnn-basics", solution)
    assert graded["score"] == 20 and results.exact_sum(t["max_score"] for t in graded["tests"]) == 20
    assert table == {q: [float(p), float(p)] for q, p in assignments.load("rnn-basics").questions.items()}
    assert any(t["visibility"] == "after_published" for t in graded["tests"])
    assert results.hides_total(graded["tests"])
    first = graded["output"].splitlines()[0]
    assert "20" not in first and "when the course staff publish the grades" in first, first
    assert not results.reveals_total(graded)
    visible = [t for t in graded["tests"] if t["visibility"] == "visible"]
    assert f"{len(visible)} of {len(visible)} passed" in first


def test_validate_refuses_a_total_in_the_output_while_tests_are_hidden():
    hidden = [results.test_entry("q1: a", 1, 1, "", False), results.test_entry("q1: b", 0.5, 1, "", True)]
    for output in ("rnn-basics: 1.5 / 2 points.", "You got 1.5 points", "score 1.5/2"):
        with pytest.raises(ValueError, match="total score"):
            results.validate(results.build(hidden, output, 1.0))
    results.validate(results.build(hidden, results.score_line("rnn-basics", hidden, 2), 1.0))
    shown = [dict(t, visibility="visible") for t in hidden]  # all visible: the total may show
    line = results.score_line("rnn-basics", shown, 2)
    assert line == "rnn-basics: 1.5 / 2 points."
    results.validate(results.build(shown, line, 1.0))


def test_validate_refuses_points_on_a_never_shown_test_and_an_inexact_score():
    entry = dict(results.test_entry("q1: a", 1, 1, "", True), visibility="hidden")
    with pytest.raises(ValueError, match="hidden but has points"):
        results.validate(results.build([entry], "", 0))
    results.validate(results.build([dict(entry, score=0.0, max_score=0.0)], "", 0))
    built = results.build([results.test_entry("q1: a", 0.4, 0.4, "", True)] * 5, "", 0)
    built["score"] = 0.4 * 5 - 1e-9
    with pytest.raises(ValueError, match="sum of the tests"):
        results.validate(built)


def test_error_results_show_their_zero_total():
    """Results that grade nothing have only visible tests: the message may name the zero score."""
    outcome = results.error_results("could not be read", {"q1": 2, "q8": 2})
    results.validate(outcome)
    assert not results.hides_total(outcome["tests"]) and outcome["score"] == 0

"""The cell plan: check cells are recognised as Python reads them, whatever the student's spelling."""
import nbformat
import pytest

from autograder.judge.plan import check_calls, plan

QUESTIONS = ["q1", "q2", "q3"]


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


@pytest.mark.parametrize("source", [
    'grader.check("q2")', "grader.check('q2')", 'grader.check("q2")  # passes now', 'grader.check("q2");',
    'result = grader.check("q2")', 'grader.check( "q2" )\n', '# run the check\ngrader.check("q2")',
    'display(grader.check("q2"))'])
def test_a_check_cell_written_any_way_checks_its_question_there(source):
    steps = plan(_notebook("x = 1", "hidden = 2", source, "hidden = 3", 'grader.check("q3")'), QUESTIONS)
    q2 = next(s for s in steps if s.kind == "check" and s.question == "q2")
    assert q2.cell == 3 and not q2.note
    assert [s.cell for s in steps[:steps.index(q2)] if s.kind == "exec"] == [1, 2] + ([3] if "display" in source else [])


def test_a_cell_with_code_and_a_check_runs_the_code_first():
    steps = plan(_notebook('y = 2\ngrader.check("q1")'), QUESTIONS)
    assert [(s.kind, s.cell) for s in steps][:2] == [("exec", 1), ("check", 1)]
    assert check_calls('y = 2\ngrader.check("q1")') == (["q1"], False)
    assert check_calls('%time grader.check("q1")') == (["q1"], False)


def test_a_deleted_check_cell_is_checked_at_the_next_check_with_a_note():
    steps = plan(_notebook("a = 1", "b = 2", 'grader.check("q2")', "c = 3"), QUESTIONS)
    checks = [(s.question, s.cell, bool(s.note)) for s in steps if s.kind == "check"]
    assert checks == [("q1", 3, True), ("q2", 3, False), ("q3", 5, True)]
    q1 = next(s for s in steps if s.question == "q1")
    assert 'grader.check("q1")' in q1.note and "q2" in q1.note


def test_a_question_checked_twice_or_unknown_is_checked_once():
    steps = plan(_notebook("a = 1", 'grader.check("q1")', 'grader.check("q1")', 'grader.check("q9")'), ["q1"])
    assert [(s.question, s.cell) for s in steps if s.kind == "check"] == [("q1", 2)]

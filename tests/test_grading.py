"""Every assignment graded end to end: reference, blank notebook and every common mistake."""
import pytest

from autograder import assignments
from autograder.assignments import assignment_ids
from autograder.authoring.mistakes import apply
from conftest import messages, sampled

IDS = assignment_ids()
MISTAKES = [(aid, m) for aid in IDS for m in assignments.module(aid, "mistakes").MISTAKES]
ALTERNATIVES = [(aid, a) for aid in IDS for a in getattr(assignments.module(aid, "mistakes"), "ALTERNATIVES", [])]
FAST = "rnn-basics"  # no training: its reference and blank notebook stay in make test-fast


def _slow_unless_fast(aid):
    return pytest.param(aid, marks=() if aid == FAST else pytest.mark.slow, id=aid)


@pytest.mark.parametrize("assignment_id", [_slow_unless_fast(a) for a in IDS])
def test_reference_scores_full_marks_three_times(published, grade, assignment_id):
    _, solution = published(assignment_id)
    total = sum(assignments.load(assignment_id).questions.values())
    scores = [grade(assignment_id, solution)[0]["score"] for _ in range(3)]
    assert scores == [total] * 3


@pytest.mark.parametrize("assignment_id", [_slow_unless_fast(a) for a in IDS])
def test_blank_notebook_scores_zero_with_a_message_per_question(published, grade, assignment_id):
    student, _ = published(assignment_id)
    results, table = grade(assignment_id, student)
    assert results["score"] == 0
    assert set(table) == set(assignments.load(assignment_id).questions)
    for question in table:
        assert messages(results, question).strip(), f"{question} failed without a message"


def test_blank_rnn_basics_points_at_the_blanks(published, grade):
    results, _ = grade("rnn-basics", published("rnn-basics")[0])
    assert "blank `...`" in messages(results, "q1")


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id,mistake", sampled(  # `make test`: every third of each assignment's
    [pytest.param(a, m, id=f"{a}:{m.name}") for a, m in MISTAKES], lambda p: p.values[0]))
def test_common_mistake_loses_its_question_with_its_message(published, grade, assignment_id, mistake):
    _, solution = published(assignment_id)
    results, table = grade(assignment_id, apply(solution, mistake))
    for question, (score, max_score) in table.items():
        if question in mistake.loses:
            assert score < max_score, f"{mistake.name} kept all of {question}"
            if not mistake.partial and question == sorted(mistake.loses)[0]:
                assert score == 0, f"{mistake.name} kept {score} of {question}"
        else:
            assert score == max_score, f"{mistake.name} cost {question}: {messages(results, question)}"
    first = sorted(mistake.loses)[0]
    assert mistake.message in messages(results, first), messages(results, first)


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id,alternative", sampled(
    [pytest.param(a, m, id=f"{a}:{m.name}") for a, m in ALTERNATIVES], lambda p: p.values[0]))
def test_correct_answer_in_another_form_keeps_full_marks(published, grade, assignment_id, alternative):
    """What the questions leave open (a time-first RNN with transposes, F.dropout, the RNN's
    nonlinearity and bias, log-probabilities as scores) is graded by behaviour, not by form."""
    _, solution = published(assignment_id)
    results, table = grade(assignment_id, apply(solution, alternative))
    lost = {q: messages(results, q) for q, (score, max_score) in table.items() if score < max_score}
    assert not lost, lost

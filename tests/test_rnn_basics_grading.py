"""rnn-basics graded end to end: reference, blank notebook and every common mistake."""
import pytest

from autograder.assignments.rnn_basics.mistakes import MISTAKES
from autograder.variants import apply
from conftest import messages

QUESTIONS = {"q1": 2, "q2": 2, "q3": 3, "q4": 2, "q5": 2, "q6": 3, "q7": 4, "q8": 2}


def test_reference_scores_full_marks_three_times(published, grade):
    _, solution = published("rnn-basics")
    scores = [grade("rnn-basics", solution)[0]["score"] for _ in range(3)]
    assert scores == [20, 20, 20]


def test_blank_notebook_scores_zero_with_a_message_per_question(published, grade):
    student, _ = published("rnn-basics")
    results, table = grade("rnn-basics", student)
    assert results["score"] == 0
    assert set(table) == set(QUESTIONS)
    for question in QUESTIONS:
        assert messages(results, question).strip(), f"{question} failed without a message"
    assert "blank `...`" in messages(results, "q1")


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_common_mistake_loses_its_question_with_its_message(published, grade, mistake):
    _, solution = published("rnn-basics")
    results, table = grade("rnn-basics", apply(solution, mistake))
    for question, (score, max_score) in table.items():
        if question in mistake.loses:
            assert score < max_score, f"{mistake.name} kept all of {question}"
            if not mistake.partial and question == sorted(mistake.loses)[0]:
                assert score == 0, f"{mistake.name} kept {score} of {question}"
        else:
            assert score == max_score, f"{mistake.name} cost {question}: {messages(results, question)}"
    first = sorted(mistake.loses)[0]
    assert mistake.message in messages(results, first), messages(results, first)

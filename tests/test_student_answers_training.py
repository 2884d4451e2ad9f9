"""The student-answers corpus of rnn-pipeline and overfitting (the other half of
test_student_answers.py, in its own file so that two test workers share the gradings)."""
import pytest

from test_student_answers import ENTRIES, HERE_ASSIGNMENTS, graded_as_the_question_asks, params

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment,entry", params({a for a, _ in ENTRIES} - HERE_ASSIGNMENTS))
def test_graded_as_the_question_asks(assignment, entry, grade):
    graded_as_the_question_asks(assignment, entry, grade)

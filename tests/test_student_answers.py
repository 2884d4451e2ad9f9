"""The student-answers corpus (tests/student_answers/), graded: no correct answer loses a point and
every wrong answer loses its question. The corpus was written blind, from the student notebooks
and the course notes only; see tests/student_answers/corpus.py."""
import os
import sys

import pytest

from autograder import assignments
from conftest import sampled, scale_limits, time_scale

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "student_answers"))
import corpus  # noqa: E402

pytestmark = pytest.mark.slow  # one grading per entry
ENTRIES = corpus.entries()


def test_the_corpus_is_large_and_varied():
    kinds = [e["kind"] for _, e in ENTRIES]
    assert len(ENTRIES) >= 60
    assert kinds.count("correct") + kinds.count("base") >= 25 and kinds.count("wrong") >= 25 and "course" in kinds
    assert {a for a, _ in ENTRIES} == {"rnn-basics", "sequence-memory", "rnn-pipeline", "overfitting"}


# The entries are split over two test files (this one and test_student_answers_training.py) so
# that `pytest -n auto --dist loadfile` grades them on two workers at once.
HERE_ASSIGNMENTS = {"rnn-basics", "sequence-memory"}


def params(assignment_ids):
    """One test per entry; `make test` grades a sample of each assignment's correct answers (base,
    course, correct) and of its wrong ones (wrong, limit), `make test-all` every entry."""
    return sampled([pytest.param(a, e, id=e["file"]) for a, e in ENTRIES if a in assignment_ids],
                   lambda p: (p.values[0], p.values[1]["kind"] in ("wrong", "limit")), every=15)


@pytest.mark.parametrize("assignment,entry", params(HERE_ASSIGNMENTS))
def test_graded_as_the_question_asks(assignment, entry, grade):
    graded_as_the_question_asks(assignment, entry, grade)


def graded_as_the_question_asks(assignment, entry, grade):
    limits = assignments.load(assignment)  # the real limits, widened only on a loaded machine
    options = scale_limits({"cell_timeout": limits.cell_timeout, "budget": limits.budget}, time_scale())
    results, _ = grade(assignment, corpus.build(assignment, entry), **options)
    wrong = corpus.verdicts(entry, results)
    messages = {t["name"]: t["output"][:300] for t in results["tests"] if t["score"] < t["max_score"]}
    assert not wrong, f"{entry['kind']} {entry['description']}\nmisgraded {wrong}\n{messages}"

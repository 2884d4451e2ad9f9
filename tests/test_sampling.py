"""`make test` grades a fixed sample of the corpora (conftest.sampled); `make test-all` the rest too.
The sample must be the same on every run, reach every stratum, and lose no entry."""
import pytest

from conftest import sampled


def _full(param):
    return any(m.name == "full" for m in param.marks)


def test_the_sample_keeps_the_first_of_every_stratum_and_marks_the_rest_full():
    params = [pytest.param(kind, i, id=f"{kind}-{i}") for kind in ("a", "b") for i in range(7)] + [pytest.param("c", 0, id="c-0")]
    out = sampled(params, lambda p: p.values[0], every=3)
    kept = [p.id for p in out if not _full(p)]
    assert kept == ["a-0", "a-3", "a-6", "b-0", "b-3", "b-6", "c-0"]
    assert [p.id for p in out] == [p.id for p in params]  # nothing dropped, order kept
    assert [p.id for p in sampled(params, lambda p: p.values[0], every=3) if not _full(p)] == kept  # same every run


def test_marks_already_on_a_param_are_kept():
    xfail = pytest.mark.xfail(strict=True, reason="known gap")
    out = sampled([pytest.param(1, id="x"), pytest.param(2, marks=[xfail], id="y")], lambda p: "one", every=2)
    assert [m.name for m in out[1].marks] == ["xfail", "full"]


def test_every_student_answer_is_graded_by_one_of_the_two_tiers():
    import test_student_answers as answers
    ids = [p.id for p in answers.params({a for a, _ in answers.ENTRIES})]
    assert sorted(ids) == sorted(e["file"] for _, e in answers.ENTRIES)
    sample = [p for p in answers.params({a for a, _ in answers.ENTRIES}) if not _full(p)]
    for assignment in {a for a, _ in answers.ENTRIES}:  # each assignment: correct and wrong answers in the sample
        kinds = {p.values[1]["kind"] for p in sample if p.values[0] == assignment}
        assert kinds & {"base", "course", "correct"} and "wrong" in kinds, (assignment, kinds)

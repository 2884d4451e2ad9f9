"""How hidden checks are written: an Assignment holds check functions, grouped by question.

A check is a judge-side function `check(w)` where `w` is a Probe onto the worker (see
autograder/judge/probe.py). It asks the worker for the student's objects as plain data, compares
them with references it computes itself, and raises `Fail(message)` with a teaching message when
they differ. Returning normally means the check passed.

Points live in the master notebook only (`points:` of each otter `BEGIN QUESTION` block); a
check has a `weight`, and a question's points are split over its checks in proportion to their
weights, exactly (fractions), when the kit loads the assignment (`set_points`).
"""
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable


class Fail(Exception):
    """A check failed; the message is shown to the student."""


class UnreadableAnswer(Exception):
    """What the worker reported cannot be read (the wrong shape, a value the wire refuses): the
    student's code or a tampered worker, never the kit; the check fails with a message."""


@dataclass
class Check:
    question: str
    name: str
    weight: float
    fn: Callable
    visible: bool = False  # visible checks show at once; hidden ones after grades are published
    timeout: float = 60.0
    points: float = 0.0  # set by Assignment.set_points from the master notebook
    public: tuple = ()  # names of the question's public tests that check the same property


@dataclass
class Assignment:
    id: str
    title: str
    cell_timeout: float = 30.0  # one cell of the student's notebook
    budget: float = 240.0  # the whole submission, worker start-ups included
    checks: list = field(default_factory=list)
    questions: dict = field(default_factory=dict)  # question id -> points, in notebook order

    def check(self, question, name, weight=1, visible=False, timeout=60.0, public=()):
        """Register a check. `public` names the public tests (functions of the master notebook's
        tests for this question) that check the same property: where one of them passes, this
        check must pass too, unless only the hidden inputs expose the bug
        (tests/test_public_hidden_agreement.py)."""
        def register(fn):
            self.checks.append(Check(question, name, weight, fn, visible, timeout, public=tuple(public)))
            return fn
        return register

    def checks_for(self, question):
        return [c for c in self.checks if c.question == question]

    def set_points(self, questions):
        """Take each question's points (from the master notebook) and split them over its checks."""
        self.questions = dict(questions)
        self.validate()
        for qid, points in self.questions.items():
            checks = self.checks_for(qid)
            total = sum(_exact(c.weight) for c in checks)
            for c in checks:
                share = _exact(points) * _exact(c.weight) / total
                if share * 10_000 != int(share * 10_000):  # results.json rounds scores to 4 decimals
                    raise ValueError(f"{self.id}: {qid}'s {points} points split by weight give "
                                     f"{c.name!r} {float(share)} points; choose weights that split exactly")
                c.points = float(share)
        return self

    def validate(self):
        """Every question has a check, and every check belongs to a question of the notebook."""
        missing = [q for q in self.questions if not self.checks_for(q)]
        if missing:
            raise ValueError(f"{self.id}: no hidden check for {', '.join(missing)}")
        unknown = {c.question for c in self.checks} - set(self.questions)
        if unknown:
            raise ValueError(f"{self.id}: checks for questions the master notebook does not have: {sorted(unknown)}")
        bad = [c.name for c in self.checks if not c.weight > 0]
        if bad:
            raise ValueError(f"{self.id}: checks need a positive weight: {bad}")


def _exact(number):
    return Fraction(number).limit_denominator(10_000)

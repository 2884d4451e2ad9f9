"""Typed outcomes: what happened to each check, each cell and the whole grading.

The engine records these; results.json carries them in `extra_data` (per test and at the top),
and every renderer (the CLI table, grade-all's gradebook and report, the hostile corpus) reads
them from there. No module learns a status by reading another module's message text.
"""
from enum import Enum


class CheckOutcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"           # the student's code did not do what the check asks
    NOT_RUN = "not run"         # the budget was spent, or an earlier check of the question hung
    KIT_ERROR = "kit error"     # the check itself raised: the kit's fault, reported to the staff


class CellOutcome(str, Enum):
    RAISED = "raised"           # the cell raised; the notebook went on, as Jupyter would
    SKIPPED = "skipped"         # the cell hung or killed its worker; replays leave it out
    NOT_RUN = "not run"         # the budget was spent before the cell


class GradingOutcome(str, Enum):
    GRADED = "graded"
    NOT_GRADABLE = "not gradable"   # the submission could not be read (the student's message says why)
    REFUSED = "refused"             # the sandbox would not hold on this machine: the instructor must act
    KIT_ERROR = "kit error"         # the kit failed: a bug, reported with a traceback on stderr
    NOT_FINISHED = "not finished"   # run_autograder's fallback: grading stopped before writing results


def grading_outcome(results):
    """The GradingOutcome a results.json records (results without one are from before the kit
    recorded it: graded)."""
    extra = results.get("extra_data") if isinstance(results, dict) else None
    value = extra.get("outcome") if isinstance(extra, dict) else None
    try:
        return GradingOutcome(value)
    except ValueError:
        return GradingOutcome.GRADED


def check_outcome(test):
    """The CheckOutcome of one results.json test entry."""
    extra = test.get("extra_data") if isinstance(test, dict) else None
    value = extra.get("outcome") if isinstance(extra, dict) else None
    try:
        return CheckOutcome(value)
    except ValueError:
        return CheckOutcome.PASSED if test.get("score", 0) >= test.get("max_score", 0) else CheckOutcome.FAILED

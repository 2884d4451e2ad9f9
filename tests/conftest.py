"""Shared fixtures: published notebooks, grading a notebook object end to end, and how much slower
than an idle machine this one runs right now (for tests whose verdict depends on wall time)."""
import os
import sys
import time

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder import assignments  # noqa: E402
from autograder.judge.engine import Grading  # noqa: E402
from autograder.judge.results import per_question, validate  # noqa: E402
from autograder.paths import solution_path, student_path  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "root: needs root (an unprivileged grading user, a real /autograder tree)")


# -- the corpora's sample ---------------------------------------------------------------------------
# The corpora (student answers, public/hidden agreement, hostile entries) hold hundreds of gradings
# (about an hour on two cores); `make test` grades a fixed, stratified sample of them (about 25
# minutes in all here), `make test-all` grades everything. The sample is the same on every run (no
# randomness: a test that passes must pass again) and covers every stratum each caller names (an
# assignment, correct or wrong answers, a kind of attack): the first entry of each and every
# `every`-th after it.
SAMPLE_EVERY = 3


def sampled(params, stratum, every=SAMPLE_EVERY):
    """`params` (pytest.param objects, in a stable order) with those outside the sample marked
    `full`; `stratum(param)` names the group each is sampled from."""
    seen, out = {}, []
    for param in params:
        key = stratum(param)
        index = seen[key] = seen.get(key, -1) + 1
        if index % every:
            param = pytest.param(*param.values, marks=[*param.marks, pytest.mark.full], id=param.id)
        out.append(param)
    return out


@pytest.fixture(scope="session")
def published():
    """(student, solution) notebooks of an assignment, read from the committed files."""
    def read(assignment_id):
        return (nbformat.read(student_path(assignment_id), as_version=4),
                nbformat.read(solution_path(assignment_id), as_version=4))
    return read


@pytest.fixture
def grade(tmp_path):
    """Grade a notebook object (or a path) with the real engine; returns (results, per-question)."""
    def run(assignment_id, notebook, name=None, **options):
        if isinstance(notebook, (str, os.PathLike)):
            path = str(notebook)
        else:
            path = str(tmp_path / (name or f"{assignment_id}.ipynb"))
            nbformat.write(notebook, path)
        results = Grading(assignments.load(assignment_id), **options).grade(path)
        validate(results)
        return results, per_question(results)
    return run


def messages(results, question):
    """All failure messages of one question, joined."""
    return "\n".join(t["output"] for t in results["tests"]
                     if t["name"].startswith(question + ":") and t["score"] < t["max_score"])


# -- wall-clock limits on a busy machine ---------------------------------------------------------
def slowdown(cpu_seconds=0.25):
    """How many times longer CPU-bound work takes here now than on an idle core: the wall time of a
    short busy loop over the CPU time it got (1.0 on an idle machine; about the number of runnable
    processes per core on a busy one, e.g. 3 with six of them on two cores)."""
    wall, cpu = time.monotonic(), time.process_time()
    while time.process_time() - cpu < cpu_seconds:
        pass
    return max(1.0, (time.monotonic() - wall) / (time.process_time() - cpu))


def time_scale(measured=None, cap=10.0):
    """The factor for the wall-clock limits a test gives a grading (cell timeout, check timeout,
    budget, slack), measured on the machine when the test runs: 1 on an idle machine, 1.5 times the
    measured slowdown (less 0.5) on a busy one, so that the load may grow by half meanwhile; at most
    `cap`. Limits that an attack's own sleeping must exceed are not to be scaled."""
    factor = slowdown() if measured is None else measured
    return min(cap, max(1.0, 1.5 * factor - 0.5))


def scale_limits(options, factor):
    """`options` with its wall-clock limits multiplied by `factor`."""
    return {k: (v * factor if k in ("cell_timeout", "check_timeout", "budget", "hard_limit") and v else v)
            for k, v in options.items()}

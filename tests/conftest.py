"""Shared fixtures: published notebooks, and grading a notebook object end to end."""
import os
import sys

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

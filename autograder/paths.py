"""Where things live in a checkout: the one place that knows the repository's layout.

    solutions/<id>/master.ipynb            the instructor's source (otter assign format)
    solutions/<id>/<id>-solution.ipynb     the reference solution (generated)
    assignments/<id>/<id>.ipynb            the student notebook (generated)
    autograder/assignments/<package>/      everything hidden about one assignment
"""
import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(PACKAGE_DIR)
ASSIGNMENTS_DIR = os.path.join(PACKAGE_DIR, "assignments")


def master_path(assignment_id, root=ROOT):
    return os.path.join(root, "solutions", assignment_id, "master.ipynb")


def student_path(assignment_id, root=ROOT):
    return os.path.join(root, "assignments", assignment_id, f"{assignment_id}.ipynb")


def solution_path(assignment_id, root=ROOT):
    return os.path.join(root, "solutions", assignment_id, f"{assignment_id}-solution.ipynb")


def package_name(assignment_id):
    """The Python package of an assignment id: `rnn-basics` -> `rnn_basics`."""
    return assignment_id.replace("-", "_")

"""Build each assignment's student notebook and reference solution from its master notebook.

The instructor edits one file per assignment, `solutions/<id>/master.ipynb`, in otter-grader's
Otter Assign format. `build(id)` runs otter assign on it, then applies the small transforms of
this package (one per file: own_file, normalize, leak_check) and writes:
    assignments/<id>/<id>.ipynb             the student notebook (blanks, public checks)
    solutions/<id>/<id>-solution.ipynb      the reference solution
"""
import os

from .leak_check import find_leaks
from .normalize import normalize
from .own_file import find_own_file
from .otter_assign import run_otter_assign
from ...assignments import assignment_ids
from ...paths import ROOT, master_path, solution_path, student_path


def render(assignment_id, root=ROOT):
    """(student notebook, solution notebook) as nbformat objects, built fresh from the master."""
    student, solution = run_otter_assign(master_path(assignment_id, root), assignment_id)
    student, solution = normalize(find_own_file(student)), normalize(find_own_file(solution))
    leaks = find_leaks(student, solution)
    if leaks:
        raise ValueError(f"{assignment_id}: the student notebook would leak solution lines: {leaks[:3]}")
    return student, solution


def build(assignment_id, root=ROOT):
    import nbformat
    student, solution = render(assignment_id, root)
    for notebook, path in ((student, student_path(assignment_id, root)), (solution, solution_path(assignment_id, root))):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        nbformat.write(notebook, path)
        print(f"wrote {os.path.relpath(path, root)}")


def add_arguments(parser):
    from ...cli import known_assignment
    parser.add_argument("assignments", nargs="*", type=known_assignment, help="default: every assignment")


def command(args):
    build_all(args.assignments or None)
    return 0


def build_all(assignment_ids_=None, root=ROOT):
    for aid in assignment_ids_ or assignment_ids(root):
        build(aid, root)

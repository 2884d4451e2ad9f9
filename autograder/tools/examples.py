"""The bundled example submissions, graded: `make` ends with this table.

For every assignment: the reference solution, the blank student notebook, and each common
mistake of its `mistakes.py` applied to the reference. Submissions are written to
dist/examples/<id>/submissions/ (a folder `grade-all` can grade) and their results.json files to
dist/examples/<id>/results/, so an instructor can open any of them.
"""
import importlib
import os
import time

import nbformat

from .. import assignments
from ..authoring.mistakes import apply
from ..judge import results
from ..judge.engine import Grading
from ..paths import package_name, solution_path, student_path


def example_submissions(assignment_id):
    """[(name, notebook, expected)] where expected is "full", "zero" or "less"."""
    student = nbformat.read(student_path(assignment_id), as_version=4)
    solution = nbformat.read(solution_path(assignment_id), as_version=4)
    examples = [("reference", solution, "full"), ("blank", student, "zero")]
    package = package_name(assignment_id)
    try:
        mistakes = importlib.import_module(f"{assignments.__name__}.{package}.mistakes").MISTAKES
    except ModuleNotFoundError:
        mistakes = []
    examples += [(f"mistake-{m.name}", apply(solution, m), "less") for m in mistakes]
    return examples


def add_arguments(parser):
    parser.add_argument("--out", default=os.path.join("dist", "examples"), help="output folder (default: dist/examples)")


def command(args):
    return grade_examples(args.out)


def grade_examples(out_dir):
    """Grade every example; print a table; return 1 if an example scored against expectation."""
    rows, surprises = [], 0
    for assignment_id in assignments.available():
        assignment = assignments.load(assignment_id)
        total = sum(assignment.questions.values())
        folder, results_dir = (os.path.join(out_dir, assignment_id, part) for part in ("submissions", "results"))
        os.makedirs(folder, exist_ok=True)
        os.makedirs(results_dir, exist_ok=True)
        for name, notebook, expected in example_submissions(assignment_id):
            path = os.path.join(folder, f"{name}.ipynb")
            nbformat.write(notebook, path)
            started = time.monotonic()
            outcome = Grading(assignment).grade(path)
            results.write(outcome, os.path.join(results_dir, f"{name}.json"))
            score = outcome["score"]
            ok = {"full": score == total, "zero": score == 0, "less": 0 <= score < total}[expected]
            surprises += not ok
            rows.append((assignment_id, name, score, total, time.monotonic() - started, ok))
            print(f"  graded {assignment_id}/{name}: {score:g}/{total:g}", flush=True)
    print()
    print(f"{'assignment':<17}{'submission':<44}{'score':>8}{'max':>6}{'seconds':>9}  as expected")
    for assignment_id, name, score, total, seconds, ok in rows:
        print(f"{assignment_id:<17}{name:<44}{score:>8.2f}{total:>6g}{seconds:>9.1f}  {'yes' if ok else 'NO'}")
    print(f"\nSubmissions and results.json files: {out_dir}/")
    return 1 if surprises else 0

"""Everything hidden about each assignment, one package per assignment, found by walking this folder.

    autograder/assignments/<package>/checks.py     `assignment`: the hidden checks (required)
    autograder/assignments/<package>/mistakes.py   common wrong answers (edits of the reference)
    autograder/assignments/<package>/protocol.py   training assignments: data, seeds, thresholds

A package is an assignment when it has a checks.py defining `assignment`; its id is
`assignment.id` (the package name with dashes). Nothing here is a registry to keep by hand.

Points are read from the master notebook (`solutions/<id>/master.ipynb`, the `points:` line of
each `BEGIN QUESTION` cell); the Gradescope zip, which ships no master notebook, carries them as
`points.json` beside checks.py, written from the master when the zip is built.
"""
import importlib
import json
import os

from ..paths import ASSIGNMENTS_DIR, master_path, package_name


def _packages():
    return sorted(name for name in os.listdir(ASSIGNMENTS_DIR)
                  if os.path.isfile(os.path.join(ASSIGNMENTS_DIR, name, "checks.py")))


def available():
    """Assignment ids whose hidden checks exist here, sorted."""
    return [name.replace("_", "-") for name in _packages()]


def assignment_ids(root=None):
    """Ids that have hidden checks and a master notebook (in the checkout, or under `root`)."""
    return [aid for aid in available() if os.path.exists(master_path(aid, *(root,) if root else ()))]


def module(assignment_id, name):
    """One module of an assignment's package, e.g. module("rnn-basics", "mistakes")."""
    if assignment_id not in available():
        raise ValueError(f"unknown assignment {assignment_id!r}; known: {', '.join(available()) or 'none'}")
    return importlib.import_module(f"{__name__}.{package_name(assignment_id)}.{name}")


def master_points(path):
    """{question id: points} in notebook order, from the BEGIN QUESTION cells of a master notebook."""
    with open(path, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    points = {}
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") != "raw" or not source.lstrip().startswith("# BEGIN QUESTION"):
            continue
        fields = dict(line.split(":", 1) for line in source.splitlines()[1:] if ":" in line)
        name, value = fields.get("name", "").strip(), fields.get("points", "").strip()
        try:
            points[name] = float(value) if "." in value else int(value)
        except ValueError:
            raise ValueError(f"{path}: question {name or '?'} needs a number of points, found {value!r}") from None
    return points


def points(assignment_id):
    """The assignment's {question: points}: from its master notebook, or the zip's points.json."""
    master = master_path(assignment_id)
    if os.path.exists(master):
        return master_points(master)
    shipped = os.path.join(ASSIGNMENTS_DIR, package_name(assignment_id), "points.json")
    if os.path.exists(shipped):
        with open(shipped) as f:
            return json.load(f)
    raise ValueError(f"{assignment_id}: neither {master} nor {shipped} exists, so its points are unknown")


def load(assignment_id):
    """The Assignment (autograder/authoring/assignment.py) of an id, its points set from the master
    notebook; ValueError names the known ids."""
    assignment = module(assignment_id, "checks").assignment
    if assignment.id != assignment_id:
        raise ValueError(f"autograder/assignments/{package_name(assignment_id)}/checks.py defines "
                         f"assignment {assignment.id!r}; the folder name says {assignment_id!r}")
    if not assignment.questions:
        assignment.set_points(points(assignment_id))
    return assignment

"""Calibration's candidates as Python source, resolved from the assignments' declarations.

Each training assignment declares `CALIBRATION` in its mistakes.py (see
autograder/authoring/calibration.py). Here a candidate becomes source code exactly as a student
would write it: the class the reference solution notebook defines, after the named mistake is
applied to the notebook when there is one, and the config dict the notebook defines.
"""
import importlib

import nbformat

from .. import assignments
from ..authoring.mistakes import apply
from ..paths import solution_path
from .assign.definitions import class_source, literal_value

IMPORTS = "import torch\nimport torch.nn as nn\n\n"


def calibrated_checks():
    """[(assignment id, Calibrated)] for every assignment that declares CALIBRATION."""
    found = []
    for aid in assignments.available():
        try:
            mistakes = assignments.module(aid, "mistakes")
        except ModuleNotFoundError:
            continue
        found += [(aid, check) for check in getattr(mistakes, "CALIBRATION", ())]
    return found


def _notebook(assignment_id, mistake=""):
    notebook = nbformat.read(solution_path(assignment_id), as_version=4)
    if mistake:
        named = {m.name: m for m in assignments.module(assignment_id, "mistakes").MISTAKES}
        notebook = apply(notebook, named[mistake])
    return notebook


def solution_class(assignment_id, class_name, mistake=""):
    """Source (imports included) of a class of the reference solution, after `mistake`."""
    return IMPORTS + class_source(_notebook(assignment_id, mistake), class_name)


def solution_literal(assignment_id, name):
    """A literal (e.g. a config dict) the reference solution notebook assigns to `name`."""
    return literal_value(_notebook(assignment_id), name)


def resolve(assignment_id, candidate):
    """(source, config or None) of a candidate."""
    source = solution_class(assignment_id, candidate.class_name, candidate.mistake)
    config = solution_literal(assignment_id, candidate.config) if candidate.config else None
    return source, config

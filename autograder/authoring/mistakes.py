"""Make submissions from the published notebooks: a reference with one answer changed, a cell
inserted, and so on. Common-mistake submissions, the bundled examples and the tests all start
here, so they follow the notebooks as the master notebooks change.
"""
import copy
from dataclasses import dataclass, field

import nbformat


@dataclass
class Mistake:
    """A common mistake: in the reference, replace `anchor` by `replacement` in its code cell.

    `loses` lists the questions whose points the mistake must cost (some mistakes also break a
    later question that uses the same object: those are listed too); `message` is a fragment
    of the teaching message the student must see.
    """
    name: str
    anchor: str
    replacement: str
    loses: set = field(default_factory=set)
    message: str = ""
    partial: bool = False  # True when only some of the question's points are lost
    also: tuple = ()  # further (anchor, replacement) edits, each in its own code cell, applied after


@dataclass
class Alternative:
    """A correct answer in another form than the reference's (an edit of it, as a Mistake is): it
    must keep full marks. `edits` are (anchor, replacement) pairs, applied in order."""
    name: str
    edits: tuple
    note: str = ""


def replace_in_cell(notebook, anchor, replacement):
    """A copy of `notebook` where the code cell holding `anchor` has it replaced."""
    notebook = copy.deepcopy(notebook)
    cells = [c for c in notebook.cells if c.cell_type == "code" and anchor in c.source]
    if len(cells) != 1:
        raise ValueError(f"anchor {anchor!r} is in {len(cells)} code cells, expected exactly one")
    cells[0].source = cells[0].source.replace(anchor, replacement)
    return notebook


def insert_after(notebook, anchor, source):
    """A copy of `notebook` with a new code cell after the code cell holding `anchor`."""
    notebook = copy.deepcopy(notebook)
    index = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and anchor in c.source)
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def apply(notebook, edit):
    """A copy of `notebook` with a Mistake or an Alternative applied."""
    if isinstance(edit, Alternative):
        pairs = edit.edits
    else:
        pairs = ((edit.anchor, edit.replacement),) + tuple(edit.also)
    for anchor, replacement in pairs:
        notebook = replace_in_cell(notebook, anchor, replacement)
    return notebook

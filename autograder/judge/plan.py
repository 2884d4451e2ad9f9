"""The judge's plan of a notebook: each code cell to run, and each question's check at its check cell.

Only the judge reads the submission file; the worker receives cell sources one by one.
"""
import re
from dataclasses import dataclass

from .submission import SubmissionError

_CHECK_CELL = re.compile(r"""^\s*grader\.check\(\s*["']([\w.-]+)["']\s*\)\s*$""")


@dataclass
class Step:
    kind: str  # "exec": run a code cell; "check": grade a question against the current state
    cell: int  # 1-based index among the notebook's cells (what students see in the error)
    source: str = ""
    question: str = ""


def cell_source(cell):
    """A cell's source as one string (nbformat allows a list of lines), or None when it is damaged."""
    source = cell.get("source", "") if isinstance(cell, dict) else None
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    return source if isinstance(source, str) else None


def notebook_text(notebook):
    """The sources of all readable cells, markdown included, one after another."""
    return "\n".join(s for s in map(cell_source, notebook.get("cells") or []) if s is not None)


def plan(notebook, question_ids):
    """The judge's steps: each code cell to run, and each question's check at its check cell.

    otter's own cells (initialisation, export) are skipped: grading never runs otter inside the
    student's process. A question without a check cell is checked after the last cell.
    """
    steps, checked = [], set()
    cells = notebook.get("cells") or []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        if source is None:  # a damaged cell: nothing a kernel could run either
            continue
        match = _CHECK_CELL.match(source)
        if match:
            qid = match.group(1)
            if qid in question_ids and qid not in checked:
                steps.append(Step("check", index, question=qid))
                checked.add(qid)
            continue
        if "otter.Notebook(" in source or "grader.export(" in source or "grader.check_all(" in source:
            continue
        steps.append(Step("exec", index, source=source))
    if not any(s.kind == "exec" for s in steps):
        raise SubmissionError("The notebook has no code cells to run. Did you submit the right file?")
    for qid in question_ids:
        if qid not in checked:
            steps.append(Step("check", len(cells) + 1, question=qid))
    return steps

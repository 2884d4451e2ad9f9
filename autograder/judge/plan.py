"""The judge's plan of a notebook: each code cell to run, and each question's check at its check cell.

Only the judge reads the submission file; the worker receives cell sources one by one.
"""
import ast
import re
from dataclasses import dataclass

from .submission import SubmissionError

# Only for cells Python cannot parse (IPython magics): a call written the usual way.
_CHECK_CALL = re.compile(r"""\bgrader\.check\(\s*["']([\w.-]+)["']\s*\)""")
_OTTER_CELL = ("otter.Notebook(", "grader.export(", "grader.check_all(")


@dataclass
class Step:
    kind: str  # "exec": run a code cell; "check": grade a question against the current state
    cell: int  # 1-based index among the notebook's cells (what students see in the error)
    source: str = ""
    question: str = ""
    note: str = ""  # why a question is checked where it is, when that is not its own check cell


def cell_source(cell):
    """A cell's source as one string (nbformat allows a list of lines), or None when it is damaged."""
    source = cell.get("source", "") if isinstance(cell, dict) else None
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    return source if isinstance(source, str) else None


def notebook_text(notebook):
    """The sources of all readable cells, markdown included, one after another."""
    return "\n".join(s for s in map(cell_source, notebook.get("cells") or []) if s is not None)


def _is_check_call(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "grader" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def check_calls(source):
    """(questions whose `grader.check("qN")` the cell calls, in order; whether the cell does
    nothing else), as Python reads the cell: comments, semicolons, quotes, an assigned or
    displayed result all count."""
    try:
        tree = ast.parse(source)
    except Exception:  # IPython syntax (magics), or a cell the parser cannot hold (MemoryError,
        # RecursionError on deep nesting): the usual spelling, by pattern
        return _CHECK_CALL.findall(source), False
    questions = [n.args[0].value for n in ast.walk(tree) if _is_check_call(n)]
    only_checks = bool(tree.body) and all(
        isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)) and _is_check_call(stmt.value) for stmt in tree.body)
    return questions, only_checks


def plan(notebook, question_ids):
    """The judge's steps: each code cell to run, and each question's check at its check cell.

    A check cell is any code cell that calls `grader.check("qN")`. otter's own cells
    (initialisation, export) are skipped: grading never runs otter inside the student's process.
    A question whose check cell is missing (deleted, or changed so that it no longer calls
    grader.check) is checked at the next check cell of a later question, or after the last cell,
    with a note saying so.
    """
    cells = notebook.get("cells") or []
    sources = [(i, cell_source(c)) for i, c in enumerate(cells, start=1)
               if isinstance(c, dict) and c.get("cell_type") == "code"]
    sources = [(i, s) for i, s in sources if s is not None]  # a damaged cell: nothing a kernel could run either
    has_cell = {q for _, s in sources for q in check_calls(s)[0]}
    missing = [q for q in question_ids if q not in has_cell]
    order = {q: n for n, q in enumerate(question_ids)}
    steps, checked = [], set()

    def check(question, index, note=""):
        steps.append(Step("check", index, question=question, note=note))
        checked.add(question)

    for index, source in sources:
        questions, only_checks = check_calls(source)
        if not questions and any(marker in source for marker in _OTTER_CELL):
            continue
        if not only_checks:
            steps.append(Step("exec", index, source=source))
        for qid in questions:
            if qid not in order or qid in checked:
                continue
            for earlier in [q for q in missing if order[q] < order[qid] and q not in checked]:
                check(earlier, index, f"Your notebook has no `grader.check(\"{earlier}\")` cell (it was deleted or "
                                      f"changed), so {earlier} was checked at the check cell of {qid}.")
            check(qid, index)
    if not any(s.kind == "exec" for s in steps):
        raise SubmissionError("The notebook has no code cells to run. Did you submit the right file?")
    for qid in question_ids:
        if qid not in checked:
            check(qid, len(cells) + 1, f"Your notebook has no `grader.check(\"{qid}\")` cell (it was deleted or "
                                       f"changed), so {qid} was checked after the last cell.")
    return steps

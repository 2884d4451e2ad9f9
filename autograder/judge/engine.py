"""The judge: run a submission's cells in a worker and grade each question at its check cell.

The loop walks the notebook's steps. A code cell runs in the worker with a per-cell timeout;
a check step runs that question's hidden checks against the worker's state at that moment.
When a cell hangs or kills the worker, the worker is restarted and the cells before it are run
again (without the culprit), so an infinite loop costs its own question, not the whole run.
A time budget bounds the whole submission. Grades are decided here and nowhere else.
"""
import sys
import time
import traceback

from ..authoring.assignment import Fail, UnreadableReply
from . import results as gradescope
from .plan import notebook_text, plan
from .probe import Probe
from .redaction import redact
from .submission import SubmissionError, read_notebook
from .worker_client import StudentError, WorkerLost, WorkerProcess

LOST_MESSAGES = {
    "timeout": "did not finish within {limit:.0f} s (an infinite loop, a long sleep, or training far too large?)",
    "crashed": "stopped the grading process ({detail}): it may have called os._exit or sys.exit, used too much memory, or crashed Python",
    "protocol": "interfered with the grader's channel ({detail})",
}


KIT_ERROR_MESSAGE = ("The grader could not check this part; your instructor has been told. "
                     "This is not a problem with your notebook.")


class Grading:
    def __init__(self, assignment, seed=0, cell_timeout=None, budget=None, check_timeout=None,
                 worker_factory=WorkerProcess):
        self.assignment = assignment
        self.cell_timeout = cell_timeout or assignment.cell_timeout
        self.check_timeout = check_timeout  # caps every check's own timeout when given
        self.budget = budget or assignment.budget
        self.worker_factory = lambda: worker_factory(seed=seed)
        self.worker = None
        self.done_cells = []  # exec steps that ran, replayed after a restart
        self.cell_notes = {}  # cell index -> what went wrong in it
        self.tests, self.protection = [], {}
        self.secrets = set()  # plain values of hidden inputs sent to the student's code
        self.known = ""  # the submission's own text, lower-cased: what the student already has

    # -- the worker's life -------------------------------------------------------------
    def _remaining(self):
        return self.deadline - time.monotonic()

    def _ensure_worker(self):
        if self.worker is not None:
            return
        self.worker = self.worker_factory()
        self.worker.start()
        self.protection = self.worker.status
        for step in list(self.done_cells):  # replay the notebook up to where we were
            try:
                self.worker.request("exec", self._timeout(self.cell_timeout), source=step.source, cell=step.cell)
            except StudentError:
                pass
            except WorkerLost as e:  # a cell that passed before hangs now: drop it and go on
                self.done_cells.remove(step)
                self.cell_notes[step.cell] = f"cell {step.cell} {self._lost(e, self.cell_timeout)} when re-run"
                self.worker = None
                return self._ensure_worker()

    def _timeout(self, limit):
        remaining = self._remaining()
        if remaining <= 0:
            raise BudgetExhausted()
        return min(limit, remaining)

    def _lost(self, error, limit):
        self.worker = None  # WorkerProcess stopped itself and everything it started
        return LOST_MESSAGES[error.reason].format(limit=limit, detail=error.detail)

    # -- the steps ------------------------------------------------------------------------
    def run_cell(self, step):
        self._ensure_worker()
        try:
            self.worker.request("exec", self._timeout(self.cell_timeout), source=step.source, cell=step.cell)
        except StudentError as e:
            info = e.info
            line = f" at line {info['where']['line']}" if isinstance(info.get("where"), dict) else ""
            code = (info.get("where") or {}).get("code") or ""
            blank = " (a blank `...` is still to be filled in)" if "ellipsis" in info["message"] or "..." in code else ""
            self.cell_notes[step.cell] = f"cell {step.cell} raised {info['type']}{line}: {info['message'][:300]}{blank}"
        except WorkerLost as e:
            self.cell_notes[step.cell] = f"cell {step.cell} {self._lost(e, self.cell_timeout)}; it was skipped"
            return
        self.done_cells.append(step)

    def run_checks(self, question, cells, note=""):
        """Run a question's checks; `note` (where it was checked, when not at its own cell) leads every message."""
        notes = [self.cell_notes[c] for c in cells if c in self.cell_notes]
        self.question_note = note
        hung = None  # after a check hangs, the question's other checks would hang on the same code
        for check in self.assignment.checks_for(question):
            name = f"{question}: {check.name}"
            limit = min(check.timeout, self.check_timeout or check.timeout)
            if hung:
                self._record(check, name, False, f"Not run: {hung}")
                continue
            try:
                self._ensure_worker()
                check.fn(Probe(self.worker, self._timeout(limit), self.secrets))
            except BudgetExhausted:
                self._record(check, name, False, f"Not checked: the submission used its whole time budget of {self.budget:.0f} s before this check.")
            except Fail as e:
                self._record(check, name, False, _with_notes(str(e), notes))
            except WorkerLost as e:
                what = self._lost(e, limit)
                self._record(check, name, False, f"Your code {what} while this check ran it.")
                if e.reason == "timeout":
                    hung = f"an earlier check of {question} found that your code {what}."
            except StudentError as e:  # the worker reported an error outside a Probe.call
                self._record(check, name, False, _with_notes(f"Your code raised {e.info['type']} while this check ran it.", notes))
            except UnreadableReply as e:  # a reply the kit's own worker never sends: the worker was tampered with
                # the channel is still in step (a whole reply was read), so the worker goes on
                print(f"{name}: unreadable reply from the worker: {e}", file=sys.stderr)
                self._record(check, name, False, f"The grader could not read the answer of your code ({type(e).__name__}); "
                             "your notebook may have changed the grading process's internals. Undo that and submit again; "
                             "if it persists, tell your instructor.")
            except Exception as e:  # the kit's own error: computing a reference, or reading an answer it validated
                print(f"KIT ERROR in {self.assignment.id} {name}: the check raised {type(e).__name__}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                self._record(check, name, False, KIT_ERROR_MESSAGE, kit_error=True)
            else:
                self._record(check, name, True, "Passed.")

    def _redact(self, text):
        """Strike hidden inputs the submission does not itself contain from a message."""
        return redact(text, {v for v in self.secrets if v.lower() not in self.known})

    def _record(self, check, name, passed, message, kit_error=False):
        note = getattr(self, "question_note", "")
        message = self._redact((note + "\n" if note else "") + message)
        self.tests.append(gradescope.test_entry(name, check.points if passed else 0, check.points, message, check.visible))
        if kit_error:  # grade-all counts these; the instructor regrades once the kit is fixed
            self.tests[-1]["extra_data"] = {"kit_error": True}

    def _stop_worker(self):
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def grade(self, path):
        started = time.monotonic()
        self.deadline = started + self.budget
        try:
            notebook = read_notebook(path, self.assignment.id)
            steps = plan(notebook, list(self.assignment.questions))
            self.known = notebook_text(notebook).lower()
        except SubmissionError as e:
            return gradescope.error_results(str(e), self.assignment.questions, time.monotonic() - started)
        cells_since_check = []
        try:
            for step in steps:
                if step.kind == "exec":
                    try:
                        self.run_cell(step)
                    except BudgetExhausted:
                        self.cell_notes[step.cell] = f"cell {step.cell} was not run: the time budget was used up"
                    cells_since_check.append(step.cell)
                else:
                    self.run_checks(step.question, cells_since_check, step.note)
                    cells_since_check = []
        finally:
            self._stop_worker()
        elapsed = time.monotonic() - started
        earned = sum(t["score"] for t in self.tests)
        total = sum(self.assignment.questions.values())
        output = f"{self.assignment.title}: {earned:g} / {total:g} points."
        skipped = [n for n in self.cell_notes.values() if "skipped" in n or "not run" in n]
        if skipped:
            output += "\n" + "\n".join(skipped)
        kit_errors = [t["name"] for t in self.tests if t.get("extra_data", {}).get("kit_error")]
        extra = {"protection": self.protection, **({"kit_errors": kit_errors} if kit_errors else {})}
        return gradescope.build(self.tests, self._redact(output), elapsed, extra=extra)


def grade_or_report(assignment, path, **options):
    """Grade `path`; a bug of the kit or the machine still gives the student results (zero, and
    KIT_FAILURE_MESSAGE), the traceback going to stderr for the course staff."""
    started = time.monotonic()
    try:
        return Grading(assignment, **options).grade(path)
    except Exception:
        traceback.print_exc()
        return gradescope.error_results(gradescope.KIT_FAILURE_MESSAGE, assignment.questions, time.monotonic() - started)


class BudgetExhausted(Exception):
    """The submission's whole time budget is spent."""


def _with_notes(message, notes):
    if not notes:
        return message
    return message + "\nWhile running this question's cells: " + "; ".join(notes)

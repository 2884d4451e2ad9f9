"""The judge: run a submission's cells in a worker and grade each question at its check cell.

The loop walks the notebook's steps. A code cell runs in the worker with a per-cell timeout;
a check step runs that question's hidden checks against the worker's state at that moment.
When a cell hangs or kills the worker, the worker is restarted and the cells before it are run
again (without the culprit), so an infinite loop costs its own question, not the whole run.
A time budget bounds the whole submission. Grades are decided here and nowhere else.
"""
import os
import sys
import time
import traceback

from ..authoring.assignment import Fail, UnreadableAnswer
from ..wire import WireError
from . import results as gradescope
from .isolation import SandboxUnsafe
from .outcome import CellOutcome, CheckOutcome, GradingOutcome
from .plan import notebook_text, plan
from .probe import Probe
from .redaction import kit_words, redact
from .submission import SubmissionError, read_notebook
from .worker_client import StudentError, WorkerLost, WorkerProcess, exception_shown

MAX_NOTES_SHOWN = 10  # cell notes quoted with a question's first failing check
MAX_SUMMARY_NOTES = 10  # skipped cells listed in the top-level output

LOST_MESSAGES = {
    "timeout": "did not finish within {limit:.0f} s (an infinite loop, a long sleep, or training far too large?)",
    "crashed": "stopped the grading process ({detail}): it may have called os._exit or sys.exit, used too much memory, or crashed Python",
    "protocol": "interfered with the grader's channel ({detail})",
}


class Grading:
    def __init__(self, assignment, seed=0, cell_timeout=None, budget=None, check_timeout=None,
                 worker_factory=WorkerProcess, started=None):
        self.assignment = assignment
        self.cell_timeout = cell_timeout or assignment.cell_timeout
        self.check_timeout = check_timeout  # caps every check's own timeout when given
        self.budget = budget or assignment.budget
        self.worker_factory = lambda: worker_factory(seed=seed)
        self.started = started  # a time.monotonic() the budget counts from (default: when grade() starts)
        self.worker = None
        self.done_cells = []  # exec steps that ran, replayed after a restart
        self.cell_notes = {}  # cell index -> (CellOutcome, what went wrong in it)
        self.tests, self.protection = [], {}
        self.secrets = set()  # plain values of hidden inputs sent to the student's code
        self.known = kit_words(assignment)  # words of the kit's own messages: never struck from them

    # -- the worker's life -------------------------------------------------------------
    def _remaining(self):
        return self.deadline - time.monotonic()

    def _ensure_worker(self):
        if self.worker is not None:
            return
        remaining = self._remaining()
        if remaining <= 0:
            raise BudgetExhausted()
        worker = self.worker_factory()
        if hasattr(worker, "startup_timeout"):  # starting a worker counts against the budget too
            worker.startup_timeout = max(1.0, min(worker.startup_timeout, remaining))
        try:
            worker.start()
        except WorkerLost:
            if self._remaining() <= 0:
                raise BudgetExhausted() from None
            raise
        self.worker = worker
        self.protection = self.worker.status
        for step in list(self.done_cells):  # replay the notebook up to where we were
            try:
                self.worker.request("exec", self._timeout(self.cell_timeout), source=step.source, cell=step.cell)
            except StudentError:
                pass
            except WorkerLost as e:  # a cell that passed before hangs now: drop it and go on
                self.done_cells.remove(step)
                self.cell_notes[step.cell] = (CellOutcome.SKIPPED, f"cell {step.cell} {self._lost(e, self.cell_timeout)} when re-run")
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
            self.cell_notes[step.cell] = (CellOutcome.RAISED, self._cell_note(step, e.info))
        except WorkerLost as e:
            self.cell_notes[step.cell] = (CellOutcome.SKIPPED, f"cell {step.cell} {self._lost(e, self.cell_timeout)}; it was skipped")
            return
        self.done_cells.append(step)

    def _cell_note(self, step, info):
        """What went wrong in a cell, from a StudentError's checked fields. The student's own text
        (the exception's message) has every hidden input struck from it, kit words included."""
        try:
            where = info.get("where")
            line = f" at line {where['line']}" if where else ""
            code = where["code"] if where else ""
            message = redact(info["message"][:300], self.secrets)
            blank = " (a blank `...` is still to be filled in)" if "ellipsis" in message or "..." in code else ""
            return f"cell {step.cell} raised {exception_shown(info)}{line}: {message}{blank}"
        except Exception as e:  # a reply no check can read: the cell is noted, the grading goes on
            print(f"cell {step.cell}: unreadable error reply ({type(e).__name__})", file=sys.stderr)
            return f"cell {step.cell} raised an error the grader could not read"

    def run_checks(self, question, cells, note=""):
        """Run a question's checks; `note` (where it was checked, when not at its own cell) leads every message."""
        notes = [self.cell_notes[c][1] for c in cells if c in self.cell_notes]
        self.question_note = note
        shown = [False]  # a question's cell notes go with its first failing check only

        def _with_notes(message, notes):
            if not notes:
                return message
            if shown[0]:
                return message + f"\n(What went wrong in this question's cells is listed under the first failing check of {question}.)"
            shown[0] = True
            return _notes_text(message, notes)

        hung = None  # after a check hangs, the question's other checks would hang on the same code
        for check in self.assignment.checks_for(question):
            name = f"{question}: {check.name}"
            limit = min(check.timeout, self.check_timeout or check.timeout)
            if hung:
                self._record(check, name, CheckOutcome.NOT_RUN, f"Not run: {hung}")
                continue
            probe = None
            try:
                self._ensure_worker()
                probe = Probe(self.worker, self._timeout(limit), self.secrets)
                check.fn(probe)
            except BudgetExhausted:
                self._record(check, name, CheckOutcome.NOT_RUN, f"Not checked: the submission used its whole time budget of {self.budget:.0f} s before this check.")
            except Fail as e:
                self._record(check, name, CheckOutcome.FAILED, _with_notes(str(e), notes))
            except WorkerLost as e:
                what = self._lost(e, limit)
                self._record(check, name, CheckOutcome.FAILED, f"Your code {what} while this check ran it.")
                if e.reason == "timeout":
                    hung = f"an earlier check of {question} found that your code {what}."
            except StudentError as e:  # the worker reported an error outside a Probe.call
                self._record(check, name, CheckOutcome.FAILED, _with_notes(f"Your code raised {e.type_shown()} while this check ran it.", notes))
            except (WireError, UnreadableAnswer) as e:  # the answer as reported cannot be read: the student's side
                self._record(check, name, CheckOutcome.FAILED,
                             _with_notes("The grader could not read the answer your code gave for this check (a value "
                                         "of the wrong form or shape, or one nested too deeply). Return plain values "
                                         "and tensors of the shapes the question asks for.", notes))
            except Exception as e:  # replies are validated before use, so this is the check's own bug
                # the channel is still in step (a whole reply was read), so the worker goes on; the
                # traceback is for the instructor, and the outcome lets grade-all count kit errors
                print(f"rnnkit: kit error in check {name!r}: {type(e).__name__}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                self._record(check, name, CheckOutcome.KIT_ERROR,
                             "The grader could not check this part (an internal error of the grader, reported to "
                             "the course staff). This is not a judgement of your work.")
            else:
                self._record(check, name, CheckOutcome.PASSED, "Passed.")
            if probe is not None and probe.trained_on_hidden_data and self.worker is probe.worker:
                # what training on the grader's data told the student's code (when it stopped)
                # must not reach a later check's message: a fresh worker replays the notebook
                self._stop_worker()

    def _redact(self, text):
        """Strike hidden inputs the submission does not itself contain from a message."""
        return redact(text, {v for v in self.secrets if v.lower() not in self.known})

    def _record(self, check, name, outcome, message):
        note = getattr(self, "question_note", "")
        message = self._redact((note + "\n" if note else "") + message)
        score = check.points if outcome is CheckOutcome.PASSED else 0
        self.tests.append(gradescope.test_entry(name, score, check.points, message, check.visible, outcome))

    def _stop_worker(self):
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def grade(self, path):
        started = time.monotonic()
        self.deadline = min(started, self.started or started) + self.budget
        try:
            notebook = read_notebook(path, self.assignment.id)
            steps = plan(notebook, list(self.assignment.questions))
        except SubmissionError as e:
            return gradescope.error_results(str(e), self.assignment.questions, time.monotonic() - started)
        cells_since_check = []
        try:
            for step in steps:
                if step.kind == "exec":
                    try:
                        self.run_cell(step)
                    except BudgetExhausted:
                        self.cell_notes[step.cell] = (CellOutcome.NOT_RUN, f"cell {step.cell} was not run: the time budget was used up")
                    cells_since_check.append(step.cell)
                else:
                    self.run_checks(step.question, cells_since_check, step.note)
                    cells_since_check = []
        finally:
            self._stop_worker()
        elapsed = time.monotonic() - started
        total = gradescope.exact_sum(self.assignment.questions.values())
        output = gradescope.score_line(self.assignment.title, self.tests, total)
        skipped = [text for kind, text in self.cell_notes.values() if kind is not CellOutcome.RAISED]
        if skipped:
            output += "\n" + "\n".join(skipped[:MAX_SUMMARY_NOTES])
            if len(skipped) > MAX_SUMMARY_NOTES:
                output += f"\n... and {len(skipped) - MAX_SUMMARY_NOTES} more cells were skipped or not run."
        return gradescope.build(self.tests, self._redact(output), elapsed, extra={"protection": self.protection})


def grade_or_report(assignment, path, **options):
    """Grade `path`; a bug of the kit or the machine still gives the student results (zero, and
    KIT_FAILURE_MESSAGE), the traceback going to stderr for the course staff."""
    started = time.monotonic()
    try:
        return Grading(assignment, **options).grade(path)
    except SandboxUnsafe as e:  # refused before any student code ran: the instructor must act
        print(f"rnnkit: {e}", file=sys.stderr)
        return gradescope.error_results(str(e), assignment.questions, time.monotonic() - started,
                                        GradingOutcome.REFUSED)
    except Exception:
        traceback.print_exc()
        return gradescope.error_results(gradescope.KIT_FAILURE_MESSAGE, assignment.questions, time.monotonic() - started,
                                        GradingOutcome.KIT_ERROR)


JUDGE_MEMORY_BYTES = 3 << 30  # the judge's own address space; its measured peak is 0.86 GB (README)


def process_started():
    """When this process started, as a time.monotonic() value (now, where /proc cannot tell): the
    command line counts the budget from there, so its imports count against it too."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
        return time.monotonic() - max(0.0, min(age, 3600.0))
    except (OSError, ValueError, IndexError):
        return time.monotonic()


def limit_judge_memory(limit=JUDGE_MEMORY_BYTES):
    """Cap this process's address space (the soft limit: the worker it starts sets its own). Every
    size the judge allocates from is checked first; this is the wall behind those checks, so that
    a check that forgot one fails with MemoryError instead of taking the machine."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (min(limit, hard) if hard != resource.RLIM_INFINITY else limit, hard))
    except (ImportError, ValueError, OSError):  # not on this system: the checks' own bounds remain
        pass


class BudgetExhausted(Exception):
    """The submission's whole time budget is spent."""


def _notes_text(message, notes):
    text = message + "\nWhile running this question's cells: " + "; ".join(notes[:MAX_NOTES_SHOWN])
    if len(notes) > MAX_NOTES_SHOWN:
        text += f"; and {len(notes) - MAX_NOTES_SHOWN} more cells raised errors"
    return text

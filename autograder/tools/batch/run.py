"""Grade many submissions in parallel processes; stream each result to disk; resume; show progress.

Each submission is graded by the same engine as `python -m autograder grade`, in a fresh process
forked for it alone (the judge and its confined worker), so memory never accumulates and one
submission that crashes or hangs the judge costs only itself. A hard wall-clock limit a bit above
the assignment's budget stops a grading that overruns: SIGTERM (the judge stops its worker),
then SIGKILL; the submission then gets an error results.json.

Output, under OUT/results/: `<id>.json` (Gradescope's results.json, written by the grading
process as it finishes) and `<id>.meta.json` (written last: the key = content hash of the
submission + kit version + grading options, status, seconds, submitters). A later run skips a
submission whose meta holds the same key, so an interrupted run resumes where it stopped.
"""
import collections
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time

from ... import assignments
from ...judge import isolation, results
from ...judge.engine import grade_or_report, limit_judge_memory
from ...judge.outcome import CheckOutcome, GradingOutcome, check_outcome, grading_outcome
from ...judge.worker_client import WorkerProcess
from ...paths import PACKAGE_DIR, package_name
from .discover import content_hash

KIT = PACKAGE_DIR
GRADING_MODULES = ("judge", "worker", "wire.py", "authoring")  # with the assignment's package: what decides a grade
TERM_GRACE = 10.0  # seconds between SIGTERM and SIGKILL


def kit_version(assignment_id):
    """A short hash of everything that decides a grade: the engine, the sandbox, the assignment's checks,
    the grading key (by its fingerprint: the hidden data depends on it)."""
    from ...judge import grading_key
    digest = hashlib.sha256(grading_key.fingerprint().encode())
    package = os.path.join(KIT, "assignments", package_name(assignment_id))
    paths = [os.path.join(KIT, m) for m in GRADING_MODULES] + [package]
    for top in paths:
        files = [top] if os.path.isfile(top) else sorted(
            os.path.join(root, n) for root, _, names in os.walk(top) for n in names if n.endswith(".py"))
        for path in files:
            if os.path.basename(path) == "mistakes.py":
                continue
            digest.update(os.path.relpath(path, KIT).encode() + b"\0")
            with open(path, "rb") as f:
                digest.update(f.read())
    try:
        import torch
        digest.update(torch.__version__.encode())
    except ImportError:
        pass
    return digest.hexdigest()[:16]


def default_jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# What went wrong, by the grading's recorded outcome ("" for a grading): the gradebook's error kind.
ERROR_KIND = {GradingOutcome.GRADED: "", GradingOutcome.NOT_GRADABLE: "submission", GradingOutcome.REFUSED: "kit",
              GradingOutcome.KIT_ERROR: "kit", GradingOutcome.NOT_FINISHED: "kit"}


# -- the grading process ---------------------------------------------------------------------
class _Stop(BaseException):
    """SIGTERM in the grading process: unwind so the engine stops its worker."""


def _raise_stop(signum, frame):
    raise _Stop()


def _grade_in_child(assignment_id, path, out_path, options):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's; it stops us by SIGTERM
    signal.signal(signal.SIGTERM, _raise_stop)
    workers = []

    def tracked(seed=0):
        workers.append(WorkerProcess(seed=seed))
        return workers[-1]

    limit_judge_memory()
    try:  # a bug of the kit still gives a results file, as `autograder grade` does
        outcome = grade_or_report(assignments.load(assignment_id), path, worker_factory=tracked, **options)
    except _Stop:
        for w in workers:
            w.stop()
        os._exit(124)
    results.write(outcome, out_path)


# -- the batch ---------------------------------------------------------------------------------
class Progress:
    """done/total, failures and time left: one updating line on a TTY, else a line per submission."""

    def __init__(self, total, jobs, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total, self.jobs, self.done, self.failed, self.skipped, self.graded = total, jobs, 0, 0, 0, 0
        self.started = time.monotonic()

    def _left(self):
        remaining = self.total - self.done
        if not remaining:
            return "0:00"
        if not self.graded:
            return "?"
        seconds = (time.monotonic() - self.started) / self.graded * remaining
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"

    def _status(self):
        return (f"{self.done}/{self.total} done, {self.failed} failed, {self.skipped} unchanged, "
                f"{time.monotonic() - self.started:.0f} s elapsed, ~{self._left()} left")

    def finished(self, row, skipped=False):
        self.done += 1
        self.skipped += skipped
        self.graded += not skipped
        self.failed += row["status"] == "error"
        if self.tty:
            self.tick()
        elif not skipped:
            print(f"[{self.done}/{self.total}] {row['id']}: {row['score']:g} ({row['status']}, "
                  f"{row['seconds']:.1f} s); {self.failed} failed, ~{self._left()} left",
                  file=self.stream, flush=True)

    def tick(self):
        if self.tty:
            width = 24
            filled = int(width * self.done / max(self.total, 1))
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {self._status()}\033[K",
                  end="", file=self.stream, flush=True)

    def close(self):
        if self.tty:
            print(file=self.stream, flush=True)
        else:
            print(self._status(), file=self.stream, flush=True)


def _paths(out_dir, sub_id):
    folder = os.path.join(out_dir, "results")
    return os.path.join(folder, f"{sub_id}.json"), os.path.join(folder, f"{sub_id}.meta.json")


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(data, path):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def kit_errors(outcome):
    """Names of the checks the kit itself could not run (the engine marks them): regrade them once
    the kit is fixed."""
    return [t["name"] for t in outcome.get("tests", [])
            if isinstance(t, dict) and check_outcome(t) is CheckOutcome.KIT_ERROR]


def _row(sub, meta, outcome, results_path):
    return {"id": sub.id, "path": sub.path, "submitters": sub.submitters, "status": meta["status"],
            "error_kind": meta.get("error_kind", ""), "seconds": meta["seconds"], "score": outcome["score"],
            "questions": {q: s for q, (s, _) in results.per_question(outcome).items()}, "results_path": results_path,
            "kit_errors": kit_errors(outcome)}


def grade_all(assignment_id, submissions, out_dir, jobs=None, cell_timeout=None, budget=None, hard_limit=None,
              retry_errors=False, stream=None):
    """Grade `submissions` (discover.Submission) into out_dir/results; return stats with one row each.

    stats: total, graded (this run), skipped (unchanged), errors, timeouts, crashes, wall_seconds,
    graded_ids, rows (id, submitters, status, score, questions {qid: points}, seconds, ...).
    """
    assignment = assignments.load(assignment_id)
    jobs = max(1, jobs or default_jobs())
    budget = budget or assignment.budget
    hard_limit = hard_limit or budget * 1.25 + 30
    options = {"cell_timeout": cell_timeout, "budget": budget}
    version = kit_version(assignment_id)
    os.makedirs(os.path.join(out_dir, "results"), exist_ok=True)
    started = time.monotonic()
    stats = {"total": len(submissions), "graded": 0, "skipped": 0, "errors": 0, "timeouts": 0, "crashes": 0,
             "graded_ids": [], "rows": [], "kit_version": version}
    progress = Progress(len(submissions), jobs, stream)
    rows, pending = {}, collections.deque()
    for sub in submissions:  # resume: keep results whose key still matches
        digest = content_hash(sub.path)
        key = hashlib.sha256(json.dumps([assignment_id, digest, version, options]).encode()).hexdigest()
        res_path, meta_path = _paths(out_dir, sub.id)
        meta, outcome = _read_json(meta_path), _read_json(res_path)
        if (meta and outcome and meta.get("key") == key and _valid(outcome)
                and not (retry_errors and meta.get("error_kind") in ("timeout", "crash", "kit"))):
            rows[sub.id] = _row(sub, meta, outcome, res_path)
            stats["skipped"] += 1
            progress.finished(rows[sub.id], skipped=True)
        else:
            pending.append((sub, key, digest))
    context = multiprocessing.get_context("fork")
    running = {}  # sentinel -> (process, sub, key, digest, started, term_sent)
    try:
        while pending or running:
            while pending and len(running) < jobs:
                sub, key, digest = pending.popleft()
                res_path, meta_path = _paths(out_dir, sub.id)
                for stale in (meta_path, res_path):
                    if os.path.exists(stale):
                        os.unlink(stale)
                proc = context.Process(target=_grade_in_child, args=(assignment_id, sub.path, res_path, options),
                                       name=f"grade-{sub.id}", daemon=False)
                proc.start()
                running[proc.sentinel] = [proc, sub, key, digest, time.monotonic(), None]
            now = time.monotonic()
            waits = [entry[4] + hard_limit - now for entry in running.values() if entry[5] is None]
            waits += [entry[5] + TERM_GRACE - now for entry in running.values() if entry[5] is not None]
            timeout = max(0.05, min([1.0] + waits))
            ready = multiprocessing.connection.wait(list(running), timeout=timeout)
            now = time.monotonic()
            for sentinel in ready:
                proc, sub, key, digest, t0, term_sent = running.pop(sentinel)
                proc.join()
                row = _finish(assignment, sub, key, digest, version, out_dir, now - t0, proc.exitcode,
                              hard_limit if term_sent else None)
                rows[sub.id] = row
                stats["graded"] += 1
                stats["graded_ids"].append(sub.id)
                stats["timeouts"] += row["error_kind"] == "timeout"
                stats["crashes"] += row["error_kind"] == "crash"
                progress.finished(row)
            for entry in running.values():  # the hard limit: SIGTERM, then SIGKILL
                proc, t0, term_sent = entry[0], entry[4], entry[5]
                if term_sent is None and now - t0 > hard_limit:
                    proc.terminate()
                    entry[5] = now
                elif term_sent is not None and now - term_sent > TERM_GRACE:
                    proc.kill()
            progress.tick()
    finally:
        for proc, *_ in running.values():  # interrupted: stop the gradings under way
            proc.terminate()
        deadline = time.monotonic() + TERM_GRACE
        for proc, *_ in running.values():
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        progress.close()
    stats["rows"] = [rows[s.id] for s in submissions]
    stats["errors"] = sum(r["status"] == "error" for r in stats["rows"])
    stats["kit_errors"] = sum(len(r["kit_errors"]) for r in stats["rows"])
    stats["wall_seconds"] = time.monotonic() - started
    return stats


def _valid(outcome):
    try:
        results.validate(outcome)
        return True
    except ValueError:
        return False


def _finish(assignment, sub, key, digest, version, out_dir, seconds, exitcode, timed_out_after):
    """After a grading process ended: its results (or an error results.json), then the meta file."""
    res_path, meta_path = _paths(out_dir, sub.id)
    outcome = _read_json(res_path) if exitcode == 0 else None
    if outcome is not None and not _valid(outcome):
        outcome = None
    if outcome is None and timed_out_after is not None:
        kind = "timeout"
        message = (f"Grading this submission did not finish within the batch's hard limit of {timed_out_after:.0f} s "
                   "and was stopped. This is not a grade of your work; the course staff will look at it.")
    elif outcome is None:
        kind = "crash"
        message = (f"The grading process stopped unexpectedly (exit code {exitcode}). This is not a grade of "
                   "your work; the course staff will look at it.")
    else:
        kind = ERROR_KIND[grading_outcome(outcome)]
    if kind in ("timeout", "crash"):
        outcome = results.error_results(message, assignment.questions, seconds, GradingOutcome.NOT_FINISHED)
        results.write(outcome, res_path)
    meta = {"id": sub.id, "key": key, "content_sha256": digest, "kit_version": version, "source": sub.source,
            "path": os.path.abspath(sub.path), "submitters": sub.submitters, "status": "error" if kind else "graded",
            "error_kind": kind, "seconds": round(seconds, 2), "exitcode": exitcode,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _write_json(meta, meta_path)
    return _row(sub, meta, outcome, res_path)

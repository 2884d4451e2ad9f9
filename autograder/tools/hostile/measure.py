"""Grading one submission of the corpus with the real engine, and judging the outcome against the
attack's expectations and the honest submission's results.
"""
import json
import os
import resource
import threading
import shutil
import tempfile
import time
from dataclasses import dataclass, field

from ... import assignments
from ...judge import isolation
from ...judge import results as gradescope
from ...judge.engine import Grading
from ...judge.outcome import CheckOutcome, GradingOutcome, check_outcome, grading_outcome
from .build import Submission
from .detect import Watch, changed_files, check_names, find_leaks, hidden_material, leftover_state, tree_state, visible_text

SLACK = 10  # seconds past the budget that grading may take: stopping the worker, writing results.json
MAX_RESULTS_BYTES = 200_000
MAX_JUDGE_GROWTH = 1 << 30  # how much the judge's peak memory may grow while grading one entry

@dataclass
class Outcome:
    submission: Submission
    results: dict
    seconds: float
    leaks: list
    changed: list
    leftover: list
    error: str = ""          # the judge itself raised, or results.json did not validate
    unrelated: list = field(default_factory=list)  # kit files someone else changed meanwhile
    judge_growth: int = 0    # bytes the judge's resident memory rose by while grading (sampled)
    sent: list = field(default_factory=list)       # what reached the judge's loopback listeners
    state: list = field(default_factory=list)      # IPC objects and keys left for a later grading

    @property
    def score(self):
        return self.results["score"] if isinstance(self.results, dict) else None


class _MemorySampler(threading.Thread):
    """The judge's resident memory, sampled every 20 ms while it grades: how far it rose above where
    it started (a process's own high-water mark would hide a rise below an earlier peak)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.page = resource.getpagesize()
        self.start_rss = self.peak = self._rss()
        self.done = threading.Event()
        self.start()

    def _rss(self):
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self.page
        except (OSError, ValueError, IndexError):
            return 0

    def run(self):
        while not self.done.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def stop(self):
        self.done.set()
        self.join()
        self.peak = max(self.peak, self._rss())
        return self.peak - self.start_rss


def measure(submission, ctx, material=None, workdir=None, leftover_wait=3.0):
    """Grade one submission with the real engine and record everything the checks need.
    `leftover_wait`: seconds the worker's processes get to disappear after grading (more on a busy
    machine, where tearing down a fork bomb's thousands takes longer)."""
    material = material or hidden_material(submission.assignment)
    own = tempfile.mkdtemp(prefix="rnnkit-hostile-") if workdir is None else None
    workdir = workdir or own
    try:
        path = submission.write(workdir)
        watch, before = Watch(), tree_state(ctx)
        sampler = _MemorySampler()
        ctx.received()  # only what this grading sends counts
        started, error, results = time.monotonic(), "", None
        try:
            results = Grading(assignments.load(submission.assignment), worker_factory=watch.factory,
                              **submission.options).grade(path)
            out = os.path.join(workdir, "results.json")
            gradescope.write(results, out)  # validates, as run_autograder does
            with open(out) as f:
                results = json.load(f)
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
        seconds = time.monotonic() - started
        growth = sampler.stop()
        leftover = watch.leftovers(ctx.marker, wait=leftover_wait)
        changed, unrelated = changed_files(before, tree_state(ctx), ctx, submission.assignment)
        # A value a check's name states (rnn-basics q6's 100000) was sent as a public input.
        names = check_names(submission.assignment)
        sent = [v for v in watch.sent_values() if v not in names]
        leaks = find_leaks(visible_text(results), material, submission.text, sent)
        return Outcome(submission, results, seconds, leaks, changed, leftover, error, unrelated, judge_growth=growth,
                       sent=ctx.received(), state=leftover_state(ctx, watch.uids))
    finally:
        if own:
            shutil.rmtree(own, ignore_errors=True)


def honest_fragment(honest):
    """What the un-attacked submission shows first: its first failure message, else its summary."""
    failing = [t["output"] for t in honest["tests"] if t["score"] < t["max_score"] and t["output"]]
    return (failing[0] if failing else honest["output"]).splitlines()[0]


def problems(outcome, attack, honest, slack=SLACK):
    """Every expectation `attack` breaks in `outcome` (empty: the grader held). `slack`: seconds the
    grading may take past its budget (more on a busy machine, where starting and killing are slower)."""
    found = []
    if outcome.error:
        return [f"grading failed: {outcome.error}"]
    budget = outcome.submission.options["budget"]
    if outcome.seconds > budget + slack:
        found.append(f"took {outcome.seconds:.0f} s, budget {budget:.0f} s")
    score, fair = outcome.score, honest["score"]
    if score > fair + 1e-9:
        found.append(f"score {score:g} above the honest {fair:g}")
    if attack.costs is True and not score < fair:
        found.append(f"score {score:g} should be below the honest {fair:g}")
    if attack.costs is False and abs(score - fair) > 1e-9:
        found.append(f"score {score:g} should equal the honest {fair:g}")
    if len(json.dumps(outcome.results)) > MAX_RESULTS_BYTES:
        found.append("results.json is larger than 200 kB")
    try:
        json.dumps(outcome.results, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        found.append("results.json holds text that is not valid UTF-8 (a lone surrogate)")
    if outcome.judge_growth > MAX_JUDGE_GROWTH:
        found.append(f"the judge's memory grew by {outcome.judge_growth / (1 << 30):.1f} GiB")
    text = visible_text(outcome.results)
    if grading_outcome(outcome.results) is GradingOutcome.KIT_ERROR or any(
            check_outcome(t) is CheckOutcome.KIT_ERROR for t in outcome.results.get("tests", [])):
        found.append("the kit failed (a kit error recorded in results.json)")
    cell = outcome.submission.first_cells.get(attack.name)
    fragments = [m.replace("{cell}", str(cell)) for m in attack.message.split("|")] if attack.message else [honest_fragment(honest)]
    if not any(f in text for f in fragments):
        found.append(f"no message with {' or '.join(map(repr, fragments))}")
    found += [f"leak: {l}" for l in outcome.leaks]
    found += [f"changed: {p}" for p in outcome.changed]
    found += [f"process left: {p}" for p in outcome.leftover]
    found += [f"sent out: {p}" for p in outcome.sent]
    found += [f"left for a later grading: {p}" for p in outcome.state]
    return found


def preconditions():
    """Why the corpus must not run here ('' when it may): without the sandbox, attacks would hit
    this machine for real (kill(-1) as the developer, reading the checkout)."""
    p = isolation.protections()
    if not p["landlock_abi"]:
        return "Landlock is not available: the worker would not be confined"
    if not (p["unprivileged_user"] or p["landlock_abi"] >= 6):
        return "neither a separate grading user (root) nor Landlock signal scoping (ABI 6+)"
    return ""



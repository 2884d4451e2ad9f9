"""Gradescope's results.json: build it, check it, write it atomically, print a summary table.

Schema: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (top-level score,
execution_time, output, tests[] with name, score, max_score, output, visibility).

Visibility. A visible check shows at once; a hidden check is `after_published`: its result shows
when the course staff publish the grades. The spec says that while any test is hidden that way,
students do not see their total score; tests marked `hidden` never show and must not carry
points (the spec keeps them for tests that do not count). The top-level `output` is always shown,
so while a test with points is not visible it never states the total: it says when the score
will show (`score_line`), and `validate` refuses an output that gives the total away. The
top-level `score` is still written, equal to the tests' scores added exactly: the spec lets it
override the tests' total, and it is what Gradescope records (and hides by the rule above); an
unset score would leave the total to Gradescope's own float addition.

Points. Scores are decimals with at most PLACES places (0.4, 2.5). Sums are taken in decimal
arithmetic and rounded to PLACES places (`exact_sum`), so five checks of 0.4 make exactly 2 and a
20-point assignment's maxima exactly 20, never 19.999999999999993.
"""
import json
import os
import re
import tempfile
from decimal import Decimal

from .outcome import CheckOutcome, GradingOutcome, check_outcome

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
MAX_TEST_OUTPUT = 8_000  # characters of one check's message
MAX_OUTPUT = 40_000  # characters of the top-level output
MAX_NAME = 300
MAX_RESULTS_BYTES = 1_000_000  # the whole results.json, whatever the notebook held


def clean(text, limit):
    """`text` as valid UTF-8 text of at most `limit` characters: lone surrogates (which a notebook's
    JSON may hold, and which no UTF-8 encoder accepts) become U+FFFD, the rest is cut with a mark."""
    text = text if isinstance(text, str) else str(text)
    if len(text) > limit:
        text = text[:limit - 40] + f"\n[... {len(text) - limit + 40} more characters cut]"
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


PLACES = 4
_QUANTUM = Decimal(1).scaleb(-PLACES)


def _decimal(value):
    return Decimal(repr(float(value))).quantize(_QUANTUM)


def points(value):
    """`value` as points: a float with at most PLACES decimal places."""
    return float(_decimal(value))


def exact_sum(values):
    """The sum of points, added as decimals and rounded to PLACES places (0.4 x 5 == 2.0)."""
    return float(sum((_decimal(v) for v in values), Decimal(0)).quantize(_QUANTUM))


def test_entry(name, score, max_score, output, visible, outcome=None):
    """One check's entry; `outcome` (a CheckOutcome) defaults to passed/failed by the score."""
    outcome = outcome or (CheckOutcome.PASSED if score >= max_score else CheckOutcome.FAILED)
    return {"name": clean(name, MAX_NAME), "score": points(score), "max_score": points(max_score),
            "output": clean(output, MAX_TEST_OUTPUT), "visibility": "visible" if visible else "after_published",
            "status": "passed" if outcome is CheckOutcome.PASSED else "failed",
            "extra_data": {"outcome": outcome.value}}


def hides_total(tests):
    """True when a test with points is not visible yet: Gradescope then hides the total score."""
    return any(t.get("visibility", "visible") != "visible" and t["max_score"] > 0 for t in tests)


def score_line(title, tests, total):
    """The first line of the top-level output: the score, unless Gradescope hides it for now."""
    if not hides_total(tests):
        return f"{title}: {exact_sum(t['score'] for t in tests):g} / {total:g} points."
    shown = [t for t in tests if t.get("visibility", "visible") == "visible"]
    passed = sum(t["score"] >= t["max_score"] for t in shown)
    return (f"{title}: graded. Your score shows here when the course staff publish the grades; until then "
            f"only the checks marked visible show their result ({passed} of {len(shown)} passed).")


def reveals_total(results):
    """True when the top-level output states the total score (as `S / T` or `S points`)."""
    score = f"{results['score']:g}"
    total = f"{exact_sum(t['max_score'] for t in results['tests']):g}"
    pattern = rf"(?<![\w.]){re.escape(score)}\s*(/\s*{re.escape(total)}(?![\d.])|points?\b)"
    return re.search(pattern, results["output"]) is not None


def build(tests, output, execution_time, extra=None, outcome=GradingOutcome.GRADED):
    results = {"score": exact_sum(t["score"] for t in tests), "execution_time": round(execution_time, 2),
               "output": clean(output, MAX_OUTPUT), "stdout_visibility": "hidden", "tests": tests,
               "extra_data": {**(extra or {}), "outcome": outcome.value}}
    return bounded(results)


def bounded(results):
    """`results` cut to at most MAX_RESULTS_BYTES of JSON: messages shortened, longest first."""
    limit = MAX_TEST_OUTPUT
    while len(json.dumps(results).encode()) > MAX_RESULTS_BYTES and limit > 200:
        limit //= 2
        results["output"] = clean(results["output"], limit)
        for t in results["tests"]:
            t["output"] = clean(t["output"], limit)
    return results


KIT_FAILURE_MESSAGE = ("The autograder itself failed while grading this submission; this is not your fault. "
                       "Please tell the course staff.")


def error_results(message, questions, execution_time=0.0, outcome=GradingOutcome.NOT_GRADABLE):
    """Zero on every question with one clear message: the submission could not be graded
    (`outcome` says why: the submission, the machine or the kit)."""
    tests = [test_entry(f"{qid}: not graded", 0, points, message, True, CheckOutcome.NOT_RUN)
             for qid, points in questions.items()]
    return build(tests, message, execution_time, outcome=outcome)


def validate(results):
    """Raise ValueError unless `results` follows the Gradescope schema the kit relies on."""
    if not isinstance(results, dict) or not isinstance(results.get("tests"), list):
        raise ValueError("results must be an object with a tests list")
    for key in ("score", "execution_time"):
        if not isinstance(results.get(key), (int, float)):
            raise ValueError(f"{key} must be a number")
    if not isinstance(results.get("output"), str):
        raise ValueError("output must be a string")
    for t in results["tests"]:
        if not isinstance(t.get("name"), str) or not isinstance(t.get("output"), str):
            raise ValueError("each test needs a name and an output")
        if not isinstance(t.get("score"), (int, float)) or not isinstance(t.get("max_score"), (int, float)):
            raise ValueError("each test needs score and max_score")
        if not 0 <= t["score"] <= t["max_score"] or t.get("visibility") not in VISIBILITIES:
            raise ValueError(f"bad score or visibility in test {t['name']!r}")
        if t["visibility"] == "hidden" and t["max_score"] > 0:
            raise ValueError(f"test {t['name']!r} is hidden but has points: its result would show in the total")
    if results["score"] != exact_sum(t["score"] for t in results["tests"]):
        raise ValueError("score must be the sum of the tests' scores")
    if hides_total(results["tests"]) and reveals_total(results):
        raise ValueError("output states the total score while Gradescope hides it (a test is not visible yet)")


def write(results, path):
    """Write atomically: a reader sees the old file or the whole new one, never half of it."""
    validate(results)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(results, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def per_question(results):
    """{question id: [score, max_score]} summed (exactly) over the tests whose name starts with it."""
    grouped = {}
    for t in results["tests"]:
        grouped.setdefault(t["name"].split(":", 1)[0], []).append(t)
    return {qid: [exact_sum(t["score"] for t in tests), exact_sum(t["max_score"] for t in tests)]
            for qid, tests in grouped.items()}


def _marked(test):
    """A failing test's first line, marked when it was not a verdict on the student's code."""
    outcome = check_outcome(test)
    mark = f"[{outcome.value}] " if outcome in (CheckOutcome.NOT_RUN, CheckOutcome.KIT_ERROR) else ""
    return mark + test["output"].splitlines()[0]


def summary_table(results):
    """A per-question table for the terminal: ASCII-safe whatever the messages hold."""
    lines = [f"{'question':<10}{'score':>8}{'max':>6}  first failure"]
    for qid, (score, max_score) in per_question(results).items():
        failure = next((_marked(t) for t in results["tests"]
                        if t["name"].startswith(qid + ":") and t["score"] < t["max_score"] and t["output"]), "")
        lines.append(f"{qid:<10}{score:>8.2f}{max_score:>6g}  {failure[:90]}")
    total = exact_sum(t["max_score"] for t in results["tests"])
    lines.append(f"{'total':<10}{results['score']:>8.2f}{total:>6g}  ({results['execution_time']:.1f} s)")
    return "\n".join(lines).encode("ascii", "backslashreplace").decode("ascii")

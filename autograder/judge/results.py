"""Gradescope's results.json: build it, check it, write it atomically, print a summary table.

Schema: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (top-level score,
execution_time, output, tests[] with name, score, max_score, output, visibility).
"""
import json
import os
import tempfile

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


def test_entry(name, score, max_score, output, visible):
    return {"name": clean(name, MAX_NAME), "score": round(float(score), 4), "max_score": float(max_score),
            "output": clean(output, MAX_TEST_OUTPUT), "visibility": "visible" if visible else "after_published",
            "status": "passed" if score >= max_score else "failed"}


def build(tests, output, execution_time, extra=None):
    results = {"score": round(sum(t["score"] for t in tests), 4), "execution_time": round(execution_time, 2),
               "output": clean(output, MAX_OUTPUT), "stdout_visibility": "hidden", "tests": tests}
    if extra:
        results["extra_data"] = extra
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


def error_results(message, questions, execution_time=0.0):
    """Zero on every question with one clear message: the submission could not be graded."""
    tests = [test_entry(f"{qid}: not graded", 0, points, message, True) for qid, points in questions.items()]
    return build(tests, message, execution_time)


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
    if abs(results["score"] - sum(t["score"] for t in results["tests"])) > 1e-3:
        raise ValueError("score must be the sum of the tests' scores")


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
    """{question id: [score, max_score]} summed over the tests whose name starts with it."""
    table = {}
    for t in results["tests"]:
        qid = t["name"].split(":", 1)[0]
        row = table.setdefault(qid, [0.0, 0.0])
        row[0] += t["score"]
        row[1] += t["max_score"]
    return table


def summary_table(results):
    """A per-question table for the terminal: ASCII-safe whatever the messages hold."""
    lines = [f"{'question':<10}{'score':>8}{'max':>6}  first failure"]
    for qid, (score, max_score) in per_question(results).items():
        failure = next((t["output"].splitlines()[0] for t in results["tests"]
                        if t["name"].startswith(qid + ":") and t["score"] < t["max_score"] and t["output"]), "")
        lines.append(f"{qid:<10}{score:>8.2f}{max_score:>6.0f}  {failure[:90]}")
    total = sum(t["max_score"] for t in results["tests"])
    lines.append(f"{'total':<10}{results['score']:>8.2f}{total:>6.0f}  ({results['execution_time']:.1f} s)")
    return "\n".join(lines).encode("ascii", "backslashreplace").decode("ascii")

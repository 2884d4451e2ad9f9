"""The Gradescope-shaped run: build the zip, run setup.sh and run_autograder as Gradescope would.

The tree is the real /autograder when that path is free, else a fresh stand-in named by
RNNKIT_AUTOGRADER_ROOT: source/ (the unzipped zip), submission/, results/, and the venv setup.sh
makes. setup.sh runs once per module with RNNKIT_TORCH_WHEEL_SOURCE=local (pip's default index;
on the kit's machine a local CPU wheel), then each submission is graded by run_autograder as
root: the reference, the blank notebook, a forging zip, and the hostile corpus of rnn-basics
(autograder/hostile/) at the real limits. Needs root (the worker's transient grading uids) and
pip's index; slow (a venv with torch): marked `root`.
"""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import nbformat
import pytest

from autograder.judge import isolation, results
from autograder.paths import solution_path, student_path
from autograder.tools import dist, hostile
from autograder.tools.hostile.measure import SLACK
from conftest import sampled, time_scale

AID = "rnn-basics"
QUESTIONS = {"q1": 2, "q2": 2, "q3": 3, "q4": 2, "q5": 2, "q6": 3, "q7": 4, "q8": 2}
FORGED_MARK = "FORGED-BY-STUDENT-CELL"
NO_NETWORK = re.compile(r"No matching distribution found|Could not find a version that satisfies|"
                        r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
                        r"ConnectionError|ReadTimeoutError|Failed to establish a new connection", re.I)

pytestmark = [pytest.mark.root, pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="the Gradescope run needs root: Gradescope runs "
                                 "setup.sh and run_autograder as root, and the worker runs under a transient uid")]


def clean_env(root, **extra):
    """The test's environment without its virtualenv, plus the autograder root (unless it is
    the real /autograder, which the scripts use by default, as on Gradescope)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("RNNKIT_")}
    venv_bin = os.path.join(os.environ.get("VIRTUAL_ENV", "/nonexistent"), "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p != venv_bin)
    if root != REAL_ROOT:
        env["RNNKIT_AUTOGRADER_ROOT"] = root
    env.update(extra)
    return env


REAL_ROOT = "/autograder"


def make_root():
    """The real /autograder when it is free (root, and no such path yet), else a fresh stand-in."""
    try:
        os.mkdir(REAL_ROOT, 0o755)
        return REAL_ROOT
    except OSError:  # taken (or not ours to make): a stand-in under /tmp, not pytest's 0700 dirs
        return tempfile.mkdtemp(prefix="rnnkit-gradescope-", dir="/tmp")


def unzip(path, into):
    """Unpack keeping the unix modes stored in the zip (zipfile alone drops them)."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            z.extract(info, into)
            mode = info.external_attr >> 16 & 0o777
            if mode:
                os.chmod(os.path.join(into, info.filename), mode)


def cpu_wheel_problem():
    """Why setup.sh (RNNKIT_TORCH_WHEEL_SOURCE=local) cannot get the pinned CPU wheel of torch for
    the interpreter it uses, from pip's default index and find-links ('' when it can)."""
    torch_pin = "torch" + dist.grading_requirements()["torch"]
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        return f"{python} is missing (setup.sh installs it with apt-get, which this test does not run)"
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as target:
        probe = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
                                "--only-binary=:all:", "--python-version", version, "--target", target,
                                "--timeout", "20", "--retries", "1", "--quiet", torch_pin],
                               capture_output=True, text=True, timeout=300, env=clean_env(REAL_ROOT))
    if probe.returncode:
        return (f"no wheel of {torch_pin} for Python {version} from pip's default index and find-links "
                f"(RNNKIT_TORCH_WHEEL_SOURCE=local): {probe.stderr.strip().splitlines()[-1:]}")
    return ""


def run_setup(root):
    started = time.monotonic()
    run = subprocess.run(["bash", os.path.join(root, "source", "setup.sh")], cwd=os.path.join(root, "source"),
                         env=clean_env(root, RNNKIT_TORCH_WHEEL_SOURCE="local"), stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=1800)
    output = run.stdout + run.stderr
    if run.returncode != 0:
        if NO_NETWORK.search(output):
            pytest.skip(f"setup.sh could not reach a package index (no network for pip):\n{output[-1500:]}")
        pytest.fail(f"setup.sh failed with status {run.returncode}:\n{output[-4000:]}")
    return output, time.monotonic() - started


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory):
    """The root of a built /autograder (or stand-in), setup.sh already run twice; removed after."""
    for path in (solution_path(AID), student_path(AID)):
        if not os.path.exists(path):
            pytest.skip(f"{path} is missing: run `make assign` (python -m autograder assign) first")
    problem = cpu_wheel_problem()
    if problem:
        pytest.skip(f"the CPU wheel of torch cannot be had here, so setup.sh cannot run: {problem}")
    zip_path = dist.build(AID, str(tmp_path_factory.mktemp("dist")))
    # The worker's unprivileged user must reach the venv, as it reaches /autograder/venv on Gradescope.
    root = make_root()
    os.chmod(root, 0o755)
    print(f"\nthe autograder root: {root}")
    try:
        for name in ("source", "submission", "results"):
            os.mkdir(os.path.join(root, name))
        unzip(zip_path, os.path.join(root, "source"))
        first, seconds = run_setup(root)
        print(f"\nsetup.sh took {seconds:.0f} s")
        again, seconds = run_setup(root)  # idempotent: a second run succeeds and reinstalls nothing
        print(f"setup.sh again took {seconds:.0f} s")
        assert "torch 2.13.0+cpu already installed" in again
        shutil.copy(os.path.join(root, "source", "run_autograder"), os.path.join(root, "run_autograder"))
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def submit(root, name, data):
    """Place one upload in a fresh submission/ and results/, run run_autograder, read results."""
    return submit_files(root, {name: data})


def submit_files(root, files, readable=True):
    """Place the uploaded files (name -> bytes) in a fresh submission/ and results/, run
    run_autograder as Gradescope does, check and return (results, raw results.json). An
    unreadable submission starts no worker, so there is no worker user to check."""
    for sub in ("submission", "results"):
        shutil.rmtree(os.path.join(root, sub))
        os.mkdir(os.path.join(root, sub))
    for name, data in files.items():
        path = os.path.join(root, "submission", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if hasattr(data, "target"):  # the hostile corpus's Link: a symbolic link, not a file
            os.symlink(solution_path(AID) if data.target == "$solution" else data.target, path)
            continue
        with open(path, "wb") as f:
            f.write(data)
    run = subprocess.run([os.path.join(root, "run_autograder")], cwd=root, env=clean_env(root),
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(os.path.join(root, "results", "results.json")) as f:
        raw = f.read()
    data = json.loads(raw)
    results.validate(data)
    assert data["tests"]
    for test in data["tests"]:
        assert test["name"].split(":", 1)[0] in QUESTIONS, test["name"]
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(20)
    assert dist.FALLBACK_MESSAGE not in data["output"], run.stdout + run.stderr  # not the fallback
    assert "The autograder itself failed" not in data["output"], run.stdout + run.stderr  # the judge did not crash
    if not readable:
        return data, raw
    uid = data.get("extra_data", {}).get("protection", {}).get("uid")
    assert uid is not None and uid != 0, f"the worker did not run as an unprivileged user: {data.get('extra_data')}"
    assert isolation.UID_FIRST <= uid < isolation.UID_FIRST + isolation.UID_COUNT, "not a transient grading uid"
    return data, raw


def notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


def test_reference_solution_scores_full_marks(gradescope):
    with open(solution_path(AID), "rb") as f:
        data, _ = submit(gradescope, f"{AID}.ipynb", f.read())
    assert data["score"] == pytest.approx(20), data["output"]


def test_blank_student_notebook_scores_zero(gradescope):
    with open(student_path(AID), "rb") as f:
        data, _ = submit(gradescope, "Untitled.ipynb", f.read())  # any single notebook's name will do
    assert data["score"] == 0


def test_hostile_submission_cannot_forge_its_results(gradescope):
    """A student cell writes results/results.json, then kills its process with os._exit(0)."""
    forged_path = os.path.join(gradescope, "results", "results.json")
    forged = {"score": 1000, "execution_time": 0, "output": FORGED_MARK,
              "tests": [{"name": "q1: forged", "score": 1000, "max_score": 1000, "output": FORGED_MARK}]}
    hostile_source = (
        "import json, os\n"
        f"for path in [{forged_path!r}, 'results/results.json', '../results/results.json']:\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        f"            json.dump({forged!r}, f)\n"
        "    except OSError as e:\n"
        "        print('could not forge', path, e)\n"
        "os._exit(0)\n")
    notebook = nbformat.read(solution_path(AID), as_version=4)
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell(hostile_source))
    hostile_cell = first_code + 2  # 1-based, as the grader names cells
    export = io.BytesIO()
    with zipfile.ZipFile(export, "w") as z:  # submitted as the notebook's export zip
        z.writestr(f"{AID}.ipynb", notebook_bytes(notebook))
    data, raw = submit(gradescope, f"{AID}_2026_11_22T10_00_00.zip", export.getvalue())
    assert FORGED_MARK not in raw, "the student's forged results.json is what Gradescope would read"
    assert data["score"] <= 20  # no more than its honest score (the reference's, the cell skipped)
    assert f"cell {hostile_cell}" in data["output"], data["output"]


# -- the hostile corpus (autograder/hostile.py) through run_autograder, at Gradescope's real limits --
# Each of these costs the real cell timeout (30 s) or budget (180 s) or more; tests/test_hostile.py
# runs them with small limits.
SLOW_AT_REAL_LIMITS = {"ignore-signals-and-sleep", "fork-bomb", "second-worker-by-fork", "whole-budget",
                       "infinite-loop-in-forward", "model-too-large-to-train"}
HOSTILE = {a.name: a for a in hostile.applicable(AID) if a.name not in SLOW_AT_REAL_LIMITS}


@pytest.fixture(scope="module")
def hostile_run(gradescope):
    """The attacks' context (decoys and marker; the real results.json among their targets) and
    the honest results of the blank and reference notebooks, graded the same way."""
    ctx = hostile.Context.create(results_paths=[os.path.join(gradescope, "results", "results.json")],
                                 kit=os.path.join(gradescope, "source"))
    try:
        honest = {base: submit_files(gradescope, hostile.assemble(AID, [], ctx, base=base).upload())[0]
                  for base in ("blank", "reference")}
        yield ctx, honest
    finally:
        ctx.remove()


@pytest.mark.parametrize("name", sampled(  # `make test`: a third of each kind of attack (conftest.sampled)
    [pytest.param(n, marks=[pytest.mark.xfail(strict=True, reason=a.gap)] if a.gap else [], id=n) for n, a in HOSTILE.items()],
    lambda p: HOSTILE[p.values[0]].kind))
def test_hostile_corpus_through_run_autograder(gradescope, hostile_run, name):
    """As in test_hostile.py, but graded by run_autograder as Gradescope does: valid results from the
    grader (not the fallback), the worker unprivileged (both checked in submit_files), no more than
    the honest score, nothing hidden shown, no file of /autograder/source or the decoys changed, no
    process left, and the entry's message."""
    ctx, honest = hostile_run
    attack = HOSTILE[name]
    submission = hostile.assemble(AID, [attack], ctx)
    submission.options = {"budget": 180}  # run_autograder grades with the assignment's own limits
    trees = [os.path.join(gradescope, "source")]
    scale = time_scale()  # the slack past the budget grows with the machine's load (conftest.time_scale)
    before, started = hostile.tree_state(ctx, trees), time.monotonic()
    data, _ = submit_files(gradescope, submission.upload(), readable=name not in hostile.corpus.BROKEN_FILES)
    seconds = time.monotonic() - started
    changed = [p for p in hostile.changed_files(before, hostile.tree_state(ctx, trees), ctx, AID)[0]
               if not p.startswith(os.path.join(gradescope, "results"))]  # the grader's own results.json
    leaks = hostile.find_leaks(hostile.visible_text(data), hostile.hidden_material(AID), submission.text)
    outcome = hostile.Outcome(submission, data, seconds, leaks, changed, hostile.Watch().leftovers(ctx.marker))
    found = hostile.problems(outcome, attack, honest[attack.base], slack=SLACK * scale)
    assert not found, f"{name}: {found}\n{data['output']}"

"""`rnnkit new` scaffolds an assignment that builds, ships and grades as the README says.

The scaffold is made in a copy of the kit (so tests running beside this one never see a fifth
assignment): new -> assign -> dist, then its reference gets full marks, its blank notebook 0,
and its mistake loses the question with its message.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.authoring.mistakes import apply
from conftest import ROOT

pytestmark = pytest.mark.slow  # runs otter assign and three gradings
AID = "demo-scaffold"


def _kit_copy(tmp_path):
    copy = tmp_path / "kit"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("autograder", "solutions", "assignments"):
        shutil.copytree(os.path.join(ROOT, name), copy / name, ignore=ignore)
    for name in ("pyproject.toml", "requirements.txt"):
        shutil.copy(os.path.join(ROOT, name), copy)
    return copy


def _rnnkit(copy, *args):
    env = dict(os.environ, PYTHONPATH=str(copy))
    done = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_new_assignment_builds_ships_and_grades(tmp_path):
    copy = _kit_copy(tmp_path)
    _rnnkit(copy, "new", AID)
    package = copy / "autograder" / "assignments" / "demo_scaffold"
    assert {"checks.py", "mistakes.py"} <= set(os.listdir(package))
    _rnnkit(copy, "assign", AID)
    student = copy / "assignments" / AID / f"{AID}.ipynb"
    solution = copy / "solutions" / AID / f"{AID}-solution.ipynb"
    assert "return (num_layers, batch, hidden_size)" not in student.read_text()
    _rnnkit(copy, "dist", AID, "--out", str(tmp_path / "dist"))
    with zipfile.ZipFile(tmp_path / "dist" / AID / "autograder.zip") as z:
        names = set(z.namelist())
        assert json.loads(z.read("autograder/assignments/demo_scaffold/points.json")) == {"q1": 2}
    assert not any(n.startswith("autograder/assignments/rnn_basics/") for n in names)

    sys.path.insert(0, str(copy))  # the copy's mistakes.py, as plain data
    try:
        mistakes = {}
        exec((package / "mistakes.py").read_text().replace("from ...authoring import Mistake",
                                                           "from autograder.authoring import Mistake"), mistakes)
    finally:
        sys.path.remove(str(copy))
    mistake = mistakes["MISTAKES"][0]
    wrong = tmp_path / "mistake.ipynb"
    nbformat.write(apply(nbformat.read(solution, as_version=4), mistake), wrong)

    scores = {}
    for name, path in (("reference", solution), ("blank", student), ("mistake", wrong)):
        out = tmp_path / f"{name}.json"
        _rnnkit(copy, "grade", AID, str(path), "-o", str(out))
        scores[name] = json.loads(out.read_text())
    assert scores["reference"]["score"] == 2
    assert scores["blank"]["score"] == 0
    assert scores["mistake"]["score"] == 0
    assert any(mistake.message in t["output"] for t in scores["mistake"]["tests"])


def test_new_refuses_bad_and_taken_ids(tmp_path):
    copy = _kit_copy(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(copy))
    for bad in ("Bad_Id", "rnn-basics"):
        done = subprocess.run([sys.executable, "-m", "autograder", "new", bad], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "error:" in done.stderr, done.stderr

"""The Gradescope autograder zip: its entries, its two scripts, and the submission directory.

Fast tests only (no venv, no pip): the full Gradescope-shaped run is tests/test_gradescope_run.py.
"""
import json
import os
import re
import stat
import subprocess
import zipfile

import pytest

from autograder import assignments
from autograder.judge import results
from autograder.judge.submission_dir import find_submission_file, missing_message
from autograder.tools import dist

AID = "rnn-basics"
QUESTIONS = {"q1": 2, "q2": 2, "q3": 3, "q4": 2, "q5": 2, "q6": 3, "q7": 4, "q8": 2}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(zip path, {name: bytes}, {name: unix mode}) of rnn-basics's zip, built once."""
    out = tmp_path_factory.mktemp("dist")
    path = dist.build(AID, str(out))
    with zipfile.ZipFile(path) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
    return path, files, modes


def text(built, name):
    return built[1][name].decode()


def code_lines(script):
    """The script's lines that are not comments (a comment may name what the code must not do)."""
    return [line for line in script.splitlines() if not line.lstrip().startswith("#")]


# -- the zip -------------------------------------------------------------------------------
def test_zip_has_exactly_the_expected_top_level_entries(built):
    path, files, _ = built
    assert path.endswith(os.path.join(AID, "autograder.zip"))
    top = {name.split("/", 1)[0] + ("/" if "/" in name else "") for name in files}
    assert top == {"setup.sh", "run_autograder", "requirements.txt", "ASSIGNMENT", "autograder/", ".rnnkit/"}
    assert set(dist.TOP_LEVEL) == top
    assert files["ASSIGNMENT"] == b"rnn-basics\n"


def test_zip_holds_what_grading_needs_and_only_its_own_assignment(built):
    files = built[1]
    inside = {n for n in files if n.startswith("autograder/")}
    assert not any("reference_models" in n for n in inside)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in files)
    assert not any(n.startswith("autograder/tools/") for n in inside)  # no corpus, no calibration
    shipped_assignments = {n.split("/")[2] for n in inside if n.startswith("autograder/assignments/")}
    assert shipped_assignments == {"__init__.py", "rnn_basics"}  # not the other assignments
    assert "autograder/assignments/rnn_basics/mistakes.py" not in inside
    for must in ("autograder/__main__.py", "autograder/cli.py", "autograder/judge/engine.py",
                 "autograder/worker/worker.py", "autograder/wire.py", "autograder/assignments/rnn_basics/checks.py"):
        assert must in files
    assert json.loads(files["autograder/assignments/rnn_basics/points.json"]) == assignments.load(AID).questions


def test_scripts_are_executable_in_the_zip(built):
    modes = built[2]
    for name in ("setup.sh", "run_autograder"):
        assert stat.S_ISREG(modes[name]) and modes[name] & 0o111 == 0o111, (name, oct(modes[name]))
    assert modes["requirements.txt"] & 0o111 == 0


def test_build_is_deterministic(built, tmp_path):
    again = dist.build(AID, str(tmp_path))
    with open(built[0], "rb") as a, open(again, "rb") as b:
        assert a.read() == b.read()


def test_build_all_writes_one_zip_per_assignment_and_prints_its_size(tmp_path, capsys):
    paths = dist.build_all(out=str(tmp_path))
    assert [os.path.basename(os.path.dirname(p)) for p in paths] == assignments.available()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines):
        assert os.path.isfile(path)
        assert re.fullmatch(re.escape(path) + r"\s+\d+\.\d KiB", line), line


def test_build_all_rejects_an_unknown_id_naming_the_known_ones(tmp_path):
    with pytest.raises(ValueError) as error:
        dist.build_all(["rnn-basic"], out=str(tmp_path))
    assert "rnn-basic" in str(error.value) and "rnn-basics" in str(error.value)
    assert not os.listdir(tmp_path)


def test_requirements_are_the_grading_dependencies_only(built):
    lines = [l for l in text(built, "requirements.txt").splitlines() if l and not l.startswith("#")]
    names = [re.match(r"[A-Za-z0-9_.-]+", l).group(0).lower() for l in lines]
    assert names == ["torch", "numpy", "ipython", "nbformat"]
    assert "torch==2.13.0+cpu" in lines  # a version only the CPU build has
    kit = open(os.path.join(dist.KIT_ROOT, "requirements.txt")).read()
    assert re.search(r'^torch==2\.13\.0\+cpu; sys_platform != "darwin"\s*$', kit, re.M), \
        "the kit's pin moved: update these tests"


@pytest.mark.parametrize("text", ["torch>=2.0\nnumpy\n", "torch==2.13.0\n",
                                  'torch==2.13.0; sys_platform == "linux"\ntorch==2.13.0+cpu; sys_platform == "darwin"\n'],
                         ids=["loose", "no-local-label", "cpu-pin-not-on-linux"])
def test_requirements_refuse_a_kit_without_an_exact_cpu_torch_pin_on_linux(tmp_path, text):
    loose = tmp_path / "requirements.txt"
    loose.write_text(text)
    with pytest.raises(ValueError, match=r"exact CPU build on Linux \(torch==X\.Y\.Z\+cpu\)"):
        dist.grading_requirements(str(loose))


def test_requirements_take_the_linux_lines_of_the_kit(tmp_path):
    kit = tmp_path / "requirements.txt"
    kit.write_text('--extra-index-url https://download.pytorch.org/whl/cpu\n'
                   'torch==2.13.0; sys_platform == "darwin"\ntorch==2.13.0+cpu; sys_platform != "darwin"\n'
                   'numpy>=2.0  # a comment\n')
    assert dist.grading_requirements(str(kit)) == {"torch": "==2.13.0+cpu", "numpy": ">=2.0", "ipython": ">=8.18",
                                                   "nbformat": ">=5.9"}


# -- setup.sh ------------------------------------------------------------------------------
def test_setup_sh_is_strict_bash(built):
    script = text(built, "setup.sh")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_setup_sh_pins_cpu_torch_from_the_cpu_index(built):
    lines = code_lines(text(built, "setup.sh"))
    installs = [l for l in lines if re.search(r'(\bpip\b|"\$\{PIP\[@\]\}").* install ', l)]
    cpu = [l for l in installs if "--index-url" in l]
    assert len(cpu) == 1, cpu
    assert '"torch==2.13.0+cpu"' in cpu[0] and f"--index-url {CPU_INDEX}" in cpu[0]
    local = [l for l in installs if "torch==" in l and "--index-url" not in l]
    assert len(local) == 1 and '"torch==2.13.0+cpu"' in local[0], local
    assert "extra-index-url" not in "\n".join(lines)


def test_setup_sh_keeps_only_the_cpu_build(built):
    script = text(built, "setup.sh")
    check = next(l for l in code_lines(script) if "already" not in l and "torch.__version__ ==" in l and "sys.exit" in l)
    assert "torch.__version__ == '2.13.0+cpu'" in check and "torch.version.cuda is None" in check
    assert 'assert torch.version.cuda is None' in script and 'assert torch.__version__ == "2.13.0+cpu"' in script


def test_setup_sh_local_torch_only_behind_the_documented_switch(built):
    script = text(built, "setup.sh")
    branch = re.search(r'elif \[ "\$\{RNNKIT_TORCH_WHEEL_SOURCE:-\}" = "local" \]; then\n(.*?)\nelse\n(.*?)\nfi',
                       script, re.S)
    assert branch, "the local switch is not an if/else around the torch install"
    assert '"torch==2.13.0+cpu"' in branch.group(1) and "--index-url" not in branch.group(1)
    assert f"--index-url {CPU_INDEX}" in branch.group(2)
    assert "RNNKIT_TORCH_WHEEL_SOURCE=local" in script.split("set -euo pipefail")[0], "switch undocumented"


def test_setup_sh_uses_no_conda_and_downloads_nothing_by_hand(built):
    code = "\n".join(code_lines(text(built, "setup.sh"))).lower()
    for banned in ("conda", "curl ", "wget ", "deadsnakes", "add-apt-repository", "get-pip"):
        assert banned not in code, banned


def test_setup_sh_makes_the_venv_and_reads_requirements(built):
    script = "\n".join(code_lines(text(built, "setup.sh")))
    assert 'ROOT="${RNNKIT_AUTOGRADER_ROOT:-/autograder}"' in script
    assert 'VENV="$ROOT/venv"' in script and '-m venv "$VENV"' in script
    assert '-r "$SOURCE/requirements.txt"' in script
    assert "useradd" not in script  # grading uids are transient: no user to make
    # torch first (CPU build), then the rest: the requirements' pin must find it installed
    assert script.index("--index-url") < script.index('-r "$SOURCE/requirements.txt"')


def test_the_zip_carries_the_grading_key_owner_only(built):
    from autograder.judge import grading_key
    _, files, modes = built
    assert files[dist.KEY_IN_ZIP] == grading_key.key()
    assert modes[dist.KEY_IN_ZIP] & 0o777 == 0o400


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_both_scripts_leave_only_the_venv_readable_to_others(built, tmp_path, script):
    """Run the scripts' lock-down step on a tree shaped like /autograder: afterwards a user other
    than root can reach the venv and nothing else (the hidden checks, the key, the submission,
    its metadata, the results)."""
    root = tmp_path / "autograder"
    for sub in ("source/autograder/assignments/rnn_basics", "source/.rnnkit", "submission", "results", "venv/bin"):
        (root / sub).mkdir(parents=True)
    for name in ("source/autograder/assignments/rnn_basics/checks.py", "source/.rnnkit/secret",
                 "submission/a.ipynb", "results/results.json", "submission_metadata.json", "venv/bin/python"):
        (root / name).write_text("x")
        os.chmod(root / name, 0o644)
    step = dist.LOCK_DOWN
    assert step in text(built, script)
    subprocess.run(["bash", "-euo", "pipefail", "-c", step], env={**os.environ, "ROOT": str(root)}, check=True)
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o711
    for name in ("source", "submission", "results", "submission_metadata.json",
                 "source/autograder/assignments/rnn_basics/checks.py"):
        assert stat.S_IMODE(os.stat(root / name).st_mode) & 0o077 == 0, name
    assert stat.S_IMODE(os.stat(root / "source/.rnnkit/secret").st_mode) == 0o400
    assert stat.S_IMODE(os.stat(root / "venv/bin/python").st_mode) & 0o004


# -- run_autograder ------------------------------------------------------------------------
def fallback_json(script):
    match = re.search(r"cat > \"\$RESULTS\" <<'RNNKIT_FALLBACK_JSON'\n(.*?)\nRNNKIT_FALLBACK_JSON\n", script, re.S)
    assert match, "no fallback heredoc"
    return match


def test_run_autograder_writes_the_fallback_before_grading(built):
    script = text(built, "run_autograder")
    assert script.startswith("#!/usr/bin/env bash\n")
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    assert "set -e" not in script.replace("set -euo", "").replace("set -uo", ""), "-e would skip the fallback"
    fallback = fallback_json(script)
    grade = script.index("-m autograder grade")
    assert fallback.start() < grade
    data = json.loads(fallback.group(1))
    results.validate(data)
    assert data["score"] == 0
    assert {t["name"].split(":")[0]: t["max_score"] for t in data["tests"]} == QUESTIONS
    assert "did not finish" in data["output"]


def test_run_autograder_grades_the_submission_directory_single_threaded(built):
    script = text(built, "run_autograder")
    grade = script[script.index('OMP_NUM_THREADS'):]
    assert grade.startswith('OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$ROOT/venv/bin/python" -m autograder grade "$(cat ASSIGNMENT)"')
    assert '"$ROOT/submission" -o "$RESULTS"' in grade
    assert 'cd "$ROOT/source"' in script[:script.index('OMP_NUM_THREADS')]
    assert 'ROOT="${RNNKIT_AUTOGRADER_ROOT:-/autograder}"' in script
    assert 'RESULTS="$ROOT/results/results.json"' in script


FAKE_PYTHON = """#!/usr/bin/env bash
# stands in for the venv's python: records what it was given and what results.json held then
cp "$RNNKIT_TEST_ROOT/results/results.json" "$RNNKIT_TEST_ROOT/seen-before-grading.json"
printf '%s\\n' "$PWD" "$OMP_NUM_THREADS" "$MKL_NUM_THREADS" "$@" > "$RNNKIT_TEST_ROOT/args.txt"
exit "${FAKE_STATUS:-0}"
"""


def fake_tree(tmp_path, built):
    """An /autograder stand-in whose venv python is FAKE_PYTHON; results/ is absent on purpose."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "source" / "ASSIGNMENT").write_bytes(built[1]["ASSIGNMENT"])
    python = root / "venv" / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    script = root / "run_autograder"
    script.write_bytes(built[1]["run_autograder"])
    script.chmod(0o755)
    return root


@pytest.mark.parametrize("status", [0, 3])
def test_run_autograder_leaves_the_fallback_when_grading_writes_nothing(built, tmp_path, status):
    root = fake_tree(tmp_path, built)
    env = {**os.environ, "RNNKIT_AUTOGRADER_ROOT": str(root), "RNNKIT_TEST_ROOT": str(root),
           "FAKE_STATUS": str(status)}
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    seen = json.loads((root / "seen-before-grading.json").read_text())
    final = json.loads((root / "results" / "results.json").read_text())
    assert seen == final == json.loads(fallback_json(text(built, "run_autograder")).group(1))
    results.validate(final)
    args = (root / "args.txt").read_text().splitlines()
    assert args == [str(root / "source"), "1", "1", "-m", "autograder", "grade", AID,
                    str(root / "submission"), "-o", str(root / "results" / "results.json")]


# -- the submission directory --------------------------------------------------------------
def touch(directory, *names):
    for name in names:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")


@pytest.mark.parametrize("files, expected", [
    (["rnn-basics.ipynb"], "rnn-basics.ipynb"),
    (["notes.ipynb", "rnn-basics.ipynb", "other.ipynb", "rnn-basics.zip"], "rnn-basics.ipynb"),
    (["my work (1).ipynb"], "my work (1).ipynb"),
    (["Untitled.ipynb", "submission.zip", "README.md"], "Untitled.ipynb"),
    (["rnn-basics.zip"], "rnn-basics.zip"),
    (["export.zip", "README.md", "data.csv"], "export.zip"),
    ([".hidden.ipynb", "._rnn-basics.ipynb", "real.ipynb"], "real.ipynb"),
    ([".ipynb_checkpoints/rnn-basics-checkpoint.ipynb", "__MACOSX/x.ipynb", "mine.ipynb"], "mine.ipynb"),
], ids=["named", "named-among-many", "single-other-name", "notebook-beats-zip", "single-zip",
        "zip-among-others", "hidden-ignored", "checkpoints-ignored"])
def test_find_submission_file_picks(tmp_path, files, expected):
    touch(tmp_path, *files)
    assert find_submission_file(str(tmp_path), AID) == str(tmp_path / expected)


@pytest.mark.parametrize("files, says", [
    ([], "has no notebook"),
    (["README.md", "model.py"], "README.md"),
    (["a.ipynb", "b.ipynb"], "2 notebooks"),
    (["a.ipynb", "b.ipynb", "rnn-basics.zip"], "2 notebooks"),
    (["one.zip", "two.zip"], "2 zip files"),
    (["sub/rnn-basics.ipynb"], "has no notebook"),
], ids=["empty", "no-notebook", "two-notebooks", "two-notebooks-and-a-zip", "two-zips", "nested-only"])
def test_find_submission_file_returns_none_when_missing_or_ambiguous(tmp_path, files, says):
    touch(tmp_path, *files)
    assert find_submission_file(str(tmp_path), AID) is None
    message = missing_message(str(tmp_path), AID)
    assert says in message and "rnn-basics.ipynb" in message


def test_find_submission_file_ignores_a_directory_named_like_the_notebook(tmp_path):
    (tmp_path / "rnn-basics.ipynb").mkdir()
    touch(tmp_path, "mine.ipynb")
    assert find_submission_file(str(tmp_path), AID) == str(tmp_path / "mine.ipynb")


def test_find_submission_file_of_a_missing_directory_is_none(tmp_path):
    assert find_submission_file(str(tmp_path / "nope"), AID) is None

"""The student notebook as a student runs it (nbclient, a real kernel, otter's grader.check)."""
import glob
import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.paths import solution_path, student_path

pytestmark = pytest.mark.slow  # make test-fast skips this file


def execute(path, workdir, name="rnn-basics.ipynb"):
    """Run a notebook top to bottom as `name` in workdir; returns the executed notebook."""
    target = os.path.join(workdir, name)
    shutil.copy(path, target)
    notebook = nbformat.read(target, as_version=4)
    NotebookClient(notebook, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def check_outputs(notebook):
    """{question: text printed by its grader.check cell}."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("grader.check("):
            qid = cell.source.split('"')[1]
            found[qid] = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                                 for o in cell.outputs)
    return found


@pytest.fixture(scope="module")
def executed_solution(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("solution")
    return execute(solution_path("rnn-basics"), workdir), workdir


def test_reference_answers_pass_every_public_check(executed_solution):
    notebook, _ = executed_solution
    outputs = check_outputs(notebook)
    assert sorted(outputs) == [f"q{i}" for i in range(1, 9)]
    for qid, text in outputs.items():
        assert "passed" in text and "failed" not in text.lower(), f"{qid}: {text}"


def test_export_cell_makes_a_zip_the_grader_gives_full_marks(executed_solution, grade):
    _, workdir = executed_solution
    zips = glob.glob(os.path.join(workdir, "*.zip"))
    assert len(zips) == 1
    assert grade("rnn-basics", zips[0])[0]["score"] == 20


def test_blank_notebook_fails_every_check_with_messages_and_does_not_crash(tmp_path):
    notebook = execute(student_path("rnn-basics"), tmp_path)  # a dead kernel would raise here
    outputs = check_outputs(notebook)
    assert sorted(outputs) == [f"q{i}" for i in range(1, 9)]
    for qid, text in outputs.items():
        assert "All test cases passed" not in text, qid
        assert len(text) > 40, f"{qid} gave no message: {text!r}"


def test_a_browser_copy_checks_and_exports_itself_not_the_original(tmp_path, grade):
    """A second download is saved as `rnn-basics (1).ipynb` beside the first: the copy's checks run
    and its export holds the copy, with the student's answers, never the blank original."""
    shutil.copy(student_path("rnn-basics"), tmp_path / "rnn-basics.ipynb")
    os.utime(tmp_path / "rnn-basics.ipynb", (1, 1))  # saved long ago
    notebook = execute(solution_path("rnn-basics"), tmp_path, name="rnn-basics (1).ipynb")
    for qid, text in check_outputs(notebook).items():
        assert "passed" in text and "failed" not in text.lower(), f"{qid}: {text}"
    zips = glob.glob(os.path.join(tmp_path, "*.zip"))
    assert len(zips) == 1 and os.path.basename(zips[0]).startswith("rnn-basics (1)")
    assert grade("rnn-basics", zips[0])[0]["score"] == 20

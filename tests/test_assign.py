"""The build of student notebooks: up to date, free of solutions and outputs, well formed."""
import copy
import os
import json

import nbformat
import pytest

from autograder.assignments import assignment_ids
from autograder.paths import solution_path, student_path
from autograder.tools.assign import render
from autograder.tools.assign.leak_check import find_leaks
from autograder.tools.assign.normalize import normalize
from autograder.tools.assign.own_file import find_own_file
from autograder.assignments.rnn_basics.checks import ANSWER_KEY, Q4_EDGES, Q5_EDGES

IDS = assignment_ids()


def test_every_assignment_with_checks_has_a_master():
    assert "rnn-basics" in IDS


@pytest.mark.parametrize("assignment_id", IDS)
def test_committed_notebooks_are_up_to_date(assignment_id):
    student, solution = render(assignment_id)
    for fresh, path in ((student, student_path(assignment_id)), (solution, solution_path(assignment_id))):
        with open(path) as f:
            committed = json.load(f)
        assert json.loads(nbformat.writes(fresh)) == committed, f"{path} is stale: run `make assign`"


@pytest.mark.parametrize("assignment_id", IDS)
def test_student_notebook_has_no_outputs_solutions_or_hidden_material(assignment_id):
    with open(student_path(assignment_id)) as f:
        text = f.read()
    notebook = nbformat.reads(text, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    for marker in ("BEGIN SOLUTION", "# SOLUTION", "BEGIN PROMPT", "hidden=True", "HIDDEN_SEED", "ANSWER_KEY"):
        assert marker not in text
    assert find_leaks(notebook, nbformat.read(solution_path(assignment_id), as_version=4)) == []


def test_rnn_basics_student_notebook_holds_no_answer_key_nor_hidden_inputs():
    with open(student_path("rnn-basics")) as f:
        text = f.read()
    key_line = ", ".join(f"{k}: {json.dumps(v)}" for k, v in ANSWER_KEY.items())
    assert key_line not in text and key_line.replace('"', '\\"') not in text
    for words in Q4_EDGES + Q5_EDGES:
        if len(words) > 1:
            assert json.dumps(words)[1:-1] not in text


@pytest.mark.parametrize("assignment_id", IDS)
def test_one_check_cell_per_question_after_its_answers_and_an_export_cell_last(assignment_id):
    from autograder.assignments import load
    notebook = nbformat.read(student_path(assignment_id), as_version=4)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    checks = [s for s in code if s.startswith("grader.check(")]
    assert checks == [f'grader.check("{q}")' for q in load(assignment_id).questions]
    assert "grader.export(" in code[-1]
    assert notebook.metadata["otter"]["assignment_name"] == assignment_id


def test_leak_check_finds_a_solution_line_left_in_the_student_notebook():
    code = nbformat.v4.new_code_cell
    student = nbformat.v4.new_notebook(cells=[code("x = ..."), code("print(1)")])
    solution = nbformat.v4.new_notebook(cells=[code("x = compute_the_answer(42)"), code("print(1)")])
    assert find_leaks(student, solution) == []
    leaky = copy.deepcopy(student)
    leaky.cells[1].source = "print(1)\nx = compute_the_answer(42)"
    assert find_leaks(leaky, solution) == ["x = compute_the_answer(42)"]


def test_normalize_clears_outputs_and_gives_stable_ids():
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.outputs = [nbformat.v4.new_output("stream", text="2")]
    cell.execution_count = 3
    a = normalize(nbformat.v4.new_notebook(cells=[copy.deepcopy(cell)]))
    b = normalize(nbformat.v4.new_notebook(cells=[copy.deepcopy(cell)]))
    assert a.cells[0].outputs == [] and a.cells[0].execution_count is None
    assert a.cells[0].id == b.cells[0].id


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_points_live_in_the_master_and_its_text_agrees(assignment_id):
    """Each question's "(N points)" prompt says what its `points:` line says, and the kit's
    loaded assignment takes exactly those points (split over its checks without float drift)."""
    import json
    import re
    from fractions import Fraction
    from autograder.assignments import load, master_points
    from autograder.paths import master_path
    points = master_points(master_path(assignment_id))
    cells = json.load(open(master_path(assignment_id)))["cells"]
    said = {}
    current = None
    for cell in cells:
        source = "".join(cell["source"])
        match = re.search(r"name:\s*(q\w+)", source) if source.startswith("# BEGIN QUESTION") else None
        if match:
            current = match.group(1)
        elif current and cell["cell_type"] == "markdown":
            found = re.search(r"\((\d+(?:\.\d+)?) points?\)", source)
            if found:
                said[current] = float(found.group(1))
                current = None
    assert said == {q: float(p) for q, p in points.items()}
    assignment = load(assignment_id)
    assert assignment.questions == points
    for q, p in points.items():
        total = sum(Fraction(c.points).limit_denominator(10_000) for c in assignment.checks_for(q))
        assert total == Fraction(p).limit_denominator(10_000), q


def test_own_file_makes_the_init_cell_find_a_renamed_copy(tmp_path, monkeypatch):
    """The init cell names the notebook's file; after the transform it finds the file the student
    works in: the newest `<id>*.ipynb`, e.g. a browser's `rnn-basics (1).ipynb`."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        '# Initialize Otter\nimport otter\ngrader = otter.Notebook("rnn-basics.ipynb")')])
    source = find_own_file(notebook).cells[0].source
    assert 'grader = otter.Notebook(_this_notebook("rnn-basics.ipynb"))' in source
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    namespace = {}
    exec(source.replace("import otter", "").replace("grader = otter.Notebook(", "found = ("), namespace)
    assert namespace["found"] == "rnn-basics.ipynb"  # nothing saved yet: otter's own message follows
    (tmp_path / "rnn-basics.ipynb").write_text("{}")
    os.utime(tmp_path / "rnn-basics.ipynb", (1, 1))
    (tmp_path / "rnn-basics (1).ipynb").write_text("{}")
    exec(source.replace("import otter", "").replace("grader = otter.Notebook(", "found = ("), namespace)
    assert namespace["found"] == "rnn-basics (1).ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "rnn-basics.ipynb"))  # Jupyter says which
    exec(source.replace("import otter", "").replace("grader = otter.Notebook(", "found = ("), namespace)
    assert namespace["found"] == str(tmp_path / "rnn-basics.ipynb")

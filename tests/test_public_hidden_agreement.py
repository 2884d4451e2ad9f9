"""Public and hidden checks agree: a public check that passes must not be followed by a hidden check
of the same property that fails, on any submission of the kit's corpora.

Each hidden check names the public tests of its question that check the same property
(`@check(..., public=(...))` in the assignment's checks.py). Every submission of the corpora (each
assignment's reference, its blank notebook, each common mistake and each correct alternative of its
mistakes.py, and every notebook of the blind corpus under tests/student_answers/ when it is there)
is run twice:

- public: the notebook's cells in a Jupyter kernel (nbclient), in the order and at the places the
  judge uses (autograder/judge/plan.py), with each `grader.check("qN")` cell replaced by otter's
  own test-file machinery running that question's tests from the notebook's metadata;
- hidden: graded by the kit's engine.

The reference and every correct alternative must also pass every public test: a public check must
not reject an answer the question allows.

A hidden check's property is the conjunction of the public tests it names. A disagreement is a
hidden check that failed while every public test it names passed. The only accepted ones are listed
in HIDDEN_INPUTS_ONLY, each with the reason why only the hidden inputs expose the bug.
"""
import json
import os
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

from autograder import assignments
from autograder.authoring.mistakes import apply
from autograder.judge.engine import Grading
from autograder.judge.plan import plan
from autograder.judge.submission import SubmissionError, read_notebook
from conftest import ROOT, sampled
from autograder.paths import solution_path, student_path

BLIND_CORPUS = Path(ROOT) / "tests" / "student_answers"
MARK = "@@PUBLIC@@"

# (assignment, submission, hidden check name) -> why only the hidden inputs expose the bug
HIDDEN_INPUTS_ONLY = {}

# public tests with no hidden check of the same property -> why
NO_HIDDEN_COUNTERPART = {
    ("rnn-basics", "test_answers_is_a_dict_with_keys_1_to_5"):
        "q8's public tests check the form of the answers only; each hidden check grades one answer, which "
        "no public test reveals",
    ("rnn-basics", "test_answers_are_letters"): "as above",
}


def public_tests(notebook):
    """{question: source of its otter test file} from the notebook's metadata."""
    return dict(notebook.metadata.get("otter", {}).get("tests", {}))


def _test_names(source):
    from otter.test_files import NotebookMetadataExceptionTestFile
    return [tc.body.test_func.__name__ for tc in NotebookMetadataExceptionTestFile.from_string(source, path="t").test_cases]


def _blind_corpus():
    """[(assignment id, name, path)] of the blind corpus, when it is there."""
    if not BLIND_CORPUS.is_dir():
        return []
    found, ids = [], set(assignments.assignment_ids())
    for path in sorted(BLIND_CORPUS.rglob("*")):
        if path.suffix not in (".ipynb", ".zip") or ".ipynb_checkpoints" in path.parts:
            continue
        aid = next((part for part in reversed(path.relative_to(BLIND_CORPUS).parts[:-1]) if part in ids), None)
        if aid is None and path.suffix == ".ipynb":
            try:
                aid = json.loads(path.read_text()).get("metadata", {}).get("otter", {}).get("assignment_name")
            except (ValueError, OSError):
                aid = None
        if aid in ids:
            found.append((aid, f"blind-{path.relative_to(BLIND_CORPUS).as_posix()}", str(path)))
    return found


def corpus():
    """[(assignment id, submission name)] in a stable order; notebooks come from `submission`."""
    cases = []
    for aid in assignments.assignment_ids():
        mistakes = assignments.module(aid, "mistakes")
        cases += [(aid, "reference"), (aid, "blank")]
        cases += [(aid, f"mistake-{m.name}") for m in mistakes.MISTAKES]
        cases += [(aid, f"alternative-{a.name}") for a in getattr(mistakes, "ALTERNATIVES", [])]
    cases += [(aid, name) for aid, name, _ in _blind_corpus()]
    return cases


def submission(aid, name):
    if name == "reference":
        return nbformat.read(solution_path(aid), as_version=4)
    if name == "blank":
        return nbformat.read(student_path(aid), as_version=4)
    if name.startswith("blind-"):
        path = next(p for a, n, p in _blind_corpus() if (a, n) == (aid, name))
        return read_notebook(path, aid)
    kind, _, edit = name.partition("-")
    mistakes = assignments.module(aid, "mistakes")
    edits = {e.name: e for e in (mistakes.MISTAKES if kind == "mistake" else getattr(mistakes, "ALTERNATIVES", []))}
    return apply(nbformat.read(solution_path(aid), as_version=4), edits[edit])


RUNNER = """import json as _json
from otter.test_files import NotebookMetadataExceptionTestFile as _TestFile
_file = _TestFile.from_string({source!r}, path={question!r})
_file.run(globals())
print({mark!r} + _json.dumps([{question!r}, {{t.test_case.body.test_func.__name__: t.passed
                                              for t in _file.test_case_results}}]))
"""


def run_public(aid, notebook, workdir, cell_timeout):
    """{question: {public test name: passed}}: the notebook's cells in a kernel, each question's
    public tests run by otter where the judge checks that question."""
    from nbclient import NotebookClient
    tests = public_tests(nbformat.read(student_path(aid), as_version=4))  # the published tests, not the submission's
    questions = list(assignments.load(aid).questions)
    cells = [nbformat.v4.new_code_cell("import random, numpy, torch\nrandom.seed(0); numpy.random.seed(0); "
                                       "torch.manual_seed(0); torch.set_num_threads(1)")]
    for step in plan(notebook, questions):
        if step.kind == "exec":
            cells.append(nbformat.v4.new_code_cell(step.source))
        elif step.question in tests:
            cells.append(nbformat.v4.new_code_cell(RUNNER.format(source=tests[step.question], question=step.question,
                                                                 mark=MARK)))
    runnable = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                              "display_name": "Python 3"}})
    client = NotebookClient(runnable, timeout=cell_timeout, allow_errors=True, interrupt_on_timeout=True,
                            kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    client.execute()
    found = {}
    for cell in runnable.cells:
        for output in cell.get("outputs", []):
            for line in (output.get("text") or "").splitlines():
                if line.startswith(MARK):
                    question, results = json.loads(line[len(MARK):])
                    found[question] = results
    return found


def run_hidden(aid, notebook, path):
    nbformat.write(notebook, str(path))
    results = Grading(assignments.load(aid)).grade(str(path))
    return {t["name"]: t for t in results["tests"]}


def disagreements(aid, name, public, hidden):
    """Hidden checks that failed while every public test of the same property passed."""
    found = []
    for check in assignments.load(aid).checks:
        entry = hidden.get(f"{check.question}: {check.name}")
        if not check.public or entry is None or entry["score"] >= entry["max_score"]:
            continue
        passed = public.get(check.question, {})
        if all(passed.get(test) is True for test in check.public) and (aid, name, check.name) not in HIDDEN_INPUTS_ONLY:
            found.append(f"{check.question}: public {', '.join(check.public)} passed, hidden '{check.name}' "
                         f"failed: {entry['output'][:300]}")
    return found


# -- every public test has its hidden counterpart (fast: nothing runs) --------------------------------
@pytest.mark.parametrize("aid", assignments.assignment_ids())
def test_every_public_test_is_mapped_to_a_hidden_check_of_its_question(aid):
    assignment = assignments.load(aid)
    tests = public_tests(nbformat.read(student_path(aid), as_version=4))
    mapped = {(c.question, t) for c in assignment.checks for t in c.public}
    problems = []
    for question, source in tests.items():
        for name in _test_names(source):
            if (question, name) not in mapped and (aid, name) not in NO_HIDDEN_COUNTERPART:
                problems.append(f"{question}: public {name} has no hidden check (public=... in checks.py)")
    named = {(q, n) for q, source in tests.items() for n in _test_names(source)}
    problems += [f"{q}: a hidden check names {t}, which is not a public test of {q}" for q, t in mapped - named]
    assert not problems, "\n".join(problems)


def test_blind_corpus_is_picked_up_when_present():
    """The blind corpus joins the corpora as soon as tests/student_answers/ holds notebooks."""
    names = {name for _, name in corpus()}
    assert all(name in names for _, name, _ in _blind_corpus())


# -- the corpora, public against hidden (slow: every notebook runs twice) ----------------------------
@pytest.mark.slow
@pytest.mark.parametrize("aid,name", sampled(  # `make test`: each reference, an eighth of the rest
    [pytest.param(a, n, id=f"{a}:{n}") for a, n in corpus()],
    lambda p: (p.values[0], p.values[1] == "reference"), every=8))
def test_public_checks_that_pass_are_not_contradicted_by_hidden_checks(tmp_path, aid, name):
    try:
        notebook = submission(aid, name)
    except SubmissionError as e:
        pytest.skip(f"not a notebook the judge can read: {e}")
    cell_timeout = max(120, 2 * assignments.load(aid).cell_timeout)
    public = run_public(aid, notebook, tmp_path, cell_timeout)
    tests = public_tests(nbformat.read(student_path(aid), as_version=4))
    assert set(public) == set(tests), f"otter's tests did not run for {sorted(set(tests) - set(public))}"
    if name == "reference" or name.startswith("alternative-"):  # a correct answer passes every public test
        failed = [f"{q}: {t}" for q, results in public.items() for t, ok in results.items() if not ok]
        assert not failed, f"a correct answer fails public tests: {failed}"
    hidden = run_hidden(aid, notebook, tmp_path / f"{aid}.ipynb")
    found = disagreements(aid, name, public, hidden)
    assert not found, "\n".join(found)

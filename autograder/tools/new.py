"""`rnnkit new ID`: scaffold an assignment, one folder and one command.

Writes the master notebook `solutions/<id>/master.ipynb` (one question with a blank, its
solution and a public check) and the hidden package `autograder/assignments/<package>/`
(checks.py with one hidden check, mistakes.py with one common mistake). Then `rnnkit assign
<id>` builds the student notebook and the reference solution, `rnnkit dist <id>` the zip, and
`rnnkit examples` grades the reference, the blank notebook and the mistake. Edit from there.
"""
import os
import re

import nbformat

from ..paths import ASSIGNMENTS_DIR, ROOT, master_path, package_name

ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

CONFIG = """# ASSIGNMENT CONFIG
name: {id}
generate: false
run_tests: false
export_cell:
  pdf: false
  run_tests: false
tests:
  files: false
  ok_format: false"""

QUESTION = """**Question 1 (2 points).** The initial hidden state of `torch.nn.RNN` has shape
`(num_layers, batch, hidden_size)`. Fill in `hidden_shape` so that it returns that shape as a
tuple, for any numbers of layers, batch size and hidden size."""

SOLUTION = '''def hidden_shape(num_layers, batch, hidden_size):
    """The shape of an RNN's initial hidden state, as a tuple."""
    # BEGIN SOLUTION
    return (num_layers, batch, hidden_size)
    # END SOLUTION


hidden_shape(1, 5, 20)'''

PUBLIC_TEST = '''""" # BEGIN TEST CONFIG
failure_message: 'The hidden state is (num_layers, batch, hidden_size): layers first, then the batch, then the hidden size.'
""" # END TEST CONFIG
def test_hidden_shape_example(hidden_shape):
    got = hidden_shape(1, 5, 20)
    assert got == (1, 5, 20), f"hidden_shape(1, 5, 20) returned {got!r}; expected (1, 5, 20)."'''

CHECKS = '''"""Hidden checks of {id}, run by the judge (see autograder/authoring/assignment.py).

Points come from the master notebook (solutions/{id}/master.ipynb); a check's weight splits
its question's points. Hidden inputs reach the worker only as arguments of the calls below.
"""
from ...authoring import Assignment, Fail

assignment = Assignment(id="{id}", title="{id}", cell_timeout=30, budget=120)
check = assignment.check

HIDDEN_CASES = [(1, 3, 7), (2, 4, 9), (3, 1, 16)]  # (num_layers, batch, hidden_size)


# public=: the public tests of the master notebook that check the same property
# (tests/test_public_hidden_agreement.py requires every public test to be named by a hidden check)
@check("q1", "hidden_shape on the example", visible=True, public=("test_hidden_shape_example",))
def q1_example(w):
    if w.call("hidden_shape", 1, 5, 20, hidden_input=False) != (1, 5, 20):
        raise Fail("hidden_shape(1, 5, 20) should be (1, 5, 20): (num_layers, batch, hidden_size).")


@check("q1", "hidden_shape on hidden configurations")
def q1_hidden(w):
    for num_layers, batch, hidden_size in HIDDEN_CASES:
        got = w.call("hidden_shape", num_layers, batch, hidden_size)
        if got != (num_layers, batch, hidden_size):
            raise Fail("hidden_shape is wrong for some configurations: return (num_layers, batch, hidden_size) "
                       "as a tuple, in that order.")
'''

MISTAKES = '''"""Common mistakes of {id}, as edits of the reference solution (autograder/authoring/mistakes.py).

`rnnkit examples` and the tests grade each one: it must lose the questions in `loses`, with a
message containing `message`.
"""
from ...authoring import Mistake

MISTAKES = [
    Mistake("q1-batch-first", "return (num_layers, batch, hidden_size)", "return (batch, num_layers, hidden_size)",
            {{"q1"}}, "(num_layers, batch, hidden_size)"),
]
'''


def master_notebook(assignment_id):
    """The scaffold's master notebook in otter assign format, as an nbformat object."""
    v4 = nbformat.v4
    cells = [
        v4.new_raw_cell(CONFIG.format(id=assignment_id)),
        v4.new_markdown_cell(f"# {assignment_id}\n\nA new assignment scaffolded by `rnnkit new`: "
                             "replace this text, the question and its checks with your own."),
        v4.new_code_cell("import torch"),
        v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 2"),
        v4.new_markdown_cell(QUESTION),
        v4.new_raw_cell("# BEGIN SOLUTION"),
        v4.new_code_cell(SOLUTION),
        v4.new_raw_cell("# END SOLUTION"),
        v4.new_raw_cell("# BEGIN TESTS"),
        v4.new_code_cell(PUBLIC_TEST),
        v4.new_raw_cell("# END TESTS"),
        v4.new_raw_cell("# END QUESTION"),
        v4.new_markdown_cell("## Submit\n\nRun the next cell to export your notebook, then upload the zip."),
    ]
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}
    return notebook


def scaffold(assignment_id, root=ROOT, package_dir=ASSIGNMENTS_DIR):
    """Write the master notebook and the hidden package; returns the paths written."""
    if not ID_PATTERN.fullmatch(assignment_id):
        raise ValueError(f"{assignment_id!r} is not a valid id: lower-case letters, digits and single dashes, "
                         "starting with a letter (it is also a Python package name with _ for -)")
    master = master_path(assignment_id, root)
    package = os.path.join(package_dir, package_name(assignment_id))
    taken = [p for p in (os.path.dirname(master), package) if os.path.exists(p)]
    if taken:
        raise ValueError(f"{assignment_id} already exists: {', '.join(taken)}")
    os.makedirs(os.path.dirname(master))
    nbformat.write(master_notebook(assignment_id), master)
    os.makedirs(package)
    written = [master]
    for name, text in (("__init__.py", f'"""Hidden material of {assignment_id}."""\n'),
                       ("checks.py", CHECKS.format(id=assignment_id)),
                       ("mistakes.py", MISTAKES.format(id=assignment_id))):
        path = os.path.join(package, name)
        with open(path, "w") as f:
            f.write(text)
        written.append(path)
    return written


def add_arguments(parser):
    parser.add_argument("id", help="the new assignment's id, e.g. lstm-basics")


def command(args):
    from ..cli import UsageError
    try:
        written = scaffold(args.id)
    except ValueError as e:
        raise UsageError(str(e)) from None
    for path in written:
        print(f"wrote {os.path.relpath(path, ROOT)}")
    print(f"next: rnnkit assign {args.id} && rnnkit dist {args.id} && rnnkit examples")
    return 0

"""The tree keeps its promises: the worker is a closed set of files, each assignment is one folder."""
import ast
import os
import sys
import time

import pytest

from autograder import assignments
from autograder.judge import isolation
from autograder.paths import PACKAGE_DIR

WORKER_DIR = os.path.join(PACKAGE_DIR, "worker")
# What the worker may import: the standard library, the libraries students use, and its siblings.
THIRD_PARTY = {"torch", "numpy", "IPython", "traitlets"}


def _imports(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." if node.level else node.module.split(".")[0]


def test_the_sandbox_gets_exactly_the_worker_files_and_the_wire_format():
    worker = sorted(n for n in os.listdir(WORKER_DIR) if n.endswith(".py") and n != "__init__.py")
    assert [os.path.basename(p) for p in isolation.worker_files()] == worker + ["wire.py"]
    scratch = isolation.Scratch(None)
    try:
        assert sorted(os.listdir(scratch.kit)) == sorted(worker + ["wire.py"])
    finally:
        scratch.remove(time.monotonic() + 30)


@pytest.mark.parametrize("path", isolation.worker_files(), ids=os.path.basename)
def test_worker_files_import_nothing_from_the_kit(path):
    siblings = {os.path.basename(p)[:-3] for p in isolation.worker_files()}
    allowed = set(sys.stdlib_module_names) | THIRD_PARTY | siblings
    imported = set(_imports(path))
    assert "autograder" not in imported and "." not in imported
    assert imported <= allowed, f"{os.path.basename(path)} imports {sorted(imported - allowed)}"


def test_the_worker_files_hold_no_assignment_content():
    """No hidden check, protocol, reference answer or assignment id beside the student's code."""
    text = "\n".join(open(p).read() for p in isolation.worker_files())
    for aid in assignments.available():
        assert aid not in text and aid.replace("-", "_") not in text, aid
    for path in isolation.worker_files():  # no fixed architecture: a model beside the worker is an answer to alias
        tree = ast.parse(open(path).read())
        built = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        layers = {b for b in built if b.rsplit(".", 1)[-1] in ("RNN", "LSTM", "GRU", "Embedding", "Linear")}
        assert not layers, (os.path.basename(path), layers)


def test_every_assignment_is_one_folder_found_by_walking():
    found = assignments.available()
    folders = sorted(n.replace("_", "-") for n in os.listdir(os.path.join(PACKAGE_DIR, "assignments"))
                     if os.path.isfile(os.path.join(PACKAGE_DIR, "assignments", n, "checks.py")))
    assert found == folders and len(found) >= 4
    for aid in found:
        assert assignments.load(aid).id == aid

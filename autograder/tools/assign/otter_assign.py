"""Run otter-grader's `otter assign` on a master notebook in a scratch directory.

otter names the generated notebooks after the master file, and the student notebook's
`otter.Notebook("<id>.ipynb")` cell refers to that name, so the master is copied as `<id>.ipynb`.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import nbformat


def run_otter_assign(master, assignment_id):
    """(student, solution) notebooks produced by otter assign, as nbformat objects."""
    with tempfile.TemporaryDirectory(prefix="rnnkit-assign-") as tmp:
        source = os.path.join(tmp, f"{assignment_id}.ipynb")
        shutil.copy(master, source)
        done = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs",
                               source, os.path.join(tmp, "out")], capture_output=True, text=True, cwd=tmp)
        if done.returncode != 0:
            raise RuntimeError(f"otter assign failed for {master}:\n{done.stdout}\n{done.stderr}")
        read = lambda part: nbformat.read(os.path.join(tmp, "out", part, f"{assignment_id}.ipynb"), as_version=4)
        return read("student"), read("autograder")

"""Benchmark: grading time of each assignment's reference vs its plain execution.

    rnnkit bench [--runs 5] [--grade-all 40] [ASSIGNMENT ...]

Grading is timed as Gradescope runs it: `python -m autograder grade` in a fresh process
(interpreter start, worker start-up, every cell, every hidden check). Plain execution is the
same notebook run top to bottom by nbclient in a fresh kernel, with no grading. Both use one
thread. Prints medians and their ratio, and writes dist/bench.md.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from .. import assignments
from ..paths import ROOT, solution_path


def time_grading(assignment_id, notebook_path):
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", assignment_id, notebook_path,
                        "-o", os.path.join(tmp, "results.json")], cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - started


def time_plain_execution(assignment_id, notebook_path):
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, f"{assignment_id}.ipynb")
        shutil.copy(notebook_path, target)
        notebook = nbformat.read(target, as_version=4)
        started = time.perf_counter()
        NotebookClient(notebook, timeout=600, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": tmp}}).execute(stderr=subprocess.DEVNULL)  # the kernel's TCP warning
        return time.perf_counter() - started


def add_arguments(parser):
    from ..cli import known_assignment
    parser.add_argument("assignments", nargs="*", type=known_assignment, help="default: every assignment")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(ROOT, "dist", "bench.md"))
    parser.add_argument("--grade-all", type=int, default=40, metavar="N",
                        help="then grade N example submissions one after another and with grade-all (0: skip)")


def command(args):
    status = time_references(args)
    if args.grade_all:
        from .batch import bench_batch
        result = bench_batch(args.grade_all, "rnn-basics")
        print("  target met" if result["ratio"] <= 0.6 else "  target NOT met (see the machine CPU line)")
        status |= 0 if result["same_scores"] else 1  # timing depends on the machine; scores must not
    return status


def time_references(args):
    os.environ.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    rows = []
    for assignment_id in args.assignments or assignments.available():
        path = solution_path(assignment_id)
        grading, plain = [], []
        for run in range(1, args.runs + 1):
            grading.append(time_grading(assignment_id, path))
            plain.append(time_plain_execution(assignment_id, path))
            print(f"  {assignment_id} run {run}/{args.runs}: grading {grading[-1]:.2f} s, plain {plain[-1]:.2f} s", flush=True)
        rows.append((assignment_id, statistics.median(grading), statistics.median(plain)))
    lines = [f"Median of {args.runs} runs, one thread, {os.cpu_count()} cores, torch {__import__('torch').__version__}.", "",
             "| assignment | grading (s) | plain execution (s) | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {aid} | {g:.2f} | {p:.2f} | {g / p:.2f} |" for aid, g, p in rows]
    report = "\n".join(lines)
    print("\n" + report)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    return 0

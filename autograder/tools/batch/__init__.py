"""Regrade a whole class locally, on the engine of `rnnkit grade`.

    rnnkit grade-all ASSIGNMENT DIR -o OUTDIR [-j JOBS] [--shard K/N|auto] [--merge SHARD_OUT ...]
                                 [--canvas-column "Title (id)"]
    rnnkit bench --grade-all 40         (bench_batch: one after another vs grade-all)

DIR holds .ipynb files, export zips, submission folders and/or Gradescope's "Export Submissions"
layout (discover.py). Every submission is graded in its own process, JOBS at a time (run.py);
each result is written as it finishes to OUTDIR/results/<id>.json, with <id>.meta.json beside it,
and an interrupted run resumes where it stopped. Then OUTDIR gets grades.csv and grades-canvas.csv
(gradebook.py), similar_pairs.csv (similarity.py) and report.md with its plots (report.py).

Scaling out: grading is embarrassingly parallel. `--shard K/N` grades only the submissions whose
index in id order is K-1 modulo N, so N machines given the same folder split it without talking
to each other; each shard's grades.csv holds only its rows, and `--merge` (or concatenating the
CSVs) puts them together. `--shard auto` reads K and N from a Slurm job array or a Kubernetes
Indexed Job (discover.shard_from_environment).
"""
import json
import os
import shutil
import sys
import tempfile
import time


def _merge_results(shard_dirs, out_dir, ids):
    """Copy shards' results/<id>.json and .meta.json into out_dir/results (run then skips them)."""
    target = os.path.join(out_dir, "results")
    os.makedirs(target, exist_ok=True)
    copied = 0
    for shard in shard_dirs:
        for sub_id in ids:
            pair = [os.path.join(shard, "results", f"{sub_id}{ext}") for ext in (".json", ".meta.json")]
            if all(os.path.isfile(p) for p in pair) and os.path.abspath(shard) != os.path.abspath(out_dir):
                shutil.copy2(pair[0], target)  # results first, meta last: a meta always has its results
                shutil.copy2(pair[1], target)
                copied += 1
    return copied


def _notebooks(rows, assignment_id):
    from ...judge.submission import SubmissionError, read_notebook
    for row in rows:
        try:
            yield row["id"], read_notebook(row["path"], assignment_id)
        except SubmissionError:
            continue


def grade_folder(assignment_id, directory, out_dir, jobs=None, shard=None, cell_timeout=None, budget=None,
                 hard_limit=None, retry_errors=False, merge=(), similarity=True, stream=None, canvas_column=None):
    """Grade every submission of `directory` into `out_dir`; write the CSVs and the report; return stats."""
    from ... import assignments
    from ...paths import solution_path, student_path
    from . import gradebook, report, run
    from . import similarity as sim
    from .discover import discover, select_shard
    from ...judge.submission import read_notebook
    assignment = assignments.load(assignment_id)
    os.makedirs(out_dir, exist_ok=True)
    submissions = select_shard(discover(directory, exclude=[out_dir]), shard)
    merged = _merge_results(merge, out_dir, [s.id for s in submissions]) if merge else 0
    stats = run.grade_all(assignment_id, submissions, out_dir, jobs=jobs, cell_timeout=cell_timeout, budget=budget,
                          hard_limit=hard_limit, retry_errors=retry_errors, stream=stream)
    rows = stats["rows"]
    gradebook.write_grades(rows, assignment.questions, os.path.join(out_dir, "grades.csv"))
    gradebook.write_canvas(rows, canvas_column or assignment.title, os.path.join(out_dir, "grades-canvas.csv"))
    pairs = []
    if similarity:
        blank = read_notebook(student_path(assignment_id), assignment_id)
        reference = read_notebook(solution_path(assignment_id), assignment_id)
        pairs = sim.find_pairs(_notebooks(rows, assignment_id), blank, reference)
    sim.write_csv(pairs, os.path.join(out_dir, "similar_pairs.csv"))
    note = f"Shard {shard[0]}/{shard[1]} of the folder `{directory}`." if shard else f"Folder `{directory}`."
    report.write_report(rows, assignment, out_dir, pairs, note=note, canvas_column=canvas_column)
    stats.update(pairs=pairs, merged=merged, out_dir=out_dir)
    return stats


def add_arguments(parser):
    """The grade-all options, for autograder/cli.py's subparser."""
    from ...cli import known_assignment
    parser.add_argument("assignment", type=known_assignment)
    parser.add_argument("directory", help="a folder of .ipynb / .zip files, submission folders, or a Gradescope export")
    parser.add_argument("-o", "--output", default="graded", help="output folder (default: graded)")
    parser.add_argument("-j", "--jobs", type=int, help="parallel gradings (default: the machine's cores)")
    parser.add_argument("--shard", help="K/N: grade only submissions whose sorted index %% N == K-1; auto: K and N "
                        "from a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN) "
                        "or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with RNNKIT_SHARD_COUNT set to the "
                        "Job's completions)")
    parser.add_argument("--merge", nargs="+", default=[], metavar="SHARD_OUT",
                        help="take the results of these shard output folders, grade what they miss, write one report")
    parser.add_argument("--cell-timeout", type=float, help="seconds per cell (default: the assignment's)")
    parser.add_argument("--budget", type=float, help="seconds per submission (default: the assignment's)")
    parser.add_argument("--hard-limit", type=float, help="wall-clock seconds before a grading is killed "
                        "(default: 1.25 x budget + 30)")
    parser.add_argument("--retry-errors", action="store_true", help="regrade submissions that timed out or crashed")
    parser.add_argument("--no-similarity", action="store_true", help="skip the suspicious-pairs search")
    parser.add_argument("--canvas-column", metavar="'TITLE (ID)'",
                        help="name grades-canvas.csv's score column after the Canvas assignment, exactly as Canvas's "
                        "gradebook export shows it, e.g. \"RNN basics (123456)\"; without it the column must be "
                        "matched by hand on import")


def command(args):
    from ... import assignments
    from .discover import parse_shard
    from ...cli import UsageError
    from .gradebook import check_canvas_column
    try:
        shard = parse_shard(args.shard) if args.shard else None
        if args.canvas_column is not None:
            check_canvas_column(args.canvas_column)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not os.path.isdir(args.directory):
        raise UsageError(f"{args.directory} is not a folder")
    try:
        stats = grade_folder(args.assignment, args.directory, args.output, jobs=args.jobs, shard=shard,
                             cell_timeout=args.cell_timeout, budget=args.budget, hard_limit=args.hard_limit,
                             retry_errors=args.retry_errors, merge=args.merge, similarity=not args.no_similarity,
                             canvas_column=args.canvas_column)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished results are kept in {args.output}/results; run the same command "
              "again to resume.", file=sys.stderr)
        return 130
    print(f"{stats['total']} submissions: {stats['graded']} graded now, {stats['skipped']} unchanged, "
          f"{stats['errors']} could not be graded ({stats['timeouts']} timeouts, {stats['crashes']} crashes), "
          f"{len(stats['pairs'])} suspicious pairs; {stats['wall_seconds']:.0f} s.")
    if shard:
        print(f"  shard {shard[0]}/{shard[1]} of the folder")
    if stats.get("kit_errors"):
        print(f"  {stats['kit_errors']} checks could not be run by the kit itself (kit errors, see report.md): "
              "regrade those submissions once the kit is fixed.")
    for name in ("grades.csv", "grades-canvas.csv", "report.md", "similar_pairs.csv"):
        print(f"  {os.path.join(args.output, name)}")
    from .gradebook import unidentified
    missing = unidentified(stats["rows"])
    if missing:
        print(f"  {len(missing)} submission(s) name no student: their SID is left empty; see report.md")
    if not args.canvas_column:
        print("  grades-canvas.csv: the Canvas column must be matched by hand on import (or use --canvas-column)")
    return 0


# -- benchmark ---------------------------------------------------------------------------------
def _sequential(assignment_id, paths, conn):
    from ... import assignments
    from ...judge.engine import Grading
    assignment = assignments.load(assignment_id)
    started = time.monotonic()
    scores = [Grading(assignment).grade(p)["score"] for p in paths]
    conn.send((time.monotonic() - started, scores))


def _cpu_ticks():
    """(busy, total) jiffies of the whole machine, from /proc/stat; (0, 0) where there is none."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return sum(values) - values[3] - values[4], sum(values)


def _time_sequential(assignment_id, paths):
    import multiprocessing
    context = multiprocessing.get_context("fork")  # a child, so that torch stays unused in this process
    receive, send = context.Pipe(duplex=False)
    proc = context.Process(target=_sequential, args=(assignment_id, paths, send))
    proc.start()
    seconds, scores = receive.recv()
    proc.join()
    return seconds, scores


def _time_cli(assignment_id, paths):
    import subprocess
    from ...paths import ROOT
    started, scores = time.monotonic(), []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "results.json")
        for path in paths:
            subprocess.run([sys.executable, "-m", "autograder", "grade", assignment_id, path, "-o", out],
                           cwd=ROOT, check=True, capture_output=True)
            with open(out) as f:
                scores.append(json.load(f)["score"])
    return time.monotonic() - started, scores


def bench_batch(n=40, assignment_id="rnn-basics", jobs=None, rounds=4, baseline="engine", stream=None):
    """Grade n example submissions one after another and with grade-all (default jobs); print and
    return submissions per minute of both and their ratio.

    One after another is, with baseline="engine", the engine in a loop in one process (the
    strictest baseline); with baseline="cli", `python -m autograder grade` once per submission, as
    a shell loop would. The n submissions are split into `rounds` slices, each timed both ways in
    alternating order, so that other work on the machine weighs on both measurements alike."""
    import io
    import nbformat
    from ..examples import example_submissions
    from .discover import discover
    from .run import default_jobs, grade_all
    from ... import assignments
    assignments.load(assignment_id)  # imports torch here, untimed, for both ways alike (no torch op runs here)
    examples = example_submissions(assignment_id)
    jobs = jobs or default_jobs()
    sequential = parallel = 0.0
    seq_scores, par_scores = [], []
    busy = {"seq": [0, 0], "par": [0, 0]}  # machine-wide busy and total CPU ticks during each way
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = os.path.join(tmp, "submissions")
        os.makedirs(folder)
        for i in range(n):
            name, notebook, _ = examples[i % len(examples)]
            nbformat.write(notebook, os.path.join(folder, f"s{i:03d}-{name}.ipynb"))
        submissions = discover(folder)
        for r in range(rounds):
            part = submissions[r::rounds]
            steps = ["seq", "par"] if r % 2 == 0 else ["par", "seq"]
            for step in steps:
                before = _cpu_ticks()
                if step == "seq":
                    timer = _time_cli if baseline == "cli" else _time_sequential
                    seconds, scores = timer(assignment_id, [s.path for s in part])
                    sequential += seconds
                    seq_scores += scores
                else:
                    started = time.monotonic()
                    stats = grade_all(assignment_id, part, os.path.join(tmp, f"out{r}"), jobs=jobs,
                                      stream=stream or io.StringIO())
                    seconds = time.monotonic() - started
                    parallel += seconds
                    par_scores += [row["score"] for row in stats["rows"]]
                after = _cpu_ticks()
                busy[step][0] += after[0] - before[0]
                busy[step][1] += after[1] - before[1]
                how = f"one after another ({baseline})" if step == "seq" else f"grade-all -j {jobs}"
                print(f"  round {r + 1}/{rounds}, {len(part)} submissions, {how}: {seconds:.1f} s", flush=True)
    result = {"n": n, "jobs": jobs, "cores": os.cpu_count(), "baseline": baseline, "sequential_s": round(sequential, 1),
              "parallel_s": round(parallel, 1), "sequential_per_min": round(60 * n / sequential, 1),
              "parallel_per_min": round(60 * n / parallel, 1), "ratio": round(parallel / sequential, 3),
              "same_scores": sorted(seq_scores) == sorted(par_scores),
              "machine_busy": {k: round(b / t, 2) if t else None for k, (b, t) in busy.items()}}
    print(f"grade-all bench, {n} {assignment_id} submissions, {os.cpu_count()} cores:\n"
          f"  one after another ({baseline}): {result['sequential_s']} s "
          f"({result['sequential_per_min']} submissions/min)\n"
          f"  grade-all -j {jobs}:     {result['parallel_s']} s ({result['parallel_per_min']} submissions/min)\n"
          f"  parallel / sequential time: {result['ratio']:.2f} (target <= 0.60); "
          f"same scores: {result['same_scores']}\n"
          f"  machine CPU busy (all processes) one after another: {result['machine_busy']['seq']}, grade-all: "
          f"{result['machine_busy']['par']}; alone, about {1 / os.cpu_count():.2f} and "
          f"{min(jobs / os.cpu_count(), 1):.2f}: more means other work skewed the timing")
    return result

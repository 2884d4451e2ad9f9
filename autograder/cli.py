"""The kit's command line: a thin layer over the library functions.

    python -m autograder grade ASSIGNMENT SUBMISSION -o results.json
    python -m autograder grade-all ASSIGNMENT DIR -o OUTDIR   a folder: gradebook, report, plots
    python -m autograder assign [ASSIGNMENT ...]       build student notebooks and solutions
    python -m autograder dist [ASSIGNMENT ...]         build the Gradescope autograder zips
    python -m autograder examples                      grade the bundled example submissions
"""
import argparse
import os
import sys


def grade_command(args):
    """Grade one submission; results.json is written whatever happens, then exit 0."""
    from . import assignments, results
    from .engine import grade_or_report, limit_judge_memory, process_started
    try:
        assignment = assignments.load(args.assignment)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    limit_judge_memory()  # run_autograder grades through this command too
    outcome = grade_or_report(assignment, args.submission, cell_timeout=args.cell_timeout, budget=args.budget,
                              started=process_started())
    results.write(outcome, args.output)
    try:
        print(results.summary_table(outcome))
    except (OSError, ValueError):  # a closed or odd terminal: results.json is what counts
        pass
    return 0


def assign_command(args):
    from .assign import build_all
    build_all(args.assignments or None)
    return 0


def dist_command(args):
    from .dist import build_all
    build_all(args.assignments or None, args.out)
    return 0


def examples_command(args):
    from .examples import grade_examples
    return grade_examples(args.out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade one submission (.ipynb or export zip)")
    grade.add_argument("assignment")
    grade.add_argument("submission")
    grade.add_argument("-o", "--output", default="results.json")
    grade.add_argument("--cell-timeout", type=float, help="seconds per cell (default: the assignment's)")
    grade.add_argument("--budget", type=float, help="seconds for the whole submission (default: the assignment's)")
    grade.set_defaults(run=grade_command)
    from . import batch
    grade_all = sub.add_parser("grade-all", help="grade a folder of submissions into a gradebook and report")
    batch.add_arguments(grade_all)
    grade_all.set_defaults(run=batch.grade_all_command)
    assign = sub.add_parser("assign", help="build student notebooks and reference solutions")
    assign.add_argument("assignments", nargs="*")
    assign.set_defaults(run=assign_command)
    dist = sub.add_parser("dist", help="build Gradescope autograder zips")
    dist.add_argument("assignments", nargs="*")
    dist.add_argument("--out", default="dist")
    dist.set_defaults(run=dist_command)
    examples = sub.add_parser("examples", help="grade the bundled example submissions, print a table")
    examples.add_argument("--out", default=os.path.join("dist", "examples"))
    examples.set_defaults(run=examples_command)
    args = parser.parse_args(argv)
    return args.run(args)

"""`rnnkit grade`: grade one submission; results.json is written whatever the submission did."""
import sys


def add_arguments(parser):
    from ..cli import known_assignment
    parser.add_argument("assignment", type=known_assignment)
    parser.add_argument("submission", help="a .ipynb, the notebook's export zip, or a folder holding one")
    parser.add_argument("-o", "--output", default="results.json")
    parser.add_argument("--cell-timeout", type=float, help="seconds per cell (default: the assignment's)")
    parser.add_argument("--budget", type=float, help="seconds for the whole submission (default: the assignment's)")


def command(args):
    """Exit 0 whenever results.json was written, whatever the submission did."""
    from .. import assignments
    from . import results
    from .engine import grade_or_report, limit_judge_memory, process_started
    assignment = assignments.load(args.assignment)
    limit_judge_memory()  # run_autograder grades through this command too
    outcome = grade_or_report(assignment, args.submission, cell_timeout=args.cell_timeout, budget=args.budget,
                              started=process_started())
    results.write(outcome, args.output)
    try:
        print(results.summary_table(outcome))
    except (OSError, ValueError):  # a closed or odd terminal: results.json is what counts
        pass
    return 0

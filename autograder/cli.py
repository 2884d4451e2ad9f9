"""rnnkit: the kit's one command line, a thin layer over the library functions.

    rnnkit grade ASSIGNMENT SUBMISSION [-o results.json]   grade one submission (Gradescope does this)
    rnnkit grade-all ASSIGNMENT DIR [-o OUTDIR]            a folder: gradebook, report, plots
    rnnkit assign [ASSIGNMENT ...]                          build student notebooks and solutions
    rnnkit dist [ASSIGNMENT ...]                            build the Gradescope autograder zips
    rnnkit examples                                         grade the bundled example submissions
    rnnkit calibrate [-o dist/calibration]                  train references, baselines, mistakes
    rnnkit bench                                            grading time vs plain execution
    rnnkit hostile [-o dist/hostile.md]                     grade the adversarial corpus
    rnnkit new ID                                           scaffold a new assignment
    rnnkit memory                                           peak memory of grading each reference

`python -m autograder` is the same command. Every usage error prints one `rnnkit ...: error:`
line and exits 2. Each subcommand's module is imported only when it runs, so the Gradescope zip,
which ships the judge but not the tools, still runs `grade`.
"""
import argparse
import importlib
import sys

# command -> (module defining add_arguments(parser) and command(args), one-line help)
COMMANDS = {
    "grade": ("autograder.judge.command", "grade one submission (.ipynb, export zip or folder) into results.json"),
    "grade-all": ("autograder.tools.batch", "grade a folder of submissions into a gradebook and report"),
    "assign": ("autograder.tools.assign", "build student notebooks and reference solutions from the masters"),
    "dist": ("autograder.tools.dist", "build the Gradescope autograder zips"),
    "examples": ("autograder.tools.examples", "grade the bundled example submissions, print a table"),
    "calibrate": ("autograder.tools.calibrate", "train references, baselines and mistakes on every calibration seed"),
    "bench": ("autograder.tools.bench", "time grading against plain execution; grade-all against one after another"),
    "hostile": ("autograder.tools.hostile.command", "grade every hostile corpus entry on its own, print the table"),
    "new": ("autograder.tools.new", "scaffold a new assignment: master notebook, hidden checks, a mistake"),
    "memory": ("autograder.tools.memory", "peak memory (PSS) of grading each reference, judge and worker together"),
}
PROG = "rnnkit"


def known_assignment(value):
    """argparse type: an assignment id with hidden checks, or a usage error naming the known ones."""
    from . import assignments
    if value not in assignments.available():
        raise argparse.ArgumentTypeError(
            f"unknown assignment {value!r}; known: {', '.join(assignments.available()) or 'none'}")
    return value


class UsageError(Exception):
    """A tool found its arguments unusable: printed as `rnnkit CMD: error: ...`, exit 2."""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    top = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                  formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog="\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()))
    top.add_argument("command", choices=list(COMMANDS), metavar="COMMAND", help="one of the commands below")
    if not argv or argv[0] in ("-h", "--help"):
        top.print_help()
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        top.parse_args(argv[:1])  # prints the usage and `error: argument COMMAND: invalid choice`, exits 2
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"{PROG} {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return module.command(args)
    except UsageError as e:
        parser.error(str(e))

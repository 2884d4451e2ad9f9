"""The student-answers corpus: submissions written blind, from the student notebooks and the
course notes only (never the checks or the reference), kept as data.

`<assignment>/base.json` is the author's own complete answer; every other file is a variant of it:
its cells replace the same cells (found by a substring of the student notebook's blank cell). A
later round by another author sits in a subfolder with its own base.json (`<assignment>/round2/`).
An entry whose expectation the kit's authors changed says why in `revised`.
`kind` is course (the course's own code pasted in), correct (an alternative correct answer),
wrong (a plausible mistake) or limit (a wrong answer the checks are known not to catch, graded to
document it); `expect` names the questions a variant must keep ("full"), lose ("loses") or may
either keep or lose ("either": its training reaches the threshold on some grading keys and not on
others, and another question already catches it); every other question comes from base and must keep its points. `public` records what
the notebook's own grader.check said when the author ran it.

    python tests/student_answers/corpus.py [--kit DIR] [ASSIGNMENT ...]

grades every entry with DIR's `python -m autograder grade` (default: this checkout) and prints
the counts of false negatives (a correct answer losing points) and false positives (a wrong
answer keeping its question): how the kit before and after a change compare.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def entries(assignment=None):
    """[(assignment id, entry dict)] of every variant (base itself included, as a correct answer)."""
    found = []
    pattern = os.path.join(HERE, assignment or "*", "**", "*.json")
    for path in sorted(glob.glob(pattern, recursive=True)):
        with open(path, encoding="utf-8") as f:
            entry = json.load(f)
        entry["file"] = os.path.relpath(path, HERE)
        found.append((entry["assignment"], entry))
    return found


def base_of(assignment, entry=None):
    """The base answer the entry varies: base.json in the entry's own folder."""
    folder = os.path.dirname(os.path.join(HERE, entry["file"])) if entry else os.path.join(HERE, assignment)
    with open(os.path.join(folder, "base.json"), encoding="utf-8") as f:
        return json.load(f)


def build(assignment, entry, root=ROOT):
    """The submission notebook: the student notebook with base's cells, then the entry's."""
    notebook = nbformat.read(os.path.join(root, "assignments", assignment, f"{assignment}.ipynb"), as_version=4)
    replacements = {c["find"]: c["source"] for c in base_of(assignment, entry)["cells"]}
    replacements.update({c["find"]: c["source"] for c in entry.get("cells", [])})
    for find, source in replacements.items():
        cells = [c for c in notebook.cells if c.cell_type == "code" and find in c.source]
        if len(cells) != 1:
            raise ValueError(f"{entry['file']}: {find!r} is in {len(cells)} code cells of the student notebook")
        cells[0].source = source
    return notebook


def expected(entry, questions):
    """{question: "full" | "loses" | "either"} for every question of the assignment."""
    return {q: entry.get("expect", {}).get(q, "full") for q in questions}


def grade(assignment, entry, kit=ROOT, timeout=900):
    """results.json of the entry graded by `kit`'s command line, in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="answers-") as tmp:
        path = os.path.join(tmp, f"{assignment}.ipynb")
        nbformat.write(build(assignment, entry), path)
        out = os.path.join(tmp, "results.json")
        env = dict(os.environ, PYTHONPATH=kit, OMP_NUM_THREADS="1")
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, path, "-o", out],
                              cwd=kit, env=env, capture_output=True, text=True, timeout=timeout)
        if not os.path.exists(out):
            raise RuntimeError(f"{entry['file']}: no results.json\n{done.stderr[-3000:]}")
        with open(out, encoding="utf-8") as f:
            return json.load(f)


def per_question(results):
    table = {}
    for t in results["tests"]:
        row = table.setdefault(t["name"].split(":", 1)[0], [0.0, 0.0])
        row[0] += t["score"]
        row[1] += t["max_score"]
    return table


def verdicts(entry, results):
    """[(question, expected, got score, max)] of the questions graded against the expectation."""
    table = per_question(results)
    wrong = []
    for q, want in expected(entry, table).items():
        if want == "either":
            continue
        score, max_score = table[q]
        full = score >= max_score - 1e-9
        if (want == "full") != full:
            wrong.append((q, want, score, max_score))
    return wrong


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--kit", default=ROOT, help="the checkout whose grader grades the corpus")
    args = parser.parse_args(argv)
    counts = {"correct": [0, 0], "wrong": [0, 0]}  # [graded, misgraded]
    for assignment in args.assignments or sorted({a for a, _ in entries()}):
        for _, entry in entries(assignment):
            if entry["kind"] == "limit":  # a wrong answer the checks are known not to catch (see `revised`)
                continue
            kind = "wrong" if entry["kind"] == "wrong" else "correct"
            bad = verdicts(entry, grade(assignment, entry, args.kit))
            counts[kind][0] += 1
            counts[kind][1] += bool(bad)
            print(f"{assignment:16} {entry['file']:48} {kind:8} {'MISGRADED ' + str(bad) if bad else 'ok'}", flush=True)
    print(f"correct answers: {counts['correct'][0]}, false negatives (lost points): {counts['correct'][1]}")
    print(f"wrong answers: {counts['wrong'][0]}, false positives (kept a question they should lose): {counts['wrong'][1]}")


if __name__ == "__main__":
    main()

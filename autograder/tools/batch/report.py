"""report.md with its plots: how the class did.

Sections: summary; score histogram (score_histogram.png); per-question full-marks rate and mean
points (pass_rates.png); the most frequent failure messages per question, with numbers replaced
by N so that the same mistake groups; submissions that could not be graded; the slowest
gradings; suspicious pairs (for human review). Results files are read one at a time.
"""
import json
import os
import re
import statistics
from collections import Counter, defaultdict

from ...judge.outcome import CheckOutcome, check_outcome

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def normalise_message(message):
    """The first line of a failure message, numbers replaced by N, at most 200 characters."""
    line = next((ln.strip() for ln in message.splitlines() if ln.strip()), "")
    return _NUMBER.sub("N", line)[:200]


def _failures(rows, questions, top):
    """{question: [(normalised message, count)]}, most frequent first; a check the kit could not run
    or that failed by the kit's own error is counted under its outcome, not its message."""
    counts = defaultdict(Counter)
    for row in rows:
        try:
            with open(row["results_path"], encoding="utf-8") as f:
                tests = json.load(f)["tests"]
        except (OSError, ValueError, KeyError):
            continue
        seen = set()  # one count per submission and message
        for t in tests:
            qid = t["name"].split(":", 1)[0]
            if t["score"] < t["max_score"]:
                outcome = check_outcome(t)
                key = (qid, f"[{outcome.value}: not a verdict on the student's code]"
                       if outcome in (CheckOutcome.NOT_RUN, CheckOutcome.KIT_ERROR) else normalise_message(t["output"]))
                if key not in seen:
                    seen.add(key)
                    counts[qid][key[1]] += 1
    return {q: counts[q].most_common(top) for q in questions if counts[q]}


def _plots(rows, questions, total, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    scores = [r["score"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=[x - 0.5 for x in range(int(total) + 2)], color="#4c72b0", edgecolor="white")
    ax.set(xlabel=f"total score (of {total:g})", ylabel="submissions", title="Score distribution")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "score_histogram.png"), dpi=100)
    plt.close(fig)
    graded = [r for r in rows if r["status"] == "graded"]
    full = [100 * sum(r["questions"].get(q, 0) >= p - 1e-9 for r in graded) / max(len(graded), 1)
            for q, p in questions.items()]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(list(questions), full, color="#55a868")
    ax.set(ylim=(0, 100), ylabel="% with full marks", title="Per-question pass rate")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "pass_rates.png"), dpi=100)
    plt.close(fig)
    return full


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _import_section(rows, assignment, canvas_column):
    """How the two gradebooks import, and the rows that need a match by hand."""
    from .gradebook import unidentified
    lines = ["## Importing the gradebooks", "",
             "- `grades.csv` (Gradescope and spreadsheets): students are matched on SID or Email; Total Score is "
             "the score."]
    if canvas_column:
        lines += [f"- `grades-canvas.csv` (Canvas): the score column is `{_cell(canvas_column)}`, the header of "
                  "the assignment's column in Canvas's gradebook export, so Canvas's import matches it to that "
                  "assignment. Students are matched on SIS User ID (the SID) or SIS Login ID (the email)."]
    else:
        lines += ["- `grades-canvas.csv` (Canvas): **the Canvas column must be matched by hand on import.** Its "
                  f"score column is named `{_cell(assignment.title)}`, which is no assignment of your Canvas "
                  "course: Canvas's import would offer it as a new assignment. Either pick the existing "
                  "assignment for it in the import's preview, or run grade-all again with "
                  "`--canvas-column \"Title (id)\"`, the assignment's column header exactly as Canvas's "
                  "gradebook export (Grades, Export) shows it, e.g. `--canvas-column \"RNN basics (123456)\"`."]
    missing = unidentified(rows)
    lines += ["", "### Submissions without a student identity (need a match)", ""]
    if missing:
        lines += [f"{len(missing)} submission(s) name no student (no SID and no email: a loose file, or a folder "
                  "without Gradescope's `submission_metadata.yml`). `grades.csv` leaves their SID, Name and Email "
                  "empty and never writes the file name as a student id; `grades-canvas.csv` leaves them out. "
                  "Match each one to its student by hand before importing.", "",
                  "| submission | file | score | status |", "|---|---|---:|---|"]
        for r in missing:
            lines.append(f"| {_cell(r['id'])} | {_cell(os.path.basename(r['path'].rstrip(os.sep)))} | {r['score']:g} | "
                         f"{r['status']} |")
    else:
        lines.append("None: every row names its student.")
    return lines + [""]


def write_report(rows, assignment, out_dir, pairs=(), top=5, slowest=10, note="", canvas_column=None):
    """Write out_dir/report.md and its PNGs; return the report's path."""
    questions = assignment.questions
    total = sum(questions.values())
    full = _plots(rows, questions, total, out_dir)
    graded = [r for r in rows if r["status"] == "graded"]
    errors = [r for r in rows if r["status"] == "error"]
    scores = [r["score"] for r in rows]
    lines = [f"# {assignment.title}: class report", ""]
    if note:
        lines += [note, ""]
    kit = [r for r in rows if r.get("kit_errors")]
    lines += [f"- submissions: {len(rows)} ({len(graded)} graded, {len(errors)} could not be graded)",
              f"- total points: {total:g}"]
    if kit:
        lines += [f"- **kit errors: {sum(len(r['kit_errors']) for r in kit)} checks in {len(kit)} submissions** could "
                  "not be run by the grader itself (the students were told; see the grading log): regrade them once "
                  "the kit is fixed"]
    if scores:
        lines += [f"- mean {statistics.mean(scores):.2f}, median {statistics.median(scores):g}, "
                  f"min {min(scores):g}, max {max(scores):g}; full marks: {sum(s >= total - 1e-9 for s in scores)}"]
    lines += [""] + _import_section(rows, assignment, canvas_column)
    lines += ["## Scores", "", "![score histogram](score_histogram.png)", "",
              "## Per question", "",
              f"Over the {len(graded)} graded submissions (not those that could not be graded).", "",
              "![pass rates](pass_rates.png)", "",
              "| question | points | full marks | mean points |", "|---|---:|---:|---:|"]
    for (q, p), rate in zip(questions.items(), full):
        mean = statistics.mean([r["questions"].get(q, 0) for r in graded]) if graded else 0
        lines.append(f"| {q} | {p:g} | {rate:.0f}% | {mean:.2f} |")
    lines += ["", "## Most frequent failure messages", "",
              "Numbers are replaced by N so that the same mistake groups; each graded submission counts once per "
              "message.", ""]
    failures = _failures(graded, questions, top)
    for q, common in failures.items():
        lines += [f"**{q}**", "", "| submissions | message |", "|---:|---|"]
        lines += [f"| {n} | {_cell(message)} |" for message, n in common]
        lines.append("")
    if not failures:
        lines += ["No failures.", ""]
    if kit:
        lines += ["## Checks the kit could not run", "", "| submission | checks |", "|---|---|"]
        lines += [f"| {r['id']} | {_cell('; '.join(r['kit_errors']))} |" for r in kit]
        lines.append("")
    lines += ["## Could not be graded", ""]
    if errors:
        lines += ["| submission | kind | message |", "|---|---|---|"]
        for r in errors:
            try:
                with open(r["results_path"], encoding="utf-8") as f:
                    message = json.load(f)["output"]
            except (OSError, ValueError, KeyError):
                message = ""
            lines.append(f"| {r['id']} | {r.get('error_kind') or 'submission'} | {_cell(message[:200])} |")
    else:
        lines.append("Every submission was graded.")
    lines += ["", "## Slowest gradings", "", "| submission | seconds | score | status |", "|---|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: -r["seconds"])[:slowest]:
        lines.append(f"| {r['id']} | {r['seconds']:.1f} | {r['score']:g} | {r['status']} |")
    lines += ["", "## Suspicious pairs (for human review)", "",
              "Answer cells near-identical after renaming identifiers and dropping comments and layout "
              "(similar_pairs.csv). This is a prompt to look, never a penalty by itself: short exercises "
              "leave little room for variety.", ""]
    if pairs:
        lines += ["| a | b | similarity | distinctive overlap | identical answer cells unlike the reference "
                  "(a's numbering) |",
                  "|---|---|---:|---:|---|"]
        lines += [f"| {p.a} | {p.b} | {p.ratio:.2f} | {p.jaccard:.2f} | {p.cells} |" for p in pairs]
    else:
        lines.append("None found.")
    path = os.path.join(out_dir, "report.md")
    with open(path, "w", encoding="utf-8", errors="replace") as f:
        f.write("\n".join(lines) + "\n")
    return path

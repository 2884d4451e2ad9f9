"""grades.csv (one row per student) and grades-canvas.csv (Canvas's gradebook-import layout).

grades.csv: SID, Name, Email (from submission_metadata.yml), one column per question (points),
Total Score, Status (graded / error), Grading Seconds, Submission (the id naming
results/<id>.json). A group submission gives one row per submitter, with the same points. A
submission without a student identity (a loose file, or a folder without Gradescope's metadata)
gets a row with SID, Name and Email empty: its file name is never written as if it were a student
id. report.md lists such rows as needing a match by hand.

grades-canvas.csv: Student, ID, SIS User ID, SIS Login ID, Section, then one column holding the
total. That column is named `canvas_column` when given: the assignment's header in Canvas's own
gradebook export, `Title (id)`, which Canvas matches to that assignment on import. Without it,
the column is named after the kit's assignment title, which Canvas does not know: the import must
be matched by hand (report.md says so). ID (Canvas's internal id) is left empty: Canvas matches on
SIS User ID (the Gradescope SID) or SIS Login ID (the email). Submissions without a student
identity are left out (Canvas could not match them). A submission that could not be graded for
the kit's reasons (timeout, crash) has an empty score there, so no spurious 0 is imported.
"""
import csv
import re

KIT_ERRORS = ("timeout", "crash", "kit")
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_COLUMN = re.compile(r"^\S.* \((\d+)\)$")  # "RNN basics (123456)": title, Canvas's assignment id


def check_canvas_column(name):
    """`name` if it has the form of a Canvas gradebook export's assignment header, else ValueError."""
    if not CANVAS_COLUMN.match(name or ""):
        raise ValueError(f"--canvas-column must be the assignment's column header exactly as Canvas's gradebook "
                         f"export shows it, `Title (id)`, e.g. \"RNN basics (123456)\"; not {name!r}")
    return name


def identified(person):
    """Whether a submitter can be matched to a student: by SID or by email."""
    return bool(person.get("sid") or person.get("email"))


def _people(row):
    return row["submitters"] or [{"sid": "", "name": "", "email": ""}]


def unidentified(rows):
    """The rows (sorted by id) with a submitter who has neither SID nor email: a match by hand."""
    return [r for r in sorted(rows, key=lambda r: r["id"]) if not all(identified(p) for p in _people(r))]


def fields(questions):
    return ["SID", "Name", "Email", *questions, "Total Score", "Status", "Grading Seconds", "Submission"]


def cell(text):
    """A CSV cell a spreadsheet shows as text: a name, SID or email starting with =, +, -, @ (or a
    tab or carriage return) would be run as a formula when the instructor opens the file."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_grades(rows, questions, path):
    """grades.csv; `questions` is the assignment's {qid: points} (column order)."""
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow(fields(questions))
        for row in sorted(rows, key=lambda r: r["id"]):
            points = [f"{row['questions'].get(q, 0):g}" for q in questions]
            for person in _people(row):
                writer.writerow([cell(person.get("sid", "")), cell(person.get("name", "")), cell(person.get("email", "")),
                                 *points, f"{row['score']:g}", row["status"], f"{row['seconds']:.1f}", cell(row["id"])])


def write_canvas(rows, column, path):
    """grades-canvas.csv, its score column named `column`; rows without an identity left out."""
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow([*CANVAS_IDENTITY, column])
        for row in sorted(rows, key=lambda r: r["id"]):
            score = "" if row.get("error_kind") in KIT_ERRORS else f"{row['score']:g}"
            for person in _people(row):
                if identified(person):
                    writer.writerow([cell(person.get("name", "")), "", cell(person.get("sid", "")),
                                     cell(person.get("email", "")), "", score])


def read_grades(path):
    """grades.csv back as a list of dicts (numbers as floats), e.g. to merge shards or check."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key, value in row.items():
            if key not in ("SID", "Name", "Email", "Status", "Submission") and value != "":
                row[key] = float(value)
    return rows


def merge(paths, out_path):
    """Concatenate the grades.csv of several shards (same assignment) into one."""
    header, rows = None, []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            head = next(reader)
            if header is not None and head != header:
                raise ValueError(f"{path}: columns differ from the first shard's")
            header = head
            rows += list(reader)
    with open(out_path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(sorted(rows, key=lambda r: (r[-1], r[0])))

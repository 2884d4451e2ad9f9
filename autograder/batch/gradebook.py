"""grades.csv (one row per student) and grades-canvas.csv (Canvas's gradebook-import layout).

grades.csv: SID, Name, Email (from submission_metadata.yml when there is one; otherwise SID is
the submission's id, the file or folder name), one column per question (points), Total Score,
Status (graded / error), Grading Seconds, Submission (the id naming results/<id>.json). A group
submission gives one row per submitter, with the same points.

grades-canvas.csv: Student, ID, SIS User ID, SIS Login ID, Section, then one column named after
the assignment holding the total. ID (Canvas's internal id) is left empty: Canvas matches on SIS
User ID (the Gradescope SID) or SIS Login ID (the email). A submission that could not be graded
for the kit's reasons (timeout, crash) has an empty score there, so no spurious 0 is imported.
"""
import csv

KIT_ERRORS = ("timeout", "crash", "kit")


def _people(row):
    return row["submitters"] or [{"sid": row["id"], "name": "", "email": ""}]


def fields(questions):
    return ["SID", "Name", "Email", *questions, "Total Score", "Status", "Grading Seconds", "Submission"]


def write_grades(rows, questions, path):
    """grades.csv; `questions` is the assignment's {qid: points} (column order)."""
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow(fields(questions))
        for row in sorted(rows, key=lambda r: r["id"]):
            points = [f"{row['questions'].get(q, 0):g}" for q in questions]
            for person in _people(row):
                writer.writerow([person.get("sid") or row["id"], person.get("name", ""), person.get("email", ""),
                                 *points, f"{row['score']:g}", row["status"], f"{row['seconds']:.1f}", row["id"]])


def write_canvas(rows, title, path):
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", title])
        for row in sorted(rows, key=lambda r: r["id"]):
            score = "" if row.get("error_kind") in KIT_ERRORS else f"{row['score']:g}"
            for person in _people(row):
                writer.writerow([person.get("name", ""), "", person.get("sid") or row["id"], person.get("email", ""),
                                 "", score])


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

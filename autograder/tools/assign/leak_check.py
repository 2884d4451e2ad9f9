"""Find solution lines that would reach students through the student notebook.

otter assign keeps the cell structure, so the student and solution notebooks pair up cell by
cell. A solution line is a line of a solution cell that its student twin does not have. None may
appear in the student notebook's code cells or metadata (where otter keeps the public tests).
Markdown is exempt: the course's quiz options quote constructions on purpose.
"""
import json

MIN_LENGTH = 12  # shorter lines (`return out`, `}`) are too generic to be a leak


def solution_lines(student, solution):
    if len(student.cells) != len(solution.cells):
        raise ValueError("student and solution notebooks do not pair up cell by cell")
    lines = set()
    for mine, theirs in zip(student.cells, solution.cells):
        if theirs.cell_type != "code":
            continue
        kept = {line.strip() for line in mine.source.splitlines()}
        for line in theirs.source.splitlines():
            line = line.split("# SOLUTION")[0].strip()
            if len(line) >= MIN_LENGTH and line not in kept and not line.startswith(("#", '"""')):
                lines.add(line)
    return lines


def find_leaks(student, solution):
    code = [cell.source for cell in student.cells if cell.cell_type == "code"]
    text = json.dumps([code, student.metadata], ensure_ascii=False)
    lines = solution_lines(student, solution)
    return sorted(line for line in lines if json.dumps(line, ensure_ascii=False)[1:-1] in text)

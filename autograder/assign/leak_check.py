"""Find solution lines that would reach students through the student notebook.

A solution line is a line of a solution cell that the student version of that cell does not
have. None may appear in the student notebook's code cells or metadata (where otter keeps the
public tests). Markdown is exempt: the course's quiz options quote constructions on purpose.
"""
import json

MIN_LENGTH = 12  # shorter lines (`return out`, `}`) are too generic to be a leak


def solution_lines(student, solution):
    student_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
    lines = set()
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            line = line.split("# SOLUTION")[0].strip()
            if len(line) >= MIN_LENGTH and line not in student_lines and not line.startswith("#"):
                lines.add(line)
    return lines


def find_leaks(student, solution):
    code = [cell.source for cell in student.cells if cell.cell_type == "code"]
    text = json.dumps([code, student.metadata], ensure_ascii=False)
    lines = solution_lines(student, solution)
    return sorted(line for line in lines if json.dumps(line, ensure_ascii=False)[1:-1] in text)

"""Make a generated notebook reproducible: no outputs, no execution counts, stable cell ids.

otter assign gives some cells random ids; stable ids keep `make assign` idempotent, so a test
can tell a committed notebook that is out of date from one that merely was rebuilt.
"""
import hashlib


def normalize(notebook):
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        digest = hashlib.sha1(f"{index}:{cell.cell_type}:{cell.source}".encode()).hexdigest()[:8]
        cell.id = f"c{index:03d}-{digest}"
    return notebook

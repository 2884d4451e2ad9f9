"""Read a top-level definition out of a published reference solution notebook.

Calibration trains the reference classes and configs exactly as the solution notebook defines
them (and the notebook's own baselines), so they are written once, in the master notebook.
"""
import ast

import nbformat


def _nodes(notebook):
    """(cell source, top-level node) of every code cell; `notebook` is a path or an nbformat object."""
    if isinstance(notebook, str):
        notebook = nbformat.read(notebook, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            yield cell.source, node


def class_source(notebook, name):
    """The source text of `class name(...)` as the notebook defines it (the last definition)."""
    found = [ast.get_source_segment(src, node) for src, node in _nodes(notebook)
             if isinstance(node, ast.ClassDef) and node.name == name]
    if not found:
        raise LookupError(f"no class {name} in the notebook")
    return found[-1] + "\n"


def literal_value(notebook, name):
    """The literal value assigned to `name` at top level (e.g. a config dict)."""
    found = [ast.literal_eval(node.value) for _, node in _nodes(notebook)
             if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    if not found:
        raise LookupError(f"no assignment to {name} in the notebook")
    return found[-1]

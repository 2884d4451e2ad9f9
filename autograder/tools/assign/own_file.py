"""Let the student notebook find its own file, also when it was renamed.

otter assign writes `grader = otter.Notebook("<id>.ipynb")`. otter reads the public tests from
that file and exports it, so a browser's copy (`<id> (1).ipynb`) fails at its first cell when the
original is absent, and, worse, exports the untouched original when it is present. This transform
makes the init cell pass otter the file the student is working in: the path Jupyter or VS Code
gives the kernel when there is one, else the most recently saved `<id>*.ipynb` of the folder
(students save before exporting, as the export cell asks).
"""
import re

_INIT = re.compile(r'^grader = otter\.Notebook\("(?P<name>[^"]+\.ipynb)"\)$', re.M)

RESOLVER = '''import glob, os
def _this_notebook(name):
    """This notebook's file: the path Jupyter or VS Code gives, else the newest saved copy."""
    for given in (os.environ.get("JPY_SESSION_NAME"), globals().get("__session__"), globals().get("__vsc_ipynb_file__")):
        if isinstance(given, str) and given.endswith(".ipynb") and os.path.isfile(given):
            return given
    copies = glob.glob(glob.escape(name[:-len(".ipynb")]) + "*.ipynb")
    return max(copies, key=os.path.getmtime) if copies else name
grader = otter.Notebook(_this_notebook("{name}"))'''


def find_own_file(notebook):
    """Rewrite the otter init cell (the only cell that names the notebook's file)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and _INIT.search(cell.source):
            cell.source = _INIT.sub(lambda m: RESOLVER.replace("{name}", m.group("name")), cell.source)
    return notebook

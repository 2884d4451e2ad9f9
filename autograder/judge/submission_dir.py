"""Which file of a submission directory to grade.

Gradescope hands the autograder a DIRECTORY (/autograder/submission) holding whatever the
student uploaded; the engine grades one file (a .ipynb or the export zip). Only the top level
of the directory is looked at: that is where Gradescope puts uploaded files. Hidden files,
macOS resource forks and Jupyter checkpoints are ignored.
"""
import os
import stat

_IGNORED_DIRS = {"__MACOSX", ".ipynb_checkpoints"}


def _candidates(directory):
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [n for n in names if not n.startswith((".", "._")) and n not in _IGNORED_DIRS
            and _is_regular(os.path.join(directory, n))]


def _is_regular(path):
    """A regular file itself, not a symbolic link to one (never followed: the grader may be root)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def unsafe_entries(directory):
    """Names of the top level of `directory` that are symbolic links or special files (FIFOs,
    sockets, devices): a submission holding one is refused rather than followed or opened."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    unsafe = []
    for entry in sorted(entries, key=lambda e: e.name):
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            unsafe.append(entry.name)
    return unsafe


def find_submission_file(directory, assignment_id):
    """The path of the file to grade in `directory`, or None if there is none or it is ambiguous.

    Preference: `<assignment_id>.ipynb`; else the only .ipynb; else (no .ipynb at all) the only
    .zip. Two or more notebooks, none named after the assignment, is ambiguous: None.
    """
    names = _candidates(directory)
    preferred = f"{assignment_id}.ipynb"
    if preferred in names:
        return os.path.join(directory, preferred)
    notebooks = [n for n in names if n.lower().endswith(".ipynb")]
    if len(notebooks) == 1:
        return os.path.join(directory, notebooks[0])
    if notebooks:
        return None
    zips = [n for n in names if n.lower().endswith(".zip")]
    if len(zips) == 1:
        return os.path.join(directory, zips[0])
    return None


def missing_message(directory, assignment_id):
    """The student's explanation when find_submission_file returned None."""
    names = _candidates(directory)
    notebooks = [n for n in names if n.lower().endswith(".ipynb")]
    zips = [n for n in names if n.lower().endswith(".zip")]
    if len(notebooks) > 1:
        return (f"The submission holds {len(notebooks)} notebooks ({', '.join(notebooks[:5])}) and none is "
                f"named {assignment_id}.ipynb, so the grader cannot tell which to grade. "
                f"Submit only your {assignment_id}.ipynb (or the zip from its export cell).")
    if len(zips) > 1:
        return (f"The submission holds {len(zips)} zip files ({', '.join(zips[:5])}) and no notebook, so the "
                f"grader cannot tell which to grade. Submit only your {assignment_id}.ipynb "
                "(or the one zip made by its export cell).")
    shown = f" (it holds: {', '.join(names[:5])})" if names else ""
    return (f"The submission has no notebook{shown}. Submit your {assignment_id}.ipynb "
            "or the zip made by the notebook's export cell.")

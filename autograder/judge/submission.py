"""Read a submission (a .ipynb, the export zip, or a folder holding one) into a notebook dict.

Only the judge reads the submission file; the worker receives cell sources one by one. Every
way a file can be unusable becomes a SubmissionError whose message tells the student what to do.
"""
import errno
import io
import json
import os
import stat
import zipfile

import nbformat

from .. import wire

zlib_error = __import__("zlib").error
from .submission_dir import find_submission_file, missing_message, unsafe_entries

MAX_NOTEBOOK_BYTES = 50 << 20
MAX_CELLS = 2_000  # the course's notebooks have under 100
MAX_NOTEBOOK_DEPTH = 64  # a notebook nests about 6 levels; widget state a few more
MAX_ZIP_MEMBERS = 10_000


class SubmissionError(Exception):
    """The submission cannot be graded; the message is the student's explanation."""


def read_notebook(path, assignment_id):
    """The notebook dict of a submission (a file, or Gradescope's submission directory)."""
    if os.path.isdir(path) and not os.path.islink(path):
        unsafe = unsafe_entries(path)
        if unsafe:
            raise SubmissionError(f"The submission holds {', '.join(unsafe[:5])}: symbolic links and special files "
                                  "are not graded. Upload the notebook file itself (or the zip from its export cell).")
        found = find_submission_file(path, assignment_id)
        if found is None:
            raise SubmissionError(missing_message(path, assignment_id))
        path = found
    raw = _read_regular_file(path)
    if zipfile.is_zipfile(io.BytesIO(raw)):
        raw = _notebook_from_zip(raw, assignment_id)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("The notebook is larger than 50 MB. Clear its outputs and submit it again.")
    if not raw.strip():
        raise SubmissionError("The submission is empty. Save your notebook and submit the .ipynb file or the zip from the export cell.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError("The submission is not a UTF-8 text file, so it is not a Jupyter notebook. Submit the .ipynb file or the zip from the export cell.") from None
    if wire.json_depth(raw) > MAX_NOTEBOOK_DEPTH:
        raise SubmissionError(f"The submission's JSON is nested more than {MAX_NOTEBOOK_DEPTH} levels deep, which no "
                              "Jupyter notebook is. Open your notebook in Jupyter, save it, and submit the .ipynb file.")
    try:
        data = json.loads(text)
    except RecursionError:
        raise SubmissionError("The submission's JSON is nested too deeply to be a notebook. Submit the .ipynb file.") from None
    except ValueError as e:
        raise SubmissionError(f"The submission is not valid JSON ({getattr(e, 'msg', e)} at line {getattr(e, 'lineno', '?')}), so it is not a readable notebook: it may be truncated or not a .ipynb file. Open it in Jupyter, save it, and submit again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise SubmissionError("The submission is JSON but not a Jupyter notebook (it has no cells). Submit the .ipynb file.")
    cells = data.get("cells") if "cells" in data else [
        c for w in data["worksheets"] if isinstance(w, dict) and isinstance(w.get("cells"), list) for c in w["cells"]]
    if not isinstance(cells, list) or len(cells) > MAX_CELLS:  # before any per-cell work (conversion, the plan)
        raise SubmissionError(f"The notebook has more than {MAX_CELLS:,} cells, which no notebook of this course "
                              "needs. Remove the empty cells and submit it again.")
    if data.get("nbformat") == 3:
        for cell in cells:  # outputs are never graded; converting them would only cost time
            if isinstance(cell, dict):
                cell["outputs"] = []
        try:
            data = json.loads(nbformat.writes(nbformat.reads(json.dumps(data), as_version=4)))
        except Exception:
            raise SubmissionError("The notebook uses the old format 3 and could not be converted. Open and save it with a current Jupyter, then submit again.") from None
    named = (data.get("metadata") or {}).get("otter", {}) if isinstance(data.get("metadata"), dict) else {}
    named = named.get("assignment_name") if isinstance(named, dict) else None
    if named is not None and named != assignment_id:
        raise SubmissionError(f"This notebook belongs to the assignment '{named}', not '{assignment_id}'. Submit your {assignment_id} notebook to this assignment.")
    return data


def _read_regular_file(path):
    """The first MAX_NOTEBOOK_BYTES + 1 bytes of `path`, which must be a regular file reached without
    following a symbolic link at its last step (a link would let a submission point the grader,
    which may run as root, at any file of the machine) and which a FIFO cannot block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SubmissionError(f"The submission {os.path.basename(path)} is a symbolic link; links are not graded. "
                                  "Upload the notebook file itself (or the zip from its export cell).") from None
        raise SubmissionError(f"The submission could not be read: {e.strerror}.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SubmissionError(f"The submission {os.path.basename(path)} is not a regular file. "
                                  "Upload the notebook file itself (or the zip from its export cell).")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as e:
        raise SubmissionError(f"The submission could not be read: {e.strerror}.") from None
    finally:
        os.close(fd)


def _inflate(z, info, limit):
    """A zip member's bytes, inflated in chunks and stopped past `limit` bytes produced (the size the
    zip declares is the zip's claim, not a bound: a small zip can inflate to gigabytes)."""
    chunks, produced = [], 0
    with z.open(info) as member:
        while True:
            chunk = member.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            produced += len(chunk)
            if produced > limit:
                raise SubmissionError("The notebook in the zip is larger than 50 MB. Clear its outputs and submit again.")
            chunks.append(chunk)


def _notebook_from_zip(raw, assignment_id):
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            if len(z.infolist()) > MAX_ZIP_MEMBERS:
                raise SubmissionError(f"The zip holds more than {MAX_ZIP_MEMBERS} files. Submit the zip made by the notebook's export cell.")
            names = [n for n in z.namelist() if n.endswith(".ipynb") and "__MACOSX" not in n
                     and ".ipynb_checkpoints" not in n]
            if not names:
                raise SubmissionError("The zip holds no .ipynb notebook. Submit the zip made by the notebook's export cell, or the .ipynb itself.")
            if len(names) > 1:
                preferred = [n for n in names if n.rsplit("/", 1)[-1] == f"{assignment_id}.ipynb"]
                if len(preferred) != 1:
                    raise SubmissionError(f"The zip holds {len(names)} notebooks ({', '.join(sorted(names)[:5])}); the grader cannot tell which to grade. Submit a zip with only your {assignment_id}.ipynb.")
                names = preferred
            info = z.getinfo(names[0])
            if info.file_size > MAX_NOTEBOOK_BYTES:
                raise SubmissionError("The notebook in the zip is larger than 50 MB. Clear its outputs and submit again.")
            return _inflate(z, info, MAX_NOTEBOOK_BYTES)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError, EOFError, zlib_error) as e:
        raise SubmissionError(f"The zip file could not be read ({str(e)[:200]}). Export it again from the notebook.") from None

"""Read a submission (a .ipynb, the export zip, or a folder holding one) into a notebook dict.

Only the judge reads the submission file; the worker receives cell sources one by one. Every
way a file can be unusable becomes a SubmissionError whose message tells the student what to do.
"""
import io
import json
import os
import zipfile

import nbformat

from .submission_dir import find_submission_file, missing_message

MAX_NOTEBOOK_BYTES = 50 << 20


class SubmissionError(Exception):
    """The submission cannot be graded; the message is the student's explanation."""


def read_notebook(path, assignment_id):
    """The notebook dict of a submission (a file, or Gradescope's submission directory)."""
    if os.path.isdir(path):
        found = find_submission_file(path, assignment_id)
        if found is None:
            raise SubmissionError(missing_message(path, assignment_id))
        path = found
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as e:
        raise SubmissionError(f"The submission could not be read: {e.strerror}.") from None
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
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SubmissionError(f"The submission is not valid JSON ({e.msg} at line {e.lineno}), so it is not a readable notebook: it may be truncated or not a .ipynb file. Open it in Jupyter, save it, and submit again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise SubmissionError("The submission is JSON but not a Jupyter notebook (it has no cells). Submit the .ipynb file.")
    if data.get("nbformat") == 3:
        try:
            data = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception:
            raise SubmissionError("The notebook uses the old format 3 and could not be converted. Open and save it with a current Jupyter, then submit again.") from None
    named = (data.get("metadata") or {}).get("otter", {}) if isinstance(data.get("metadata"), dict) else {}
    named = named.get("assignment_name") if isinstance(named, dict) else None
    if named is not None and named != assignment_id:
        raise SubmissionError(f"This notebook belongs to the assignment '{named}', not '{assignment_id}'. Submit your {assignment_id} notebook to this assignment.")
    return data


def _notebook_from_zip(raw, assignment_id):
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
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
            return z.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError) as e:
        raise SubmissionError(f"The zip file could not be read ({e}). Export it again from the notebook.") from None

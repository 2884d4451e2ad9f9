"""Find the submissions in a folder, with who submitted them, and a content hash of each.

A folder may hold, mixed:
- loose files (`alice.ipynb`, `bob.zip`, even a wrong `carol.py`): one submission each, whose
  id is the file name without its extension;
- sub-folders: one submission each (graded like Gradescope's /autograder/submission);
- Gradescope's "Export Submissions" layout: `submission_metadata.yml` beside one folder per
  submission (`submission_123456/`). The YAML maps each folder name to its `:submitters:`, a
  list of `{:name:, :email:, :sid:}`; the id is the first submitter's SID (else email, else the
  folder name). The export may also sit one level down (`assignment_42_export/`).
Ids are made file-safe and unique; they name `results/<id>.json`.
"""
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field

import yaml

METADATA_NAMES = ("submission_metadata.yml", "submission_metadata.yaml")
IGNORED_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}
IGNORED_SUFFIXES = (".yml", ".yaml", ".csv", ".md")  # instructors' notes and our own outputs


@dataclass
class Submission:
    id: str  # file-safe, unique in the batch
    path: str  # what the engine grades: a file or a submission directory
    submitters: list = field(default_factory=list)  # [{"name", "email", "sid"}], may be empty
    source: str = ""  # the folder name in the export (or the file name)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ruby-tagged values (`!ruby/object:BigDecimal`) as plain data."""


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("!", _untagged)


def _get(mapping, key):
    if not isinstance(mapping, dict):
        return None
    return mapping.get(f":{key}", mapping.get(key))


def load_metadata(path):
    """{folder name: [{"name", "email", "sid"}]} from a Gradescope submission_metadata.yml."""
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=_Loader) or {}
    table = {}
    for folder, record in (data.items() if isinstance(data, dict) else []):
        people = _get(record, "submitters") or []
        table[str(folder)] = [{k: "" if _get(p, k) is None else str(_get(p, k)) for k in ("name", "email", "sid")}
                              for p in people if isinstance(p, dict)]
    return table


def _safe(text):
    return re.sub(r"[^\w.@+-]", "_", text).strip("._") or "submission"


def _entries(directory):
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [n for n in names if not n.startswith((".", "._")) and n not in IGNORED_DIRS]


def _metadata_file(directory):
    return next((os.path.join(directory, n) for n in METADATA_NAMES
                 if os.path.isfile(os.path.join(directory, n))), None)


def _walk(directory, exclude, found):
    meta_path = _metadata_file(directory)
    metadata = load_metadata(meta_path) if meta_path else {}
    for name in _entries(directory):
        path = os.path.join(directory, name)
        if os.path.abspath(path) in exclude or (meta_path and name in METADATA_NAMES):
            continue
        if os.path.isdir(path):
            if not meta_path and _metadata_file(path):  # an export folder one level down
                _walk(path, exclude, found)
                continue
            people = metadata.get(name, [])
            first = people[0] if people else {}
            found.append(Submission(first.get("sid") or first.get("email") or name, path, people, name))
        elif os.path.isfile(path) and not name.lower().endswith(IGNORED_SUFFIXES):
            stem = name.rsplit(".", 1)[0] if "." in name else name
            found.append(Submission(stem, path, [], name))


def discover(directory, exclude=()):
    """Every submission under `directory`, sorted by id (the order --shard splits)."""
    found = []
    _walk(directory, {os.path.abspath(p) for p in exclude}, found)
    used = set()
    for sub in sorted(found, key=lambda s: (_safe(s.id), s.path)):
        base = candidate = _safe(sub.id)
        n = 1
        while candidate.lower() in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate.lower())
        sub.id = candidate
    return sorted(found, key=lambda s: s.id)


SHARD_COUNT_VARIABLE = "RNNKIT_SHARD_COUNT"  # a Kubernetes Indexed Job's completions, set in its manifest


def parse_shard(text, environ=None):
    """'K/N' -> (K, N) with 1 <= K <= N; 'auto' -> the same from the job array's environment."""
    if (text or "").strip() == "auto":
        return shard_from_environment(os.environ if environ is None else environ)
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard must be K/N with 1 <= K <= N, or auto, not {text!r}")
    return int(match.group(1)), int(match.group(2))


def _integer(environ, name):
    value = environ.get(name, "")
    if not re.fullmatch(r"\d+", value.strip()):
        raise ValueError(f"--shard auto: {name} must be a whole number, not {value!r}")
    return int(value)


def shard_from_environment(environ):
    """(K, N) of this task of a Slurm job array or a Kubernetes Indexed Job.

    Slurm (sbatch --array=A-B[:S]): SLURM_ARRAY_TASK_ID, _COUNT, _MIN (ids may start above 0) and
    _STEP give K = (ID - MIN) / STEP + 1 of N = COUNT; the ids must be that evenly spaced range.
    Kubernetes (completionMode: Indexed): JOB_COMPLETION_INDEX (0 .. completions - 1) gives K - 1;
    Kubernetes does not export the number of completions, so N is RNNKIT_SHARD_COUNT, which the Job
    manifest sets to its `completions`."""
    slurm = "SLURM_ARRAY_TASK_ID" in environ
    kubernetes = "JOB_COMPLETION_INDEX" in environ
    if slurm and kubernetes:
        raise ValueError("--shard auto: both a Slurm job array (SLURM_ARRAY_TASK_ID) and a Kubernetes Indexed Job "
                         "(JOB_COMPLETION_INDEX) are set; use --shard K/N")
    if slurm:
        if "SLURM_ARRAY_TASK_COUNT" not in environ:
            raise ValueError("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
        task, count = _integer(environ, "SLURM_ARRAY_TASK_ID"), _integer(environ, "SLURM_ARRAY_TASK_COUNT")
        first = _integer(environ, "SLURM_ARRAY_TASK_MIN") if "SLURM_ARRAY_TASK_MIN" in environ else 0
        step = _integer(environ, "SLURM_ARRAY_TASK_STEP") if "SLURM_ARRAY_TASK_STEP" in environ else 1
        last = _integer(environ, "SLURM_ARRAY_TASK_MAX") if "SLURM_ARRAY_TASK_MAX" in environ else None
        offset = task - first
        if step < 1 or offset < 0 or offset % step or (last is not None and (last - first) != (count - 1) * step):
            raise ValueError(f"--shard auto: the Slurm array's task ids are not an evenly spaced range "
                             f"(id {task}, min {first}, max {last}, step {step}, count {count}); "
                             "submit it as sbatch --array=0-(N-1) or --array=1-N")
        index = offset // step
    elif kubernetes:
        index = _integer(environ, "JOB_COMPLETION_INDEX")
        if SHARD_COUNT_VARIABLE not in environ:
            raise ValueError(f"--shard auto: JOB_COMPLETION_INDEX is set but {SHARD_COUNT_VARIABLE} is not: Kubernetes "
                             f"does not export the number of completions, so the Job manifest must set "
                             f"{SHARD_COUNT_VARIABLE} to its `completions`")
        count = _integer(environ, SHARD_COUNT_VARIABLE)
    else:
        raise ValueError("--shard auto needs a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a "
                         f"Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with {SHARD_COUNT_VARIABLE} set to the "
                         "Job's completions); neither is set here. Elsewhere, use --shard K/N.")
    if not 0 <= index < count:
        raise ValueError(f"--shard auto: task index {index} is outside 0..{count - 1}")
    return index + 1, count


def select_shard(submissions, shard):
    """The submissions of shard (K, N): sorted index % N == K - 1."""
    if not shard:
        return list(submissions)
    k, n = shard
    return [s for i, s in enumerate(sorted(submissions, key=lambda s: s.id)) if i % n == k - 1]


def content_hash(path):
    """sha256 of a file, or of a directory's relative paths and file contents."""
    digest = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                digest.update(os.fsencode(os.path.relpath(full, path)) + b"\0")
                _update_file(digest, full)
    else:
        _update_file(digest, path)
    return digest.hexdigest()


def _update_file(digest, path):
    """Hash a regular file's bytes; a link or special file (a FIFO would block) is hashed by kind."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        digest.update(f"unreadable: {e.strerror}".encode("utf-8", "replace"))
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            digest.update(b"not a regular file")
            return
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        digest.update(f"unreadable: {e.strerror}".encode("utf-8", "replace"))
    finally:
        os.close(fd)

"""The hostile corpus as data: each `Attack` says what it inserts where (or which files it submits
instead), the notebook it starts from, and the outcome it must get. Which entries apply to which
assignment is decided here too.
"""
import importlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field

import nbformat

from ... import assignments
from ...assignments import assignment_ids
from ...paths import package_name, solution_path, student_path
from .attacks import (READ_HIDDEN, LEAK_THROUGH_CHECK, WRITE_OUTSIDE, DETACHED, KILL_JUDGE,
                      FAKE_OUTPUT, PATCH_TORCH, LIARS, BREAK_BUILTINS, PATCH_BUILTINS,
                      PATCH_SYS_MODULES, FORGE_REPLIES, MALFORMED_REPLIES, SHADOW_MODULES,
                      FORK_SECOND_WORKER, SPY, LEAK_LATER, LOOP, SLEEP, IGNORE_SIGNALS,
                      LOOP_IN_TARGET, BIG_MODEL, SLOW_STEPS, FLOOD, MEMORY, FORK_BOMB, THREAD_BOMB,
                      BREAK_CHANNEL, CLOSE_CHANNEL, STOP_READING, BIG_CELL, MALFORMED_ERRORS, DEEP_REPLIES,
                      FORGED_SIZES, ODD_TEXT, EVERY_WORD, EXCEPTION_NAMED_BY_INPUTS, NETWORK_OTHER_PROTOCOLS,
                      STATE_OUTLIVES_GRADING, ALIAS_SANDBOX_MODEL, SEE_THE_HOST, REBUILD_HIDDEN_DATA, DEEP_TREE)

def _missing_fields(student, reference):
    data = json.loads(reference)
    for cell in data["cells"]:
        for key in ("outputs", "metadata", "execution_count", "id", "attachments"):
            cell.pop(key, None)
    data["cells"] += [{"cell_type": "code"}, None, {"cell_type": "markdown"}, {"cell_type": "code", "source": 42},
                      {"source": "print('no cell type')"}, "not a cell", {"cell_type": "code", "source": [1, None]}]
    del data["metadata"]["kernelspec"]
    data.pop("nbformat_minor", None)
    return {"missing-fields.ipynb": json.dumps(data).encode()}



def zip_bytes(files):
    """A zip archive of {name: str or bytes}, as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


class Link:
    """In an entry's files: a symbolic link to `target` ("$solution": the assignment's reference)."""

    def __init__(self, target):
        self.target = target


def zip_bomb(size=1 << 30, declared=1000, name="submission.ipynb"):
    """A zip of one notebook that inflates to `size` bytes of zeros while its headers declare
    `declared` (about 1 MB per GiB)."""
    import struct
    import zlib
    compressor, chunk, crc, parts = zlib.compressobj(9, zlib.DEFLATED, -15), b"\0" * (16 << 20), 0, []
    for _ in range(size // len(chunk)):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    data, name = b"".join(parts), name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), declared, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), declared,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def _many_errors(student, reference):
    data = json.loads(student)
    first = next(i for i, c in enumerate(data["cells"]) if c.get("cell_type") == "code")
    raising = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                "source": f"raise ValueError('{i} ' + 'x' * 400)\n"} for i in range(1800)]
    data["cells"][first + 1:first + 1] = raising
    return {"many-errors.ipynb": json.dumps(data).encode()}


def _renamed_in_zip(student, reference):
    return {"submission.zip": zip_bytes({"Downloads/My Notebook (3).ipynb": reference,
                                    "__MACOSX/Downloads/._My Notebook (3).ipynb": "junk", "notes.txt": "my notes"})}


def _other_assignment(student, reference):
    named = json.loads(reference)["metadata"]["otter"]["assignment_name"]
    other = next(a for a in assignment_ids() if a != named)
    return {"other.ipynb": reference.replace(f'"assignment_name": "{named}"', f'"assignment_name": "{other}"').encode()}


BROKEN_FILES = {  # name: (files from (student json, reference json), what the student is told)
    "truncated-json": (lambda s, r: {"truncated.ipynb": r[: len(r) // 2].encode()}, "not valid JSON"),
    "not-utf-8": (lambda s, r: {"latin1.ipynb": ("caf\xe9 " + r).encode("latin-1", "replace")}, "not a UTF-8"),
    "zip-without-notebook": (lambda s, r: {"submission.zip": zip_bytes({"README.txt": "hi"})}, "no .ipynb"),
    "zip-with-two-notebooks": (lambda s, r: {"submission.zip": zip_bytes({"a.ipynb": r, "b.ipynb": r})}, "2 notebooks"),
    "notebook-of-another-assignment": (_other_assignment, "belongs to the assignment"),
    "zip-bomb": (lambda s, r: {"submission.zip": zip_bomb(2 << 30)}, "could not be read|larger than 50 MB"),
    "notebook-nested-too-deep": (lambda s, r: {"deep.ipynb": ('{"cells": [], "metadata": ' + "[" * 100_000
                                                              + "]" * 100_000 + "}").encode()}, "nested"),
    "link-in-the-submission-folder": (lambda s, r: {"rnn-notebook.ipynb": Link("$solution")}, "symbolic link"),
}


def _nbformat_3(student, reference):
    return {"old.ipynb": nbformat.writes(nbformat.convert(nbformat.reads(reference, 4), 3), version=3).encode()}


def _shadowing_dir(student, reference):
    fake = b"raise SystemExit('shadowed')\n"
    forged = json.dumps({"score": 1000, "execution_time": 0, "output": "forged", "tests": []}).encode()
    return {"renamed.ipynb": reference.encode(), "torch.py": fake, "numpy.py": fake, "sitecustomize.py": fake,
            "autograder.py": fake, "results.json": forged, "results/results.json": forged}


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str                # tamper | escape | exhaust | broken
    cells: tuple = ()        # ((where, source), ...); source: str or {"function": str, "class": str}
    base: str = "blank"      # the notebook it starts from: blank | reference
    message: str = ""        # fragment(s) the student sees, "|" = any of; {cell}: the attack's first cell;
                             # "" = what the honest submission shows (first failure, else the summary)
    costs: bool = None       # True: fewer points than honest; False: exactly honest; None: at most honest
    group: str = ""          # the tests grade the attacks of one group in one notebook
    once: bool = False       # the tests run it on one assignment (expensive, or independent of it)
    training: bool = False   # only for assignments with a training protocol
    files: object = None     # broken input: f(student json, reference json) -> {name: bytes}
    options: dict = field(default_factory=dict)
    gap: str = ""            # a known hole: the tests mark it xfail(strict) with this reason


def A(name, kind, source=None, where="setup", **kw):
    return Attack(name, kind, cells=((where, source),) if source is not None else (), **kw)


HANG = {"cell_timeout": 5}
CORPUS = [
    # tampering: nothing the worker says or patches changes what the judge computes
    A("liars-and-patched-torch", "tamper", LIARS, "checks", message="Liar", group="liars"),
    A("patched-torch-after-answers", "tamper", PATCH_TORCH, "checks", base="reference", costs=False, once=True),
    Attack("patched-builtins", "tamper", (("setup", BREAK_BUILTINS), ("checks", PATCH_BUILTINS)),
           message="cell {cell} stopped the grading process", group="worker-tamper", once=True),
    A("patched-sys-modules", "tamper", PATCH_SYS_MODULES, "checks", message="is not defined|raised AttributeError",
      group="worker-tamper", once=True),
    A("shadow-modules-in-cwd", "tamper", SHADOW_MODULES, message="is not defined|raised AttributeError",
      group="worker-tamper", once=True),
    A("fake-pass-lines-and-results", "tamper", FAKE_OUTPUT, message="cell {cell} raised RuntimeError", group="escape"),
    # structure claims are checked against behaviour (rnn-basics q1 runs the claimed nn.RNN's weights)
    A("forged-worker-replies", "tamper", FORGE_REPLIES, message="did not report the weights|returned|should be",
      once=True),
    A("malformed-worker-replies", "tamper", MALFORMED_REPLIES, message="could not read the answer",
      group="malformed", once=True),
    A("second-worker-by-fork", "tamper", FORK_SECOND_WORKER, costs=False, once=True),  # the child is ended at once
    # escape: hidden files stay unreadable and the kit unwritable; the grader's processes out of reach
    A("read-hidden-files", "escape", READ_HIDDEN, message="cell {cell} raised PermissionError", group="escape"),
    A("leak-through-a-check", "escape", LEAK_THROUGH_CHECK, "target", message="raised ValueError", group="escape"),
    A("write-outside-scratch", "escape", WRITE_OUTSIDE, message="cell {cell} raised PermissionError", group="escape"),
    A("detached-processes", "escape", DETACHED, message="cell {cell} raised RuntimeError", group="escape"),
    Attack("stash-inputs-leak-later", "escape", (("setup", SPY), ("last-check", LEAK_LATER)), base="reference",
           message="grader inputs", costs=True, group="stash"),
    A("os-exit", "escape", "import os\nos._exit(0)\n", message="cell {cell} stopped the grading process", group="exit", once=True),
    Attack("sys-exit-and-interrupts", "escape", (("setup", "import sys\nsys.exit(0)\n"), ("setup", "raise KeyboardInterrupt\n"),
           ("setup", "exit()\n")), message="cell {cell} raised SystemExit", group="exit", once=True),
    Attack("segfault-and-self-kill", "escape", (("setup", "import ctypes\nctypes.string_at(0)\n"),
           ("setup", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")),
           message="cell {cell} stopped the grading process", group="exit", once=True),
    Attack("garbage-on-the-channel", "escape", (("setup", BREAK_CHANNEL), ("setup", CLOSE_CHANNEL)),
           message="cell {cell} interfered with the grader's channel", group="exit", once=True),
    A("kill-the-grader", "escape", KILL_JUDGE, base="reference", costs=False, group="survive"),
    # issue 11: UDP, IPv6, raw sockets and DNS (Landlock covers TCP only): nothing reaches the judge's listeners
    A("network-by-other-protocols", "escape", NETWORK_OTHER_PROTOCOLS, message="cell {cell} raised PermissionError",
      group="escape"),
    # SysV IPC, the user keyring and shared temporary files outlive a grading's processes: refused, swept
    A("state-outlives-grading", "escape", STATE_OUTLIVES_GRADING, message="cell {cell} raised PermissionError",
      group="escape"),
    # the process list and the grader's command line: /proc is private or closed
    A("see-the-host", "escape", SEE_THE_HOST, message="cell {cell} raised PermissionError|cell {cell} raised LookupError",
      group="escape"),
    # the worker's folder once held an answer (sequence-memory's model): only generic code is copied now
    A("alias-sandbox-model", "escape", ALIAS_SANDBOX_MODEL, "target", message="raised ModuleNotFoundError",
      group="alias"),
    # the model's init seed was a public function of a small grading seed, the notebook's generator then
    # rebuilt the validation labels: seeds and data now come from the secret grading key
    A("rebuild-hidden-data", "escape", REBUILD_HIDDEN_DATA, "target", base="reference", costs=True, training=True,
      message="Validation accuracy"),
    # exhaustion: bounded by the cell timeout, the budget, the caps and the PID namespace
    A("100-MB-print", "exhaust", FLOOD, base="reference", costs=False, group="survive"),
    # a scratch tree too deep for a recursive removal: cleanup is iterative and never costs the grade
    A("deep-tree-in-scratch", "exhaust", DEEP_TREE, base="reference", costs=False, group="survive"),
    A("memory-beyond-the-cap", "exhaust", MEMORY, base="reference", costs=False, once=True),
    A("infinite-loop-in-a-cell", "exhaust", LOOP, base="reference", costs=False, options=HANG,
      message="cell {cell} did not finish within", group="hang", once=True),
    A("ignore-signals-and-sleep", "exhaust", IGNORE_SIGNALS, base="reference", costs=False, options=HANG,
      message="cell {cell} did not finish within", group="hang", once=True),
    A("infinite-loop-in-forward", "exhaust", LOOP_IN_TARGET, "target", base="reference", costs=True,
      message="did not finish", options={"budget": 12}, once=True),
    A("model-too-large-to-train", "exhaust", BIG_MODEL, "target", base="reference", costs=True, training=True,
      message="did not finish|parameters|time budget", options={"budget": 45}, once=True),
    A("slow-training-steps", "exhaust", SLOW_STEPS, "target", base="reference", costs=True, training=True,
      message="did not finish|time budget", options={"budget": 10}, once=True),
    A("fork-bomb", "exhaust", FORK_BOMB, base="reference", costs=False, options=HANG,
      message="cell {cell} did not finish within", group="hang", once=True),
    A("thread-bomb", "exhaust", THREAD_BOMB, base="reference", message="Passed.|raised RuntimeError", once=True),
    A("whole-budget", "exhaust", SLEEP, "checks", options={"cell_timeout": 3, "budget": 10},
      message="time budget", once=True),
    # issue 10: nothing a submission does hangs, crashes, swells or speaks through the judge
    Attack("stop-reading-the-pipe", "exhaust", (("setup", STOP_READING), ("setup", BIG_CELL * 1000)),
           message="did not finish within", options={"cell_timeout": 5, "budget": 30}, once=True),
    A("malformed-error-replies", "tamper", MALFORMED_ERRORS, message="raised an exception class defined in your notebook",
      once=True),
    A("replies-nested-too-deep", "tamper", DEEP_REPLIES, message="interfered with the grader's channel", once=True),
    A("forged-layer-sizes", "tamper", FORGED_SIZES, message="sizes far beyond|could not read|not defined|did not|raised RuntimeError",
      once=True),
    A("lone-surrogates", "broken", ODD_TEXT, message="cell {cell} raised ValueError", once=True),
    Attack("many-raising-cells", "exhaust", files=_many_errors, message="raised ValueError", once=True),
    Attack("stash-with-every-word-in-the-notebook", "escape", (("setup", SPY + EVERY_WORD), ("last-check", LEAK_LATER)),
           base="reference", message="grader inputs", costs=True),  # not in "stash": one spy per notebook
    A("exception-class-named-by-the-inputs", "escape", EXCEPTION_NAMED_BY_INPUTS, "target", base="reference",
      costs=True, message="an exception class defined in your notebook"),
    # broken input: the reference damaged or packed wrongly; a clear message, never a crash
    *[Attack(name, "broken", base="reference", files=files, message=message, costs=True, once=True)
      for name, (files, message) in BROKEN_FILES.items()],
    Attack("nbformat-3", "broken", base="reference", files=_nbformat_3, costs=False, once=True),
    Attack("cells-missing-fields", "broken", base="reference", files=_missing_fields, costs=False, once=True),
    Attack("renamed-notebook-in-zip", "broken", base="reference", files=_renamed_in_zip, costs=False, once=True),
    Attack("shadowing-files-next-to-the-notebook", "broken", base="reference", files=_shadowing_dir, costs=False,
           once=True),
]


def _check_corpus():
    groups = {}
    for attack in CORPUS:
        if attack.group:
            groups.setdefault(attack.group, []).append(attack)
    for name, members in groups.items():
        shape = {(a.base, a.costs, tuple(sorted(a.options.items())), a.once, a.files is None) for a in members}
        if len(shape) != 1:
            raise ValueError(f"hostile group {name!r} mixes bases, costs, options or scopes: {shape}")


_check_corpus()


def published_ids():
    return [aid for aid in assignment_ids() if os.path.exists(student_path(aid)) and os.path.exists(solution_path(aid))]


def is_training(assignment_id):
    package = package_name(assignment_id)
    return importlib.util.find_spec(f"autograder.assignments.{package}.protocol") is not None


def applicable(assignment_id):
    return [a for a in CORPUS if not a.training or is_training(assignment_id)]

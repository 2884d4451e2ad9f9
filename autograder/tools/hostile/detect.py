"""What must hold whatever a submission did, and the detectors that check it: nothing hidden in
what the student sees, no file outside scratch changed, no process of the worker left.
"""
import ast
import hashlib
import importlib
import os
import re
import time

from ... import assignments
from ...judge import isolation
from ...judge import results as gradescope
from ...judge.plan import cell_source, notebook_text
from ...judge.worker_client import WorkerProcess
from ...paths import ROOT, package_name
from .build import _code, published_notebooks, secret_files

KIT_TREES = ("autograder", "solutions", "assignments")

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




def hidden_material(assignment_id, notebooks=None):
    """What no student may see: distinctive lines of the hidden checks/protocol and of the reference
    solution, the grading seeds, and values: the strings of the hidden input lists and the seeds
    the protocol derives from the grading seeds (sub_seed: they invert to the seed by brute force)."""
    from ...authoring.training import sub_seed
    notebooks = notebooks or published_notebooks(assignment_id)
    public = notebook_text(notebooks["blank"])
    lines, seeds, values = set(), set(), set()
    package = package_name(assignment_id)
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
        seeds.update(getattr(module, "GRADING_SEEDS", []))  # protocols derive them from the grading key
    values.update(str(sub_seed(s, tag)) for s in seeds for tag in ["init"] + [f"epoch{e}" for e in range(1, 201)])
    values.update(str(v)[::-1] for v in list(values) + list(seeds) if str(v).isdigit() and len(str(v)) >= 6)
    for cell in notebooks["reference"].cells:
        if _code(cell):
            lines.update(l.strip() for l in cell_source(cell).splitlines() if len(l.strip()) >= 25)
    # Check names are public by design (every results.json lists them), so a string that is part of
    # one is not hidden material even when it sits in a module-level table.
    names = check_names(assignment_id)
    return ({l for l in lines if l not in public}, seeds,
            {v for v in values if v not in public and v not in names})


def check_names(assignment_id):
    """Every check's name, joined: public by design, so what they state is not hidden."""
    return " ".join(c.name for c in assignments.module(assignment_id, "checks").assignment.checks)


def find_leaks(text, material, submitted_text, sent_values=()):
    lines, seeds, values = material
    found = [f"line: {l[:80]}" for l in lines if l in text and l not in submitted_text]
    for seed in seeds:
        if re.search(rf"seed\D{{0,40}}\b{seed}\b", text, re.I) or (len(str(seed)) >= 7 and re.search(rf"\b{seed}\b", text)):
            found.append(f"seed {seed}")
    for value in sorted(values | set(sent_values)):
        if value not in submitted_text and re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", text):
            found.append(f"grader input: {value[:40]!r}")
        elif len(value) >= 5 and value.encode().hex() in text.lower():
            found.append(f"grader input, hex-encoded: {value[:40]!r}")
    return found


_WORKER_SCRIPT = re.compile(r"/rnnkit-[^/ ]+/kit/worker\.py")


def _host_pid_namespace():
    return os.readlink("/proc/self/ns/pid")


class Watch:
    def __init__(self):
        self.roots, self.namespaces, self.sent, self.uids = [], set(), [], []
        self.first_reported = {}  # a string in a worker's reply -> the request it first came with

    def factory(self, seed=0):
        return _WatchedWorker(self, seed=seed)

    def sent_values(self):
        """Plain strings (5+ characters) and large ints the judge sent in calls: hidden inputs, seeds;
        not the strings the worker had reported before (the names of a model's own parameters, sent
        back in a state_dict)."""
        found = set()

        def walk(value, into):
            if isinstance(value, dict):
                if not ({"$tensor", "$nn"} & set(value)):
                    for v in value.values():
                        walk(v, into)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v, into)
            elif type(value) is int and abs(value) >= 100_000:
                into.add(str(value))
            elif isinstance(value, str) and len(value) >= 5 and not value.startswith("$"):
                into.add(value)
        for index, (op, fields) in enumerate(self.sent):
            if op in ("call", "session"):
                sent = set()
                walk([fields.get("args"), fields.get("kwargs")], sent)
                found |= {v for v in sent if self.first_reported.get(v, index) >= index}
        return sorted(found)

    def leftovers(self, marker, wait=3.0):
        """Processes that outlived grading: in a PID namespace of our workers (namespace numbers are
        reused, so only processes started before grading ended and not another grading's worker),
        the worker user's in the host namespace, and any with the marker or our scratch paths."""
        ended, deadline = time.time(), time.monotonic() + wait
        uids = set(self.uids)  # the transient uids this watch's workers ran as
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
                        ns in self.namespaces or (owner in uids and ns == host))):
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
            if self.owner:
                self.watch.uids.append(self.owner[0])
            if self.proc is not None:
                try:
                    with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                        children = f.read().split()
                    self.watch.namespaces.update(os.readlink(f"/proc/{c}/ns/pid") for c in children)
                except OSError:
                    pass
                self.watch.namespaces.discard(_host_pid_namespace())

    def request(self, op, timeout, **fields):
        index = len(self.watch.sent)
        self.watch.sent.append((op, fields))
        reply = super().request(op, timeout, **fields)
        for text in _strings(reply):  # what the worker told the judge first is not a grader input
            self.watch.first_reported.setdefault(text, index)
        return reply


def _strings(value, depth=0):
    if isinstance(value, str):
        yield value
    elif depth < 50 and isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k, depth + 1)
            yield from _strings(v, depth + 1)
    elif depth < 50 and isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, depth + 1)


def _has_key(description):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    nr = {"x86_64": 249, "aarch64": 218}[os.uname().machine]  # request_key searches the user keyring too
    if libc.syscall(ctypes.c_long(nr), b"user", description.encode(), None, ctypes.c_long(0)) >= 0:
        os._exit(10)


def leftover_state(ctx, uids):
    """SysV IPC objects under the attacks' keys or owned by the grading uids, and keys named after
    the marker in those uids' keyrings: what a later grading under the same uid could read."""
    found = []
    keys = {ctx.ipc_key + i for i in range(3)}
    for kind, id_key in (("shm", "shmid"), ("msg", "msqid"), ("sem", "semid")):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = f.read().splitlines()
        except OSError:
            continue
        for row in rows:
            values = dict(zip(header.split(), row.split()))
            owner = {int(values.get("uid", -1)), int(values.get("cuid", -1))}
            if int(values.get("key", 0)) in keys or owner & set(uids):
                found.append(f"SysV {kind} {values.get(id_key)} (key {values.get('key')}, uid {values.get('uid')})")
    if os.geteuid() == 0:
        for uid in sorted(set(uids)):
            if isolation.as_user((uid, uid), lambda: _has_key(ctx.marker), time.monotonic() + 10) == 10:
                found.append(f"a key in the keyring of uid {uid}")
    return found


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
    graders = range(isolation.UID_FIRST, isolation.UID_FIRST + isolation.UID_COUNT)
    attack, other = [], []
    for path in sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p)):
        owned = os.path.lexists(path) and os.lstat(path).st_uid in graders
        mine = path in targets or ctx.marker in path or path.startswith(ctx.decoy_dir) or owned
        (attack if mine else other).append(path)
    return attack, other



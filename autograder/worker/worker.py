"""The worker: the only process that runs student code.

The judge starts it (see autograder/isolation.py), sends it the notebook's cells one at a time
and asks it to evaluate the student's objects on inputs the judge chose. Answers go back as
plain data in the wire format. Nothing here decides a grade: whatever this process says is
treated by the judge as a claim of the student's code, so it may be tampered with freely.

Start-up order matters: import the libraries students use, seed, drop privileges, close the file
system and the network (Landlock), load the seccomp filter, test that the sandbox holds (the
self-test's findings go back in the ready message), and only then run student code.
Run as a script from the sandbox copy: python worker.py FD_IN FD_OUT
"""
import builtins
import importlib
import os
import sys
import traceback

import landlock
import seccomp
import training_session
import wire

# Modules students commonly import; loading them before the sandbox closes keeps them importable
# when the Python installation is not readable by the unprivileged user (e.g. under /root).
PRELOAD = ["torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data",
           "torch.nn.utils.rnn", "numpy", "random", "math", "collections", "itertools",
           "functools", "time", "string", "re", "json", "copy", "typing", "dataclasses",
           "numpy.random", "secrets", "linecache", "traceback", "socket", "ctypes", "errno",
           "encodings.idna"]


def _preload(dropping_privileges):
    for name in PRELOAD:
        importlib.import_module(name)
    if dropping_privileges and not _readable_by_others(os.path.dirname(os.__file__)):
        # Python lives where the grading user cannot read it (e.g. under /root on a developer's
        # machine), so what torch imports lazily must be imported now: the first optimizer
        # imports torch._dynamo, which pulls in a dozen standard modules. ~2 s, only there.
        importlib.import_module("torch._dynamo")


def _readable_by_others(path):
    """Whether every directory down to `path` lets other users in (o+x) and `path` is o+r."""
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    for i in range(1, len(parts) + 1):
        mode = os.stat(os.sep.join(parts[:i]) or os.sep).st_mode
        if not mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o004)

_NN_BUILDERS = ("RNN", "LSTM", "GRU")  # modules the judge may hand to a student's function
# Layers a judge-side model may be rebuilt from ({"$nn": {"kind": "layers", ...}}): standard torch.nn
# only, so no model of an assignment (an answer) ever needs to live beside the worker.
_LAYER_KINDS = ("Embedding", "RNN", "LSTM", "GRU", "Linear", "ReLU", "Tanh", "Dropout", "Flatten")


class _GraderStub:
    """Stands in for otter's `grader`: grading never runs the public checks inside the worker."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def main():
    fd_in, fd_out = int(sys.argv[1]), int(sys.argv[2])
    config = wire.recv(fd_in)
    status = _prepare(config)
    wire.send(fd_out, {"id": 0, "ready": status})
    worker, pid = Worker(), os.getpid()
    while True:
        request = wire.recv(fd_in)
        if request is None:
            return
        try:
            reply = worker.handle(request)
        except BaseException as e:  # the student's code may raise anything, even SystemExit
            reply = {"error": describe_exception(e)}
        if os.getpid() != pid:  # a child forked by the student's code: only the worker itself answers
            os._exit(0)
        reply["id"] = request.get("id")
        wire.send(fd_out, reply)


def _prepare(config):
    """Load libraries, seed, drop privileges, confine. Returns what protections are in force."""
    work = config["work_dir"]
    os.environ.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                       "HOME": work, "TMPDIR": work, "MPLCONFIGDIR": work, "IPYTHONDIR": work})
    _preload(config.get("uid") is not None)
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.inputtransformer2 import TransformerManager
    from traitlets.config import Config
    ipython_config = Config()
    ipython_config.HistoryManager.enabled = False  # no sqlite file outside the scratch directory
    global SHELL, TRANSFORMER
    SHELL, TRANSFORMER = InteractiveShell.instance(config=ipython_config), TransformerManager()
    import random
    import numpy
    import torch
    torch.set_num_threads(1)
    seed = int(config.get("seed", 0))
    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)
    status = {"uid": os.getuid(), "landlock": 0, "seccomp": False}
    if config.get("uid") is not None:
        os.setgroups([])
        os.setgid(config["gid"])
        os.setuid(config["uid"])
        status["uid"] = os.getuid()
    if config.get("landlock"):
        status["landlock"] = landlock.restrict(list(config["read_paths"]) + _own_proc_paths(),
                                               config["write_paths"])
    if config.get("seccomp"):
        try:
            seccomp.install()
            status["seccomp"] = seccomp.mode() == 2
        except OSError as e:
            status["seccomp_error"] = str(e)[:200]
    os.chdir(work)
    sys.path[0] = work  # the kit's own sandbox directory leaves the import path
    status["selftest"] = selftest(config.get("canaries", []))
    return status


def _own_proc_paths():
    """The parts of /proc the worker may read under Landlock: its own entry and a few global
    files libraries read, not the other processes (the judge's command line, the host's)."""
    return [f"/proc/{os.getpid()}", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/filesystems",
            "/proc/sys/kernel/osrelease", "/proc/sys/vm/overcommit_memory"]


def selftest(canaries):
    """What student code could do here, tried before any runs: read the hidden files, open inet
    sockets of each kind and reach beyond this machine, make a SysV IPC object, use the keyring,
    see other processes. Plain data for the judge, which decides what holds."""
    import ctypes
    import errno
    import socket
    found = {"hidden_readable": []}
    for path in canaries:
        try:
            with open(path, "rb") as f:
                f.read(1)
            found["hidden_readable"].append(path)
        except OSError:
            pass
    kinds = {"tcp": (socket.AF_INET, socket.SOCK_STREAM, 0, ("127.0.0.1", 9)),
             "udp": (socket.AF_INET, socket.SOCK_DGRAM, 0, ("192.0.2.1", 9)),
             "tcp6": (socket.AF_INET6, socket.SOCK_STREAM, 0, ("::1", 9)),
             "udp6": (socket.AF_INET6, socket.SOCK_DGRAM, 0, ("2001:db8::1", 9)),
             "raw": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP, None),
             "packet": (getattr(socket, "AF_PACKET", 17), socket.SOCK_RAW, 0, None)}
    sockets = found["sockets"] = {}
    for name, (family, kind, proto, address) in kinds.items():
        try:
            s = socket.socket(family, kind, proto)
        except OSError:
            sockets[name] = "refused"
            continue
        try:
            if address is None:
                sockets[name] = "open"
                continue
            s.settimeout(1)
            # TCP: a connection to a closed local port (Landlock refuses it with EACCES); UDP: connect()
            # sends nothing, it only looks the route up (a documentation address, RFC 5737/3849)
            code = s.connect_ex(address)
            sockets[name] = {errno.EACCES: "blocked", errno.EPERM: "blocked", errno.ENETUNREACH: "no route",
                             errno.EADDRNOTAVAIL: "no route", errno.EHOSTUNREACH: "no route"}.get(code, "open")
        finally:
            s.close()
    libc = ctypes.CDLL(None, use_errno=True)
    shm = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    if shm >= 0:
        libc.shmctl(shm, 0, None)  # IPC_RMID
        found["sysv_ipc"] = "created"
    else:
        found["sysv_ipc"] = "refused"
    keyctl = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
    if keyctl is not None:  # KEYCTL_GET_KEYRING_ID of the user keyring, without creating it
        result = libc.syscall(ctypes.c_long(keyctl), ctypes.c_long(0), ctypes.c_long(-4), ctypes.c_long(0))
        found["keyring"] = "refused" if result < 0 and ctypes.get_errno() in (errno.EPERM, errno.ENOSYS, errno.EACCES) \
            else "usable"
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        found["other_processes"] = len([p for p in pids if p != os.getpid()])
    except OSError:
        found["other_processes"] = 0
    return found


class Worker:
    def __init__(self):
        self.ns = SHELL.user_ns
        self.ns.update({"__name__": "__main__", "grader": _GraderStub()})
        self.sessions = {}

    def handle(self, request):
        op = request.get("op")
        handler = getattr(self, "op_" + str(op), None)
        if handler is None:
            return {"error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}}
        return handler(**{k: v for k, v in request.items() if k not in ("op", "id")})

    def op_exec(self, source, cell):
        filename = f"<cell {cell}>"
        try:
            code = compile(TRANSFORMER.transform_cell(source), filename, "exec")
        except SyntaxError as e:
            where = {"cell": cell, "line": e.lineno, "code": (e.text or "").strip()[:200]}
            return {"error": {"type": "SyntaxError", "message": str(e.msg), "where": where}}
        import linecache
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(code, self.ns)
        except BaseException as e:
            return {"error": describe_exception(e)}
        return {"ok": True}

    def op_describe(self, name):
        if name not in self.ns:
            return {"defined": False}
        return {"defined": True, **describe_object(self.ns[name])}

    def op_call(self, name, args=(), kwargs=None, method=None, grad=False):
        """Call a student's function (or a method of a student's object) on judge inputs.

        `name` is one of the student's globals, or {"$session_model": sid}: the model a training
        session built from the student's class.
        """
        import torch
        if isinstance(name, dict):
            target = self._arg(name)
        elif name not in self.ns:
            return {"undefined": True}
        else:
            target = self.ns[name]
        if method is not None:  # a method, or a submodule's path ("encoder.rnn"): called as it is
            for part in str(method).split("."):
                target = getattr(target, part)
        args = [self._arg(a) for a in args]
        kwargs = {k: self._arg(v) for k, v in (kwargs or {}).items()}
        with torch.set_grad_enabled(grad):
            value = target(*args, **kwargs)
        return {"value": wire.encode(value)}

    def op_session(self, sid, method, args=(), kwargs=None):
        """Drive a TrainingSession: the judge owns the loop, the worker only does the steps."""
        if sid not in self.sessions:
            self.sessions[sid] = training_session.TrainingSession(self.ns)
        args = [wire.decode(a) for a in args]
        kwargs = {k: wire.decode(v) for k, v in (kwargs or {}).items()}
        return {"value": wire.encode(getattr(self.sessions[sid], method)(*args, **kwargs))}

    def op_ping(self):
        return {"ok": True}

    def _arg(self, data):
        """Decode an argument; {"$nn": ...} builds a torch module with the judge's weights."""
        if type(data) is dict and "$session_model" in data:
            session = self.sessions.get(data["$session_model"])
            if session is None or session.model is None:
                raise RuntimeError("no model in this training session")
            return session.model
        if type(data) is dict and "$nn" in data:
            import torch
            spec = data["$nn"]
            if spec["kind"] in _NN_BUILDERS:
                module = getattr(torch.nn, spec["kind"])(**wire.decode(spec["kwargs"]))
            elif spec["kind"] == "layers":
                module = _layers(wire.decode(spec["layers"]))
            else:
                raise ValueError("module kind not allowed")
            module.load_state_dict(wire.decode(spec["state"]))
            return module
        return wire.decode(data)


def _layers(recipe):
    """A module that applies standard torch.nn layers in order; [kind, kwargs, take] per layer,
    `take` picking one element of a layer's tuple output (an RNN's output, not its state)."""
    import torch

    class Layers(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.take = []
            modules = []
            for kind, kwargs, take in recipe:
                if kind not in _LAYER_KINDS or not isinstance(kwargs, dict):
                    raise ValueError("layer kind not allowed")
                modules.append(getattr(torch.nn, kind)(**kwargs))
                self.take.append(take)
            self.layers = torch.nn.ModuleList(modules)

        def forward(self, x):
            for layer, take in zip(self.layers, self.take):
                x = layer(x)
                if take is not None:
                    x = x[take]
            return x

    return Layers()


def describe_object(obj):
    import torch
    info = {"type": f"{type(obj).__module__}.{type(obj).__qualname__}", "callable": callable(obj),
            "is_class": isinstance(obj, type)}
    if isinstance(obj, type):
        info["is_module_class"] = issubclass(obj, torch.nn.Module)
    elif isinstance(obj, torch.nn.Module):
        info["module"] = training_session.describe_module(obj)
        if info["module"]["n_params"] <= 1_000_000:
            info["module"]["state"] = wire.encode(dict(obj.state_dict()))
    elif not callable(obj):
        info["value"] = wire.encode(obj)
    return info


def describe_exception(e):
    """Type, message and the student's line that raised, without kit internals."""
    where = None
    for frame in traceback.extract_tb(e.__traceback__):
        if frame.filename.startswith("<cell "):
            where = {"cell": int(frame.filename[6:-1]), "line": frame.lineno, "code": (frame.line or "")[:200]}
    try:
        message = str(e)[:500]
    except BaseException:
        message = "<unprintable message>"
    kind = type(e)
    return {"type": kind.__name__, "message": message, "where": where,
            "builtin": kind.__module__ == "builtins" and getattr(builtins, kind.__name__, None) is kind}


if __name__ == "__main__":
    main()

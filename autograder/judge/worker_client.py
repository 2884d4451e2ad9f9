"""The judge's handle on one worker process: start it confined, ask it things, kill it.

Every reply is decoded strictly (autograder/wire.py) and must echo the id of the request
it answers; anything else means the student's code broke the channel, and the worker is killed.
"""
import builtins
import os
import re
import signal
import subprocess
import sys
import threading
import time

from .. import wire
from . import isolation


class WorkerLost(Exception):
    """The worker timed out, died or broke the protocol. `reason` says which."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


BUILTIN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                                if isinstance(value, type) and issubclass(value, BaseException))
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")


def clean_text(value, limit):
    """`value` if it is a str (cut to `limit`, lone surrogates replaced), else ""."""
    if type(value) is not str:
        return ""
    return value[:limit].encode("utf-8", "replace").decode("utf-8")


class StudentError(Exception):
    """The student's code raised while the worker ran it. `info`: type, message, where, builtin.

    Everything in it came from the worker, which the student's code may have rewritten: every field
    is checked here, once, so no reader of `info` meets a value of the wrong type.
    - type: the exception's class name ("Exception" when the reply holds none that looks like one);
    - builtin: True only for a name of Python's builtin exceptions that the worker says is builtin;
    - message: text, at most 500 characters; where: None or {cell: int, line: int, code: str}.
    """

    def __init__(self, info):
        info = info if type(info) is dict else {}
        name = info.get("type")
        name = name if type(name) is str and _TYPE_NAME.fullmatch(name) else "Exception"
        where = info.get("where")
        if type(where) is dict and type(where.get("cell")) is int and type(where.get("line")) is int:
            where = {"cell": where["cell"], "line": where["line"], "code": clean_text(where.get("code"), 200)}
        else:
            where = None
        self.info = {"type": name, "message": clean_text(info.get("message"), 500), "where": where,
                     "builtin": info.get("builtin") is True and name in BUILTIN_EXCEPTIONS}
        super().__init__(f"{self.info['type']}: {self.info['message']}")

    def type_shown(self):
        """The exception's type as a student may see it: a builtin's name, else kit text (the
        name of a class the student made could carry anything, hidden inputs included)."""
        return exception_shown(self.info)


def exception_shown(info):
    if info.get("builtin") is True and info.get("type") in BUILTIN_EXCEPTIONS:
        return info["type"]
    return "an exception class defined in your notebook"


class _OutputReader(threading.Thread):
    """Drains the worker's stdout/stderr so a 100 MB print can neither block nor flood us."""

    def __init__(self, stream, cap):
        super().__init__(daemon=True)
        self.stream, self.cap, self.kept, self.total = stream, cap, bytearray(), 0

    def run(self):
        for chunk in iter(lambda: self.stream.read1(1 << 16), b""):
            self.total += len(chunk)
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self):
        text = self.kept.decode("utf-8", "replace")
        if self.total > len(self.kept):
            text += f"\n[... {self.total - len(self.kept)} more bytes of output not kept]"
        return text


class WorkerProcess:
    def __init__(self, seed=0, memory_bytes=None, output_cap=64 << 10, startup_timeout=120):
        self.seed, self.memory_bytes, self.output_cap = seed, memory_bytes, output_cap
        self.startup_timeout = startup_timeout
        self.proc = self.scratch = self.reader = self.lease = self.owner = None
        self.status, self._next_id = {}, 0

    def start(self):
        """Start a confined worker (isolation.py) and read its self-test; raises
        isolation.SandboxUnsafe, after stopping it, when it could read hidden material."""
        if os.geteuid() == 0:
            self.lease = isolation.GradingUid()
            self.owner = self.lease.acquire()
        owner = self.owner
        self.scratch = isolation.Scratch(owner)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        prefix, _ = isolation.namespace_plan()
        command = [*prefix, sys.executable, "-E", "-s", "-u",
                   os.path.join(self.scratch.kit, "worker.py"), str(to_worker_r), str(from_worker_w)]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        memory = self.memory_bytes or isolation.worker_memory_cap()
        self.proc = subprocess.Popen(
            command, pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=self.scratch.work,
            preexec_fn=isolation.limits(memory, 512 if owner else 0))
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.to_worker, self.from_worker = to_worker_w, from_worker_r
        self.reader = _OutputReader(self.proc.stdout, self.output_cap)
        self.reader.start()
        abi = isolation.landlock_abi()
        config = {"seed": self.seed, "work_dir": self.scratch.work, "landlock": abi > 0, "seccomp": True,
                  "read_paths": isolation.read_paths() + [self.scratch.kit],
                  "write_paths": [self.scratch.work, "/dev/null"], "canaries": isolation.hidden_canaries()}
        if owner:
            config["uid"], config["gid"] = owner
        deadline = time.monotonic() + self.startup_timeout
        try:
            self._send(config, deadline)
            reply = self._receive(0, deadline)
        except WorkerLost as e:  # no student code ran yet: this is the kit's or machine's fault
            raise WorkerLost(e.reason, f"{e.detail} while starting; its output:\n{self.output()[-2000:]}") from None
        self.status = isolation.assess(reply.get("ready"), owner, isolation.worker_pid(self.proc.pid))
        self.status["memory_cap"] = memory
        if self.status.get("refuse"):
            self.stop()
            raise isolation.SandboxUnsafe(self.status["refuse"])
        return self.status

    def request(self, op, timeout, **fields):
        """Send one request; return the reply, or raise StudentError / WorkerLost."""
        if self.proc is None:
            raise WorkerLost("crashed", "the worker is not running")
        self._next_id += 1
        deadline = time.monotonic() + timeout  # one deadline for writing the request and reading the reply
        self._send({"op": op, "id": self._next_id, **fields}, deadline)
        reply = self._receive(self._next_id, deadline)
        if "error" in reply:
            raise StudentError(reply["error"])
        return reply

    def _send(self, message, deadline):
        """Write a request; a worker that stops reading its pipe cannot hold the judge past `deadline`."""
        try:
            wire.send(self.to_worker, message, deadline=deadline)
        except wire.Timeout:
            self.stop()
            raise WorkerLost("timeout", "the worker stopped reading its requests") from None
        except OSError as e:
            self.stop()
            raise WorkerLost("crashed", str(e)) from None

    def _receive(self, expected_id, deadline):
        try:
            reply = wire.recv(self.from_worker, deadline=deadline)
        except wire.Timeout:
            self.stop()
            raise WorkerLost("timeout", "no answer in time") from None
        except (wire.WireError, OSError, RecursionError, MemoryError) as e:
            self.stop()
            raise WorkerLost("protocol", str(e)[:200]) from None
        if reply is None:  # the channel closed: the worker died, or closed it and lives on
            try:
                code = self.proc.wait(timeout=max(0.0, min(2.0, deadline - time.monotonic()))) if self.proc else None
            except subprocess.TimeoutExpired:
                self.stop()
                raise WorkerLost("protocol", "it closed the grader's channel") from None
            self.stop()
            raise WorkerLost("crashed", _describe_exit(code))
        if reply.get("id") != expected_id:
            self.stop()
            raise WorkerLost("protocol", "a reply did not match its request")
        return reply

    def output(self):
        return self.reader.text() if self.reader else ""

    def stop(self):
        """Kill the worker and everything it started; clear what its uid left; remove its scratch
        directory. Never raises: a cleanup problem is reported on stderr, the grade goes on."""
        deadline = time.monotonic() + CLEANUP_SECONDS
        if self.proc is not None:
            for kill in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), self.proc.kill):
                try:
                    kill()
                except (ProcessLookupError, PermissionError):
                    pass
            self.proc.wait()
            if self.owner:  # detached children, inside a PID namespace or not
                _quietly(isolation.kill_uid_processes, self.owner[0], deadline)
            for fd in (self.to_worker, self.from_worker):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.reader.join(timeout=5)
            self.proc = None
        if self.scratch is not None:
            _quietly(self.scratch.remove, deadline)
            self.scratch = None
        if self.lease is not None:
            left = _quietly(isolation.sweep_uid, self.owner[0], deadline)
            if left:
                print(f"rnnkit: grading uid {self.owner[0]} left {', '.join(left[:5])}", file=sys.stderr)
            self.lease.release()
            self.lease = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


CLEANUP_SECONDS = 5.0  # past it, what is left stays with the uid, which no grading uses until it is clean


def _quietly(action, *args):
    try:
        return action(*args)
    except Exception as e:
        print(f"rnnkit: cleanup step {getattr(action, '__name__', action)} failed: {type(e).__name__}: {e}",
              file=sys.stderr)
        return None


def _describe_exit(code):
    if code is None:
        return "the worker exited"
    if code < 0 or code >= 128:
        number = -code if code < 0 else code - 128
        name = {9: "SIGKILL (often the memory limit)", 11: "SIGSEGV", 6: "SIGABRT", 25: "SIGXFSZ (file size limit)"}
        return f"the worker was killed by signal {name.get(number, number)}"
    return f"the worker exited with code {code}"

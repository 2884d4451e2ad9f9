"""The judge's handle on one worker process: start it confined, ask it things, kill it.

Every reply is decoded strictly (autograder/sandbox/wire.py) and must echo the id of the request
it answers; anything else means the student's code broke the channel, and the worker is killed.
"""
import os
import signal
import subprocess
import sys
import threading
import time

from . import isolation
from .sandbox import wire


class WorkerLost(Exception):
    """The worker timed out, died or broke the protocol. `reason` says which."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


class StudentError(Exception):
    """The student's code raised while the worker ran it. `info`: type, message, where."""

    def __init__(self, info):
        info = info if isinstance(info, dict) else {}
        self.info = {"type": str(info.get("type", "Exception"))[:100],
                     "message": str(info.get("message", ""))[:500], "where": info.get("where")}
        super().__init__(f"{self.info['type']}: {self.info['message']}")


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
        wire.send(self.to_worker, config)
        try:
            reply = self._receive(0, self.startup_timeout)
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
        try:
            wire.send(self.to_worker, {"op": op, "id": self._next_id, **fields})
        except OSError as e:
            self.stop()
            raise WorkerLost("crashed", str(e)) from None
        reply = self._receive(self._next_id, timeout)
        if "error" in reply:
            raise StudentError(reply["error"])
        return reply

    def _receive(self, expected_id, timeout):
        try:
            reply = wire.recv(self.from_worker, deadline=time.monotonic() + timeout)
        except wire.Timeout:
            self.stop()
            raise WorkerLost("timeout", f"no answer within {timeout:.0f} s") from None
        except (wire.WireError, OSError) as e:
            self.stop()
            raise WorkerLost("protocol", str(e)) from None
        if reply is None:
            code = self.proc.wait() if self.proc else None
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


CLEANUP_SECONDS = 20.0


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

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

from .. import wire
from . import isolation


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
    def __init__(self, seed=0, memory_bytes=4 << 30, output_cap=64 << 10, startup_timeout=120):
        self.seed, self.memory_bytes, self.output_cap = seed, memory_bytes, output_cap
        self.startup_timeout = startup_timeout
        self.proc = self.scratch = self.reader = None
        self.status, self._next_id = {}, 0

    def start(self):
        owner = isolation.worker_user()
        self.owner = owner
        self.scratch = isolation.Scratch(owner)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        command = [*isolation.pid_namespace_prefix(), sys.executable, "-E", "-s", "-u",
                   os.path.join(self.scratch.kit, "worker.py"), str(to_worker_r), str(from_worker_w)]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            command, pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=self.scratch.work,
            preexec_fn=isolation.limits(self.memory_bytes, 512 if owner else 0))
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.to_worker, self.from_worker = to_worker_w, from_worker_r
        self.reader = _OutputReader(self.proc.stdout, self.output_cap)
        self.reader.start()
        abi = isolation.landlock_abi()
        config = {"seed": self.seed, "work_dir": self.scratch.work, "landlock": abi > 0,
                  "read_paths": isolation.read_paths() + [self.scratch.kit],
                  "write_paths": [self.scratch.work, "/dev/null"]}
        if owner:
            config["uid"], config["gid"] = owner
        wire.send(self.to_worker, config)
        try:
            reply = self._receive(0, self.startup_timeout)
        except WorkerLost as e:  # no student code ran yet: this is the kit's or machine's fault
            raise WorkerLost(e.reason, f"{e.detail} while starting; its output:\n{self.output()[-2000:]}") from None
        self.status = reply.get("ready") if isinstance(reply.get("ready"), dict) else {}
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
        """Kill the worker and everything it started; remove its scratch directory."""
        if self.proc is not None:
            for kill in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), self.proc.kill):
                try:
                    kill()
                except (ProcessLookupError, PermissionError):
                    pass
            self.proc.wait()
            if self.owner and not isolation.pid_namespace_prefix():
                # No PID namespace to take the worker's children down with it: sweep the grading
                # user's processes (only safe because then workers do not run in parallel).
                isolation.kill_user_processes(self.owner[0])
            for fd in (self.to_worker, self.from_worker):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.reader.join(timeout=5)
            self.proc = None
        if self.scratch is not None:
            self.scratch.remove()
            self.scratch = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def _describe_exit(code):
    if code is None:
        return "the worker exited"
    if code < 0 or code >= 128:
        number = -code if code < 0 else code - 128
        name = {9: "SIGKILL (often the memory limit)", 11: "SIGSEGV", 6: "SIGABRT", 25: "SIGXFSZ (file size limit)"}
        return f"the worker was killed by signal {name.get(number, number)}"
    return f"the worker exited with code {code}"

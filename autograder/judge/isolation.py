"""How the judge starts the worker out of reach: scratch directory, user, sandbox, limits.

Protections, strongest first (README "Threat model" lists which hold where):
- a fresh PID namespace (`unshare --pid`, as root or through a user namespace): when the worker
  ends, every process it started ends with it, detached or not;
- as root: an unprivileged user (`rnnkit-worker`) who owns only the scratch directory;
- Landlock: the worker reads only the Python installation and system files, writes only its
  scratch directory, opens no TCP connection and cannot signal the judge;
- resource limits: address space, file size, open files, processes.
The judge keeps the pipes; the worker's stdout and stderr are read with a cap.
"""
import functools
import os
import pwd
import resource
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile

from ..paths import PACKAGE_DIR

WORKER_USER = "rnnkit-worker"
# Exactly what is copied beside the worker: the generic worker code and the shared wire format.
WORKER_DIR = os.path.join(PACKAGE_DIR, "worker")
WIRE_FILE = os.path.join(PACKAGE_DIR, "wire.py")


def worker_files():
    """The files copied into the sandbox: autograder/worker/*.py (not its __init__) and wire.py."""
    names = sorted(n for n in os.listdir(WORKER_DIR) if n.endswith(".py") and n != "__init__.py")
    return [os.path.join(WORKER_DIR, n) for n in names] + [WIRE_FILE]


@functools.lru_cache(maxsize=None)
def pid_namespace_prefix():
    """The `unshare` command that gives the worker its own PID namespace, or [] if none works."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    for prefix in ([unshare, "--pid", "--fork", "--kill-child"],
                   [unshare, "--user", "--map-root-user", "--pid", "--fork", "--kill-child"]):
        try:
            ok = subprocess.run(prefix + ["true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return tuple(prefix)
    return ()


@functools.lru_cache(maxsize=None)
def landlock_abi():
    from ..worker import landlock
    return landlock.abi_version()


def worker_user():
    """(uid, gid) of the unprivileged grading user, created if missing; None unless root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(WORKER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        WORKER_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(WORKER_USER)
    return entry.pw_uid, entry.pw_gid


class Scratch:
    """A private directory per worker: `kit/` holds the worker's code, `work/` is the cwd."""

    def __init__(self, owner):
        self.root = tempfile.mkdtemp(prefix="rnnkit-")
        os.chmod(self.root, 0o755)
        self.kit = os.path.join(self.root, "kit")
        self.work = os.path.join(self.root, "work")
        os.mkdir(self.kit)
        os.mkdir(self.work, 0o700)
        for path in worker_files():
            shutil.copy(path, self.kit)
        if owner is not None:
            os.chown(self.work, *owner)

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def read_paths():
    """What the worker may read: the interpreter, its libraries and the system's."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"],
             "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev"}
    paths.update(site.getsitepackages())
    return sorted(p for p in paths if os.path.exists(p))


def limits(memory_bytes, max_processes):
    """A preexec function applying resource limits in the child before exec."""
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        if max_processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
    return apply


def kill_user_processes(uid):
    """Kill every process of the grading user, detached ones included (kill(-1) as that user)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(pwd.getpwuid(uid).pw_gid)
            os.setuid(uid)
            os.kill(-1, 9)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def protections():
    """A short description of what isolation this machine gives the worker."""
    return {"pid_namespace": bool(pid_namespace_prefix()), "landlock_abi": landlock_abi(),
            "unprivileged_user": os.geteuid() == 0}

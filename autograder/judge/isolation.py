"""How the judge starts the worker out of reach, and what it clears away after it.

Layers, each meant to hold on its own (README "Threat model" says where each one holds):
- a transient uid per worker (root only): a number from a reserved range (UID_FIRST..), no passwd
  entry, chosen under a lock file so parallel gradings never share one; owns only `work/`;
- new IPC, network, mount and PID namespaces with a private /proc (`unshare`, root with
  CAP_SYS_ADMIN, or a non-root judge through a user namespace); as root, never through a user
  namespace: one that maps only root would keep the worker from becoming its grading uid;
- Landlock (in the worker): reads only the Python installation, system files and its own /proc
  entry, writes only `work/`, no TCP, no signals out;
- seccomp (in the worker, autograder/worker/seccomp.py): no sockets but AF_UNIX, no SysV IPC, no keyring,
  no ptrace, no namespaces or mounts, ...: holds where the kernel refuses the two above;
- file modes: on Gradescope everything the zip unpacks is root-only (dist.py);
- resource limits: data segment (derived from the container's memory limit), file size, open
  files, processes; the worker is the OOM killer's first choice (oom_score_adj 1000).
When a worker stops, `release()` ends every process of its uid (kill(-1) as that uid), removes its
SysV IPC objects and keys, its files in the shared temporary directories, and the scratch
directory (iteratively, bounded in time). Nothing here raises into a grading: cleanup problems
are reported on stderr.
"""
import ctypes
import errno
import fcntl
import functools
import os
import pwd
import resource
import shutil
import signal
import site
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time

from ..paths import PACKAGE_DIR

# Exactly what is copied beside the worker: the generic worker code and the shared wire format.
WORKER_DIR = os.path.join(PACKAGE_DIR, "worker")
WIRE_FILE = os.path.join(PACKAGE_DIR, "wire.py")


def worker_files():
    """The files copied into the sandbox: autograder/worker/*.py (not its __init__) and wire.py."""
    names = sorted(n for n in os.listdir(WORKER_DIR) if n.endswith(".py") and n != "__init__.py")
    return [os.path.join(WORKER_DIR, n) for n in names] + [WIRE_FILE]
SWEEP_ON_ACQUIRE_SECONDS = 3.0  # a dirty uid is skipped, not waited for
UID_FIRST, UID_COUNT = 61000, 1000  # transient grading uids (gid = uid); no passwd entry needed
LOCK_DIR = "/run/rnnkit-uids"
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lock")
WORKER_USER = "rnnkit-worker (transient uids 61000-61999)"  # how reports name the grading user
CAP_SYS_ADMIN = 21
JUDGE_MEMORY_RESERVE = 96 << 20  # the judge's growth while it grades, on top of what it holds
MIN_WORKER_MEMORY = 512 << 20  # an honest worker's data segment peaks near 285 MB (make memory)
DEFAULT_WORKER_MEMORY = 4 << 30


class SandboxUnsafe(Exception):
    """The worker could read hidden material: grading must not go on here. The message is for the
    instructor and goes into results.json."""


# -- what this machine allows ----------------------------------------------------------------
def effective_capabilities():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def has_capability(number):
    return bool(effective_capabilities() >> number & 1)


def _works(command):
    try:
        return subprocess.run(command + ["true"], capture_output=True, timeout=10,
                              stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


NAMESPACES = ("--ipc", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc")


@functools.lru_cache(maxsize=None)
def namespace_plan():
    """(unshare command prefix, names of the namespaces it makes), or ((), ()) where none works.

    As root: new namespaces directly (needs CAP_SYS_ADMIN), never through a user namespace: a
    user namespace that maps only root (`--map-root-user`) leaves the worker unable to become
    its grading uid, and mapping another uid is not something `unshare` can do for us. Not root:
    through a user namespace that maps the judge's own uid (or, with older util-linux, root to
    it), so the worker still runs as the judge's uid, as it would without namespaces."""
    unshare = shutil.which("unshare")
    if not unshare:
        return (), ()
    full = ("ipc", "net", "mount", "pid", "proc")
    if os.geteuid() == 0:
        candidates = [([unshare, *NAMESPACES], full)] if has_capability(CAP_SYS_ADMIN) else []
    else:
        candidates = [([unshare, "--user", "--map-current-user", *NAMESPACES], full + ("user",)),
                      ([unshare, "--user", "--map-root-user", *NAMESPACES], full + ("user",)),
                      ([unshare, "--user", "--map-root-user", "--pid", "--fork", "--kill-child"], ("pid", "user"))]
    for command, names in candidates:
        if _works(command):
            return tuple(command), names
    return (), ()


def pid_namespace_prefix():
    """The `unshare` prefix when it gives the worker its own PID namespace, else ()."""
    prefix, names = namespace_plan()
    return prefix if "pid" in names else ()


@functools.lru_cache(maxsize=None)
def landlock_abi():
    from ..worker import landlock
    return landlock.abi_version()


def protections():
    """A short description of what isolation this machine gives the worker (before a worker runs;
    the worker's self-test says what actually holds)."""
    return {"pid_namespace": bool(pid_namespace_prefix()), "namespaces": list(namespace_plan()[1]),
            "landlock_abi": landlock_abi(), "unprivileged_user": os.geteuid() == 0}


# -- memory ------------------------------------------------------------------------------------
def cgroup_memory_limit():
    """The memory limit of this process's cgroup (v2 memory.max, or v1 memory.limit_in_bytes),
    the smallest up the hierarchy; None when unlimited or unknown."""
    limits = []
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and controllers == "":
            roots, name = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"], "memory.max"
        elif "memory" in controllers.split(","):
            roots, name = ["/sys/fs/cgroup/memory"], "memory.limit_in_bytes"
        else:
            continue
        for root in roots:
            parts = [p for p in path.split("/") if p]
            for depth in range(len(parts), -1, -1):
                try:
                    with open(os.path.join(root, *parts[:depth], name)) as f:
                        value = f.read().strip()
                except OSError:
                    continue
                if value.isdigit() and int(value) < 1 << 60:
                    limits.append(int(value))
    return min(limits) if limits else None


def process_memory(pid="self"):
    """Proportional set size (bytes) of one process, from smaps_rollup (RSS if unavailable)."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}") as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except OSError:
            continue
    return 0


def worker_memory_cap():
    """The worker's data-segment cap: the container's limit minus what the judge holds and may
    still grow by, never below what an honest worker needs; the default where the container sets
    no limit. Where the sum still outgrows the container, the OOM killer takes the worker."""
    limit = cgroup_memory_limit()
    if limit is None:
        return DEFAULT_WORKER_MEMORY
    return max(min(limit - process_memory() - JUDGE_MEMORY_RESERVE, DEFAULT_WORKER_MEMORY), MIN_WORKER_MEMORY)


def limits(memory_bytes, max_processes):
    """A preexec function applying resource limits in the child before exec."""
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # The data segment (heap and anonymous mappings) rather than the address space: torch maps
        # hundreds of MB of shared libraries that cost no memory of their own.
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_AS, (max(memory_bytes, DEFAULT_WORKER_MEMORY),) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        if max_processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
        try:  # the OOM killer's first choice in the container: a memory bomb costs a question
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
    return apply


# -- the worker's files ------------------------------------------------------------------------
def read_paths():
    """What the worker may read: the interpreter, its libraries and the system's. The worker adds
    its own /proc entry; the rest of /proc (other processes, the judge) stays closed."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"],
             "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/sys", "/dev"}
    paths.update(site.getsitepackages())
    return sorted(p for p in paths if os.path.exists(p))


class Scratch:
    """A private directory per worker: `kit/` holds the worker's code, `work/` is the cwd."""

    def __init__(self, owner):
        self.root = tempfile.mkdtemp(prefix="rnnkit-")
        os.chmod(self.root, 0o755)
        self.kit = os.path.join(self.root, "kit")
        self.work = os.path.join(self.root, "work")
        self.owner = owner
        os.mkdir(self.kit)
        os.mkdir(self.work, 0o700)
        for path in worker_files():
            shutil.copy(path, self.kit)
            os.chmod(os.path.join(self.kit, os.path.basename(path)), 0o644)
        if owner is not None:
            os.chown(self.work, *owner)

    def remove(self, deadline):
        """Remove the whole tree: `work/` as its owner first, then the rest. Iterative."""
        if self.owner is not None and os.path.lexists(self.work):
            as_user(self.owner, lambda: remove_tree(self.work, deadline), deadline)
        remove_tree(self.root, deadline)


# -- transient grading uids --------------------------------------------------------------------
class GradingUid:
    """One uid of the reserved range, held under an flock for as long as a worker uses it."""

    def __init__(self, lock_dir=LOCK_DIR, first=UID_FIRST, count=UID_COUNT):
        self.lock_dir, self.first, self.count = lock_dir, first, count
        self.uid = self.fd = None

    def acquire(self):
        self.lock_dir = _lock_dir(self.lock_dir)
        start = os.getpid() % self.count  # parallel judges start their search apart
        for i in range(self.count):
            uid = self.first + (start + i) % self.count
            try:
                pwd.getpwuid(uid)
                continue  # someone gave this number a name: not ours
            except KeyError:
                pass
            fd = os.open(os.path.join(self.lock_dir, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            # whatever an earlier grading left behind (a crashed judge, or a cleanup that ran out
            # of time): a uid that cannot be swept clean quickly is not used, so no grading ever
            # starts with another one's files, processes or IPC objects
            if sweep_uid(uid, time.monotonic() + SWEEP_ON_ACQUIRE_SECONDS):
                os.close(fd)
                continue
            self.uid, self.fd = uid, fd
            return uid, uid
        raise RuntimeError(f"no free grading uid in {self.first}-{self.first + self.count - 1}")

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # drops the lock
        self.uid = self.fd = None


def _lock_dir(preferred):
    """A root-owned 0700 directory for the uid locks: `preferred`, else one under the temporary
    directory (a directory someone else made there first is not trusted)."""
    for path in (preferred, os.path.join(tempfile.gettempdir(), "rnnkit-uids")):
        try:
            os.makedirs(path, 0o700, exist_ok=True)
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077:
            return path
    raise RuntimeError(f"no safe directory for the grading uid locks ({preferred})")


def as_user(owner, action, deadline):
    """Run `action()` in a child process as `owner` (uid, gid) with no groups; wait until the
    deadline, then kill it. Returns the child's exit status (0: done), or None on timeout."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(owner[1])
            os.setuid(owner[0])
            action()
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


def uid_processes(uid):
    """PIDs (visible here) whose real, effective or saved uid is `uid`, zombies left out."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except (OSError, ValueError):
            continue
        if fields.get("State", "").strip().startswith("Z"):
            continue
        if str(uid) in fields.get("Uid", "").split()[:3]:
            found.append(int(name))
    return found


def kill_uid_processes(uid, deadline):
    """kill(-1, SIGKILL) as `uid` until none of its processes is left (forks race the first)."""
    while True:
        as_user((uid, uid), lambda: os.kill(-1, signal.SIGKILL), deadline)
        left = uid_processes(uid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.01)


_IPC_RMID = 0
_IPC_KINDS = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}


def sysv_objects(uid):
    """(kind, id) of the SysV IPC objects (this IPC namespace) owned or created by `uid`."""
    found = []
    for kind in _IPC_KINDS:
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = f.read().splitlines()
        except OSError:
            continue
        columns = header.split()
        for row in rows:
            values = dict(zip(columns, row.split()))
            id_key = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]
            if str(uid) in (values.get("uid"), values.get("cuid")) and values.get(id_key, "").isdigit():
                found.append((kind, int(values[id_key])))
    return found


def remove_sysv_objects(uid):
    libc = ctypes.CDLL(None, use_errno=True)
    left = []
    for kind, ident in sysv_objects(uid):
        call = getattr(libc, _IPC_KINDS[kind])
        result = call(ident, 0, _IPC_RMID, None) if kind == "sem" else call(ident, _IPC_RMID, None)
        if result != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.EIDRM):
            left.append(f"{kind} {ident}")
    return left


_KEYCTL_CLEAR, _KEYCTL_GET_PERSISTENT = 7, 22
_KEY_SPEC_THREAD_KEYRING, _KEY_SPEC_USER_KEYRING, _KEY_SPEC_USER_SESSION_KEYRING = -1, -4, -5
_KEYCTL = {"x86_64": 250, "aarch64": 219}


def _clear_own_keyrings():
    """As the grading uid: empty its user, user-session and persistent keyrings, which outlive
    its processes (since Linux 5.3 the user keyrings live as long as the user namespace)."""
    number = _KEYCTL.get(os.uname().machine)
    if number is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    keyctl = lambda *args: libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    for ring in (_KEY_SPEC_USER_KEYRING, _KEY_SPEC_USER_SESSION_KEYRING):
        keyctl(_KEYCTL_CLEAR, ring)
    persistent = keyctl(_KEYCTL_GET_PERSISTENT, -1, _KEY_SPEC_THREAD_KEYRING)
    if persistent > 0:
        keyctl(_KEYCTL_CLEAR, persistent)


def uid_files(uid, roots=SHARED_TMP, deadline=None, max_entries=200_000, depth=3):
    """Entries owned by `uid` under the shared temporary directories (the top of each owned
    subtree only). A uid with no group creates entries only in world-writable directories (and
    then in its own), so the walk enters every world-writable directory it finds, and other
    directories others may enter down to `depth` levels (a world-writable directory hidden deeper
    inside someone's tree is missed; Landlock, where it holds, stops such writes). Iterative,
    bounded by `deadline` and `max_entries`."""
    found, seen = [], 0
    pending = [(r, 0) for r in roots if os.path.isdir(r)]
    while pending:
        directory, level = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_uid == uid:
                found.append(entry.path)
            elif stat.S_ISDIR(st.st_mode) and st.st_mode & 0o001 and (st.st_mode & 0o002 or level + 1 < depth):
                pending.append((entry.path, level + 1))
        if seen > max_entries or (deadline and time.monotonic() > deadline):
            break
    return found


def remove_tree(path, deadline=None):
    """Remove `path` (a file or a directory tree) without recursion and without following
    symlinks: one directory descriptor open at a time, `..` to climb back, so neither a deep
    tree (thousands of levels) nor long paths stop it. Unreadable directories owned by the
    caller are made readable first. Stops at the deadline (what is left stays)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

    def open_dir(name, dir_fd):
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except PermissionError:  # a directory its owner made unreadable (the entry is no symlink)
            os.chmod(name, 0o700, dir_fd=dir_fd)
            return os.open(name, flags, dir_fd=dir_fd)

    fd = open_dir(path, None)
    names = []  # the way down from `path`, one name per level
    try:
        while True:
            if deadline is not None and time.monotonic() > deadline:
                return
            subdir = None
            with os.scandir(fd) as entries:
                for count, entry in enumerate(entries):
                    # a flat directory can hold millions of (hard-linked) entries: the deadline
                    # is checked inside one directory too, not only between directories
                    if count % 1000 == 999 and deadline is not None and time.monotonic() > deadline:
                        return
                    if entry.is_dir(follow_symlinks=False):
                        subdir = subdir or entry.name
                    else:
                        try:
                            os.unlink(entry.name, dir_fd=fd)
                        except FileNotFoundError:
                            pass
            if subdir is not None:
                try:
                    child = open_dir(subdir, fd)
                except FileNotFoundError:
                    continue
                os.close(fd)
                fd = child
                names.append(subdir)
                continue
            if not names:
                break
            parent = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            fd = parent
            os.rmdir(names.pop(), dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def sweep_uid(uid, deadline):
    """End everything `uid` left: processes, SysV IPC objects, keys, files in the shared
    temporary directories. Returns what could not be removed (empty: all gone)."""
    left = []
    processes = kill_uid_processes(uid, deadline)
    left += [f"process {p}" for p in processes]
    left += remove_sysv_objects(uid)
    if as_user((uid, uid), _clear_own_keyrings, deadline) != 0:
        left.append("keyrings")
    for path in uid_files(uid, deadline=deadline):
        try:
            remove_tree(path, deadline)
        except OSError as e:
            left.append(f"{path}: {e}")
    return left


# -- what holds: the worker's self-test, read by the judge -----------------------------------
KIT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOW_READABLE_ENV = "RNNKIT_ALLOW_READABLE_CHECKS"  # trusted local use only: grade anyway
_warned = set()


def hidden_canaries():
    """Files the worker's self-test tries to read: the hidden checks and protocols of every
    assignment and the grading key. Any of them readable means the sandbox does not hold."""
    from . import grading_key
    paths = [grading_key.key_path()]
    top = os.path.join(KIT_ROOT, "autograder", "assignments")
    for package in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        for name in ("checks.py", "protocol.py"):
            path = os.path.join(top, package, name)
            if os.path.exists(path):
                paths.append(path)
    return [p for p in paths if os.path.exists(p)]


def _namespace_of(pid, kind):
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def worker_pid(launcher_pid):
    """The worker's PID as the judge sees it: the launcher itself, or unshare's only child."""
    if not pid_namespace_prefix() and not namespace_plan()[0]:
        return launcher_pid
    try:
        with open(f"/proc/{launcher_pid}/task/{launcher_pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        return children[0] if children else launcher_pid
    except OSError:
        return launcher_pid


def assess(report, owner, pid):
    """The protection record for results.json `extra_data`: which layers are in force, what the
    worker's self-test saw, whether each property holds, and `refuse` (a message) when the
    hidden material was readable."""
    report = report if isinstance(report, dict) else {}
    test = report.get("selftest") if isinstance(report.get("selftest"), dict) else {}
    namespaces = {kind: _namespace_of(pid, kind) not in (None, _namespace_of("self", kind))
                  for kind in ("ipc", "net", "mnt", "pid", "user")}
    layers = {"grading_uid": owner[0] if owner else None,
              "landlock_abi": report.get("landlock", 0),
              "seccomp": report.get("seccomp") is True,
              "namespaces": sorted(k for k, v in namespaces.items() if v),
              "hidden_files_root_only": hidden_files_root_only()}
    sockets = test.get("sockets") if isinstance(test.get("sockets"), dict) else {}
    holds = {
        "hidden_files": test.get("hidden_readable") == [],
        "network": bool(sockets) and all(v in ("refused", "no route", "blocked") for v in sockets.values()),
        "sysv_ipc": test.get("sysv_ipc") == "refused" or (test.get("sysv_ipc") == "created" and namespaces["ipc"]),
        "keyring": test.get("keyring") == "refused",
        "host_processes": test.get("other_processes") == 0,
        "leftovers_swept": owner is not None,
    }
    record = {"uid": report.get("uid"), "landlock": report.get("landlock", 0), "layers": layers,
              "holds": holds, "selftest": test}
    missing = [name for name, ok in holds.items() if not ok]
    if missing:
        _warn(f"rnnkit: the worker's sandbox does not hold for: {', '.join(missing)} "
              f"(layers in force: {layers}); see README, Threat model")
    if not holds["hidden_files"] and os.environ.get(ALLOW_READABLE_ENV) != "1":
        readable = test.get("hidden_readable") or ["(the self-test did not run)"]
        record["refuse"] = (
            "The autograder refused to grade: on this machine the sandbox that runs the submission "
            f"could read the hidden checks ({', '.join(map(str, readable[:3]))}). No student code was "
            "run. Instructor: grade on a machine where the worker is confined (Linux with Landlock, "
            "or as root with the autograder's files root-only, as run_autograder sets them up); "
            f"set {ALLOW_READABLE_ENV}=1 only to grade trusted notebooks anyway.")
    return record


def hidden_files_root_only():
    """Whether file modes alone keep every canary from a grading uid (no group, not the owner):
    some directory on the way lacks o+x, or the file lacks o+r; and root owns it."""
    paths = hidden_canaries()
    for path in paths:
        if readable_by_others(path):
            return False
    return bool(paths)


def readable_by_others(path):
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    try:
        for i in range(1, len(parts)):
            if not os.stat(os.sep.join(parts[:i]) or os.sep).st_mode & 0o001:
                return False
        st = os.stat(path)
    except OSError:
        return False
    return bool(st.st_mode & 0o004) or st.st_uid != 0


def _warn(message):
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr)

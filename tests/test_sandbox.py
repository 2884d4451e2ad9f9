"""The worker's sandbox layers, one at a time (autograder/judge/isolation.py, autograder/worker/).

Each layer is tested on its own, so that each is known to hold where the others are refused:
the seccomp filter in a plain process, the transient grading uid and its sweep (root), the
iterative scratch removal, the set of files copied beside the worker. The environment matrix
(tests/test_sandbox_matrix.py) runs them together under Docker-shaped restrictions.
"""
import errno
import json
import os
import subprocess
import sys
import time

import pytest

from autograder.judge import isolation

SANDBOX = isolation.WORKER_DIR
ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="transient grading uids are made by a root judge")
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "aarch64"),
                           reason="the seccomp filter is for Linux on x86_64 and aarch64")

PROBE = r'''
import ctypes, errno, json, os, socket, subprocess, sys, threading
sys.path.insert(0, sys.argv[1])
import seccomp
seccomp.install()
libc = ctypes.CDLL(None, use_errno=True)
out = {"mode": seccomp.mode()}
def err(result):
    return 0 if result >= 0 else ctypes.get_errno()
for name, args in {"tcp": (socket.AF_INET, socket.SOCK_STREAM), "udp": (socket.AF_INET, socket.SOCK_DGRAM),
                   "udp6": (socket.AF_INET6, socket.SOCK_DGRAM), "raw": (socket.AF_INET, socket.SOCK_RAW, 1),
                   "netlink": (socket.AF_NETLINK, socket.SOCK_RAW), "unix": (socket.AF_UNIX, socket.SOCK_STREAM)}.items():
    try:
        socket.socket(*args).close()
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
try:
    socket.socketpair(socket.AF_INET)
    out["socketpair_inet"] = 0
except OSError as e:
    out["socketpair_inet"] = e.errno
out["socketpair_unix"] = len(socket.socketpair())
out["shmget"] = err(libc.shmget(0, 4096, 0o1600))
out["msgget"] = err(libc.msgget(0, 0o1600))
out["semget"] = err(libc.semget(0, 1, 0o1600))
nr = lambda name: seccomp.SYSCALLS[name][seccomp.ARCHES[os.uname().machine][0]]
call = lambda name, *a: err(libc.syscall(ctypes.c_long(nr(name)), *[ctypes.c_long(x) for x in a]))
out["keyctl"] = call("keyctl", 0, -4, 0)
out["add_key"] = call("add_key", 0, 0, 0, 0, -4)
out["unshare"] = err(libc.unshare(0x10000000))
out["clone_newuser"] = call("clone", 0x10000000 | 17, 0, 0, 0, 0)
out["clone3"] = call("clone3", 0, 0)
out["ptrace"] = call("ptrace", 16, 1, 0, 0)  # PTRACE_ATTACH to pid 1
out["mount"] = call("mount", 0, 0, 0, 0, 0)
out["setns"] = call("setns", 0, 0)
out["bpf"] = call("bpf", 0, 0, 0)
out["perf_event_open"] = call("perf_event_open", 0, 0, -1, -1, 0)
out["userfaultfd"] = call("userfaultfd", 0)
out["io_uring_setup"] = call("io_uring_setup", 1, 0)
out["process_vm_readv"] = call("process_vm_readv", 1, 0, 0, 0, 0, 0)
ran = []
t = threading.Thread(target=lambda: ran.append(1)); t.start(); t.join()
out["thread"] = ran == [1]
out["subprocess"] = subprocess.run(["/bin/sh", "-c", "echo ok"], capture_output=True, text=True).stdout.strip()
pid = os.fork()
if pid == 0:
    os._exit(3)
out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
import torch
out["torch"] = float(torch.nn.RNN(2, 3)(torch.ones(1, 2, 2))[0].sum().item()) != 0
print(json.dumps(out))
'''


@LINUX
def test_seccomp_filter_refuses_what_student_code_has_no_business_doing():
    run = subprocess.run([sys.executable, "-c", PROBE, SANDBOX], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.splitlines()[-1])
    assert out["mode"] == 2
    for name in ("tcp", "udp", "udp6", "raw", "netlink", "socketpair_inet", "shmget", "msgget", "semget", "keyctl",
                 "add_key", "unshare", "clone_newuser", "ptrace", "mount", "setns", "bpf", "perf_event_open",
                 "userfaultfd", "io_uring_setup", "process_vm_readv"):
        assert out[name] == errno.EPERM, (name, out)
    assert out["clone3"] == errno.ENOSYS  # glibc then falls back to clone, whose flags the filter reads
    assert out["unix"] == 0 and out["socketpair_unix"] == 2
    assert out["thread"] and out["subprocess"] == "ok" and out["fork"] == 3 and out["torch"]


def test_seccomp_program_dispatches_on_the_architecture():
    from autograder.worker import seccomp
    insns = seccomp.program()
    assert insns[0] == (0x20, 0, 0, 4)  # load the architecture first
    audits = {k for code, _, _, k in insns[:6] if code == 0x15}
    assert audits == {seccomp.AUDIT_ARCH_X86_64, seccomp.AUDIT_ARCH_AARCH64}
    assert insns[5] == (0x06, 0, 0, seccomp.RET_ERRNO | errno.EPERM)  # any other architecture: refused
    for name, numbers in seccomp.SYSCALLS.items():
        assert len(numbers) == 2 and all(isinstance(n, int) for n in numbers), name


def test_the_worker_gets_exactly_the_generic_worker_files(tmp_path):
    scratch = isolation.Scratch(None)
    try:
        assert sorted(os.listdir(scratch.kit)) == ["landlock.py", "seccomp.py", "training_session.py", "wire.py",
                                                   "worker.py"]
        for name in os.listdir(scratch.kit):  # no assignment content: no model class, no answer
            with open(os.path.join(scratch.kit, name)) as f:
                text = f.read()
            for answer in ("NextNumberModel", "RNNPredictor", "SequenceClassifier", "SimpleRNN", "reference_models"):
                assert answer not in text, (name, answer)
    finally:
        scratch.remove(time.monotonic() + 30)
    assert not os.path.exists(scratch.root)


def _deep_tree(top, depth):
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for level in range(depth):
        os.mkdir("d" * 40, dir_fd=fd)
        with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "w") as f:
            f.write("x")
        os.symlink("/etc/passwd", "link", dir_fd=fd)
        child = os.open("d" * 40, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.mkdir("locked", 0o000, dir_fd=fd)
    os.close(fd)


def test_scratch_removal_is_iterative_and_survives_a_deep_tree(tmp_path):
    top = str(tmp_path / "deep")
    os.mkdir(top)
    _deep_tree(top, 1500)  # 61,500 characters of path: no recursion, no long paths
    started = time.monotonic()
    isolation.remove_tree(top, time.monotonic() + 60)
    assert not os.path.exists(top)
    assert os.path.exists("/etc/passwd")
    assert time.monotonic() - started < 30


def test_scratch_removal_stops_at_its_deadline(tmp_path):
    top = str(tmp_path / "deep")
    os.mkdir(top)
    _deep_tree(top, 50)
    isolation.remove_tree(top, time.monotonic() - 1)  # already late: leaves the rest, raises nothing
    assert os.path.exists(top)
    isolation.remove_tree(top, None)
    assert not os.path.exists(top)


@ROOT
def test_parallel_gradings_never_share_a_uid(tmp_path):
    leases = [isolation.GradingUid(lock_dir=str(tmp_path)) for _ in range(3)]
    try:
        uids = [lease.acquire()[0] for lease in leases]
        assert len(set(uids)) == 3
        assert all(isolation.UID_FIRST <= u < isolation.UID_FIRST + isolation.UID_COUNT for u in uids)
    finally:
        for lease in leases:
            lease.release()


LEAVE_STATE = r'''
import ctypes, os, subprocess, sys
marker = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
key = int(sys.argv[2])
print(libc.shmget(key, 1 << 20, 0o1666), libc.msgget(key + 1, 0o1666), libc.semget(key + 2, 1, 0o1666))
nr = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
print(libc.syscall(ctypes.c_long(nr), b"user", marker.encode(), b"answers", ctypes.c_long(7), ctypes.c_long(-4)))
for d in ("/tmp", "/dev/shm", "/var/tmp"):
    with open(os.path.join(d, marker), "w") as f:
        f.write("answers")
subprocess.Popen(["/bin/sh", "-c", f"trap '' TERM HUP; sleep 600; : {marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

READ_KEY = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": 249, "aarch64": 218}[os.uname().machine]  # request_key: search the user keyring
print(libc.syscall(ctypes.c_long(nr), b"user", sys.argv[1].encode(), None, ctypes.c_long(0)))
'''


@ROOT
def test_sweep_leaves_nothing_of_a_grading_uid(tmp_path):
    """What one grading's uid leaves (a detached process, SysV shm/msg/sem, a key in its user keyring,
    files in /tmp, /dev/shm, /var/tmp) is gone after the sweep, so a later grading under the same uid
    finds nothing to replay."""
    lease = isolation.GradingUid(lock_dir=str(tmp_path))
    uid, gid = lease.acquire()
    marker = f"rnnkit-sweep-{os.getpid()}"
    key = 0x5EED0000 + os.getpid() % 0xFFFF
    try:
        run = subprocess.run(["/usr/bin/python3", "-c", LEAVE_STATE, marker, str(key)], user=uid, group=gid,
                             extra_groups=[], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert all(int(v) >= 0 for v in run.stdout.split()), run.stdout
        time.sleep(0.2)
        assert isolation.uid_processes(uid) and isolation.sysv_objects(uid)
        assert len(isolation.uid_files(uid)) == 3
        left = isolation.sweep_uid(uid, time.monotonic() + 30)
        assert left == []
        assert isolation.uid_processes(uid) == [] and isolation.sysv_objects(uid) == []
        assert isolation.uid_files(uid) == []
        found = subprocess.run(["/usr/bin/python3", "-c", READ_KEY, marker], user=uid, group=gid, extra_groups=[],
                               capture_output=True, text=True, timeout=60)
        assert int(found.stdout.strip()) < 0, "the key is still in the grading uid's user keyring"
    finally:
        isolation.sweep_uid(uid, time.monotonic() + 30)
        lease.release()


# -- the layers together, through the engine ---------------------------------------------------
STORE = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for make in (lambda: libc.shmget(KEY, 1 << 20, 0o1666), lambda: libc.msgget(KEY + 1, 0o1666)):
    make()
nr = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
libc.syscall(ctypes.c_long(nr), b"user", b"MARKER", b"answers", ctypes.c_long(7), ctypes.c_long(-4))
for d in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        with open(os.path.join(d, "MARKER"), "w") as f:
            f.write("answers")
    except OSError:
        pass
'''
REPLAY = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
found = []
if libc.shmget(KEY, 0, 0) >= 0: found.append("shm")
if libc.msgget(KEY + 1, 0) >= 0: found.append("msg")
nr = {"x86_64": 249, "aarch64": 218}[os.uname().machine]
if libc.syscall(ctypes.c_long(nr), b"user", b"MARKER", None, ctypes.c_long(0)) >= 0: found.append("key")
found += [d for d in ("/tmp", "/dev/shm", "/var/tmp") if os.path.exists(os.path.join(d, "MARKER"))]
if found:
    raise ValueError("REPLAYED " + " ".join(found))
raise LookupError("NOTHING-TO-REPLAY")
'''


def _with_cell(notebook, source):
    import nbformat
    built = nbformat.from_dict(json.loads(nbformat.writes(notebook)))
    first = next(i for i, c in enumerate(built.cells) if c.cell_type == "code")
    built.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    return built


@ROOT
def test_a_later_grading_finds_nothing_an_earlier_one_left(grade, published):
    """One submission stores answers where the next grading on this machine could read them (SysV
    shm and msg, the user keyring, /tmp, /dev/shm, /var/tmp); a later blank submission finds none."""
    blank = published("rnn-basics")[0]
    marker, key = f"rnnkit-replay-{os.getpid()}", 0x5EE00000 + os.getpid() % 0xFFFF
    fill = lambda s: s.replace("MARKER", marker).replace("KEY", str(key))
    first, _ = grade("rnn-basics", _with_cell(blank, fill(STORE)), name="store.ipynb", cell_timeout=20, budget=60)
    protection = first["extra_data"]["protection"]
    assert all(protection["holds"].values()), protection
    later, _ = grade("rnn-basics", _with_cell(blank, fill(REPLAY)), name="replay.ipynb", cell_timeout=20, budget=60)
    text = json.dumps(later)
    assert "REPLAYED" not in text and "NOTHING-TO-REPLAY" in text, text[:2000]
    assert not any(os.path.exists(os.path.join(d, marker)) for d in ("/tmp", "/dev/shm", "/var/tmp"))


def test_refuses_to_grade_when_the_worker_could_read_hidden_files(monkeypatch, published, tmp_path):
    """Fail closed: with Landlock off and a hidden file readable to the worker, no student code runs and
    results.json tells the instructor why; the other missing layers are only warned about."""
    from autograder import assignments
    from autograder.judge import engine
    import nbformat
    import tempfile
    readable = tempfile.mkdtemp(prefix="rnnkit-canary-")
    os.chmod(readable, 0o755)
    canary = os.path.join(readable, "checks.py")
    with open(canary, "w") as f:
        f.write("ANSWER = 42\n")
    os.chmod(canary, 0o644)
    marker = os.path.join(readable, "student-code-ran")
    try:
        monkeypatch.setattr(isolation, "hidden_canaries", lambda: [canary])
        monkeypatch.setattr(isolation, "landlock_abi", lambda: 0)
        notebook = _with_cell(published("rnn-basics")[1], f"open({marker!r}, 'w').close()\n")
        path = str(tmp_path / "reference.ipynb")
        nbformat.write(notebook, path)
        results = engine.grade_or_report(assignments.load("rnn-basics"), path)
        assert results["score"] == 0
        assert "refused to grade" in results["output"] and canary in results["output"]
        assert not os.path.exists(marker), "student code ran although the sandbox did not hold"
        monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")  # the instructor's explicit override
        assert engine.grade_or_report(assignments.load("rnn-basics"), path)["score"] == 20
    finally:
        isolation.remove_tree(readable)


@ROOT
@pytest.mark.skipif(not os.path.exists("/usr/sbin/capsh") and not os.path.exists("/sbin/capsh"), reason="needs capsh")
def test_root_without_cap_sys_admin_still_grades_as_its_grading_uid(tmp_path):
    """Root without CAP_SYS_ADMIN where user namespaces are allowed: the kit must not pick a user
    namespace that maps only root (the worker could not become its grading uid and every
    submission scored 0); the reference still gets full marks, as a transient uid."""
    from autograder.paths import solution_path
    assert subprocess.run(["unshare", "--user", "--map-root-user", "true"]).returncode == 0, \
        "user namespaces are not allowed here: this case cannot be reproduced"
    out = str(tmp_path / "results.json")
    command = f'exec {sys.executable} -m autograder grade rnn-basics "$0" -o "$1"'
    run = subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", command, solution_path("rnn-basics"), out],
                         cwd=isolation.KIT_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    with open(out) as f:
        results = json.load(f)
    protection = results["extra_data"]["protection"]
    assert results["score"] == 20, (results["output"], protection, run.stderr[-2000:])
    assert isolation.UID_FIRST <= protection["uid"] < isolation.UID_FIRST + isolation.UID_COUNT
    assert protection["layers"]["namespaces"] == [] and protection["layers"]["seccomp"]


def test_worker_memory_cap_follows_the_container_and_the_worker_dies_first(monkeypatch):
    monkeypatch.setattr(isolation, "cgroup_memory_limit", lambda: 768 * 10**6)
    judge = isolation.process_memory()
    expected = max(768 * 10**6 - judge - isolation.JUDGE_MEMORY_RESERVE, isolation.MIN_WORKER_MEMORY)
    assert abs(isolation.worker_memory_cap() - expected) < 32 << 20
    monkeypatch.setattr(isolation, "cgroup_memory_limit", lambda: 16 * 10**9)
    assert isolation.worker_memory_cap() == isolation.DEFAULT_WORKER_MEMORY
    monkeypatch.setattr(isolation, "cgroup_memory_limit", lambda: None)
    from autograder.judge.worker_client import WorkerProcess
    worker = WorkerProcess(memory_bytes=700 << 20)
    worker.start()
    try:
        pid = isolation.worker_pid(worker.proc.pid)
        with open(f"/proc/{pid}/oom_score_adj") as f:
            assert f.read().strip() == "1000"  # the OOM killer's first choice: never the judge
        with open(f"/proc/{pid}/limits") as f:
            data = next(line for line in f if line.startswith("Max data size"))
        assert data.split()[3] == str(700 << 20)
        assert worker.status["memory_cap"] == 700 << 20
    finally:
        worker.stop()


@pytest.mark.slow
def test_peak_memory_of_a_grading_fits_gradescopes_default_container():
    """Judge and worker together (sum of PSS, sampled) for the heaviest assignment's reference:
    at most 600 MB of the default 768 MB container (`make memory` measures every assignment)."""
    from autograder.tools import memory
    peak = memory.measure("sequence-memory")
    assert peak["score"] == 10, peak
    assert peak["peak"] <= 600 * memory.MB, peak

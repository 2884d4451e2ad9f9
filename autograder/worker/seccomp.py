"""A seccomp filter for the worker: the system calls student code has no business making.

Installed by the worker after its libraries are loaded and before any student code runs, with
no_new_privs, so it needs no privilege and works inside Docker (whose own profile allows
seccomp(2)). It holds on its own where the kernel refuses namespaces or Landlock:

- sockets of any family but AF_UNIX (socket and socketpair: TCP, UDP, IPv6, raw, netlink, ...);
  io_uring is refused too, since it can open sockets without socket(2);
- SysV IPC (shm*, msg*, sem*) and POSIX message queues: objects that outlive their processes;
- the kernel keyring (add_key, request_key, keyctl): keys that outlive their processes;
- ptrace, process_vm_readv/writev, pidfd_getfd, kcmp: reading other processes;
- new namespaces and mounts (unshare, setns, mount and the new mount API, umount2,
  pivot_root, chroot, clone with a CLONE_NEW* flag); clone3 passes its flags in memory, where
  a filter cannot read them, so it fails with ENOSYS and glibc falls back to clone;
- bpf, perf_event_open, userfaultfd, and the administrator's calls (modules, kexec, reboot,
  swap, accounting, quotas, syslog, file handles, fanotify).

Why a hand-written BPF program rather than libseccomp (or pyseccomp, its ctypes binding):
this file is copied beside the worker, which imports nothing from the kit and nothing that
might be missing from the grading image; the filter is about forty instructions per
architecture, built here from tables of syscall numbers (x86_64 and aarch64, checked against
the running architecture inside the filter: any other architecture, including the 32-bit and
x32 ABIs on x86_64, gets EPERM for everything), and its behaviour is tested directly
(tests/test_sandbox.py). libseccomp would bring its own version skew (syscall tables of its
release) for no gain in a filter this small. Standard library only.
"""
import ctypes
import errno
import os
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
_X32_BIT = 0x40000000

RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
RET_KILL_PROCESS = 0x80000000

_LD_W_ABS, _JEQ, _JGE, _JSET, _JA, _RET = 0x20, 0x15, 0x35, 0x45, 0x05, 0x06
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # offsets in struct seccomp_data (little-endian)

AF_UNIX = 1
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

# name: (x86_64, aarch64); None where the architecture has no such call.
SYSCALLS = {
    "socket": (41, 198), "socketpair": (53, 199), "clone": (56, 220), "clone3": (435, 435),
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197),
    "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191), "semtimedop": (220, 192),
    "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187),
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182),
    "mq_timedreceive": (243, 183), "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438), "kcmp": (312, 272),
    "unshare": (272, 97), "setns": (308, 268), "mount": (165, 40), "umount2": (166, 39),
    "pivot_root": (155, 41), "chroot": (161, 51), "open_tree": (428, 428), "move_mount": (429, 429),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "reboot": (169, 142),
    "swapon": (167, 224), "swapoff": (168, 225), "acct": (163, 89), "quotactl": (179, 60),
    "syslog": (103, 116), "name_to_handle_at": (303, 264), "open_by_handle_at": (304, 265),
    "fanotify_init": (300, 262),
    "landlock_create_ruleset": (444, 444), "landlock_add_rule": (445, 445),
    "landlock_restrict_self": (446, 446), "seccomp": (317, 277),
}
ARCHES = {"x86_64": (0, AUDIT_ARCH_X86_64), "aarch64": (1, AUDIT_ARCH_AARCH64)}

# The worker's filter: refused outright (EPERM), or conditionally below.
DENY = ("shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
        "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
        "mq_timedreceive", "mq_notify", "mq_getsetattr", "add_key", "request_key", "keyctl",
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
        "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
        "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "bpf", "perf_event_open",
        "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "init_module",
        "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
        "swapoff", "acct", "quotactl", "syslog", "name_to_handle_at", "open_by_handle_at",
        "fanotify_init")
ENOSYS = ("clone3",)
UNIX_SOCKETS_ONLY = ("socket", "socketpair")
NO_NAMESPACE_CLONE = ("clone",)

_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1


def _insn(code, k=0, jt=0, jf=0):
    return (code, jt, jf, k)


def _arch_block(index, deny, enosys, unix_only, no_ns_clone, deny_errno=errno.EPERM):
    """The filter for one architecture, the syscall number not loaded yet. Every path ends in a
    RET, so blocks can follow each other."""
    nr = lambda name: SYSCALLS[name][index]
    refuse = _insn(_RET, RET_ERRNO | deny_errno)
    out = [_insn(_LD_W_ABS, _NR)]
    if index == 0:  # x32 syscalls share AUDIT_ARCH_X86_64 and set bit 30
        out += [_insn(_JGE, _X32_BIT, 0, 1), refuse]
    for name in deny:
        out += [_insn(_JEQ, nr(name), 0, 1), refuse]
    for name in enosys:
        out += [_insn(_JEQ, nr(name), 0, 1), _insn(_RET, RET_ERRNO | errno.ENOSYS)]
    for name in unix_only:  # domain (argument 0) must be AF_UNIX
        out += [_insn(_JEQ, nr(name), 0, 4), _insn(_LD_W_ABS, _ARG0_LOW),
                _insn(_JEQ, AF_UNIX, 0, 1), _insn(_RET, RET_ALLOW), refuse]
    for name in no_ns_clone:  # flags (argument 0 on both architectures) without CLONE_NEW*
        out += [_insn(_JEQ, nr(name), 0, 4), _insn(_LD_W_ABS, _ARG0_LOW),
                _insn(_JSET, CLONE_NEW_FLAGS, 0, 1), refuse, _insn(_RET, RET_ALLOW)]
    out.append(_insn(_RET, RET_ALLOW))
    return out


def program(deny=DENY, enosys=ENOSYS, unix_only=UNIX_SOCKETS_ONLY, no_ns_clone=NO_NAMESPACE_CLONE,
            deny_errno=errno.EPERM):
    """The BPF program as (code, jt, jf, k) tuples: dispatch on the architecture, then its block."""
    blocks = [_arch_block(i, deny, enosys, unix_only, no_ns_clone, deny_errno) for i, _ in ARCHES.values()]
    out = [_insn(_LD_W_ABS, _ARCH)]
    # ld arch; jeq X86_64 -> ja x86 block; jeq AARCH64 -> ja arm block; anything else: EPERM
    header = 1 + 2 * len(blocks) + 1
    offset = header
    for (_, audit), block in zip(ARCHES.values(), blocks):
        here = len(out)
        out += [_insn(_JEQ, audit, 0, 1), _insn(_JA, offset - (here + 2))]
        offset += len(block)
    out.append(_insn(_RET, RET_ERRNO | errno.EPERM))
    for block in blocks:
        out += block
    assert all(jt < 256 and jf < 256 for _, jt, jf, _ in out)
    return out


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp_nr():
    machine = os.uname().machine
    if machine not in ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}")
    return SYSCALLS["seccomp"][ARCHES[machine][0]]


def install(insns=None):
    """Load the filter into this process (every thread: TSYNC) for good. Raises OSError."""
    insns = program() if insns is None else insns
    raw = b"".join(struct.pack("<HBBI", *i) for i in insns)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    prog = _SockFprog(len(insns), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    result = libc.syscall(ctypes.c_long(_seccomp_nr()), ctypes.c_uint(_SECCOMP_SET_MODE_FILTER),
                          ctypes.c_uint(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"seccomp(SET_MODE_FILTER) failed: {os.strerror(error)} (thread {result})")
    return len(insns)


def mode():
    """This process's seccomp mode from /proc/self/status: 0 none, 1 strict, 2 filter."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Seccomp:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1

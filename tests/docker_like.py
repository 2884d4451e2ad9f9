"""Launchers that make this machine look like a Docker container, for tests/test_sandbox_matrix.py.

    python docker_like.py FILTER COMMAND...

installs a seccomp filter shaped like Docker's default profile (FILTER "docker": namespaces,
mounts and the keyring refused, clone3 ENOSYS; "docker-no-landlock": the same plus the Landlock
calls, as with a Docker release whose profile predates Landlock; "none": no filter), then execs
COMMAND. Capabilities are dropped by capsh around it (CAPSH_DOCKER: Docker's default set).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "autograder", "worker"))

import seccomp  # noqa: E402

# Docker's default profile refuses these without CAP_SYS_ADMIN (which its default set lacks).
DOCKER_REFUSES = ("unshare", "setns", "mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen",
                  "fsconfig", "fsmount", "fspick", "mount_setattr", "add_key", "request_key", "keyctl", "bpf",
                  "perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
                  "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog",
                  "open_by_handle_at", "name_to_handle_at", "fanotify_init")
LANDLOCK = ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self")
FILTERS = {"none": None, "docker": DOCKER_REFUSES, "docker-no-landlock": DOCKER_REFUSES + LANDLOCK}

# Docker's default capabilities (moby's oci/caps/defaults.go); capsh drops every other one.
DOCKER_CAPS = {"cap_chown", "cap_dac_override", "cap_fsetid", "cap_fowner", "cap_mknod", "cap_net_raw",
               "cap_setgid", "cap_setuid", "cap_setfcap", "cap_setpcap", "cap_net_bind_service",
               "cap_sys_chroot", "cap_kill", "cap_audit_write"}
ALL_CAPS = ["cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
            "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
            "cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
            "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct",
            "cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
            "cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control",
            "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
            "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore"]


def capsh_prefix(keep):
    """capsh arguments that drop every capability not in `keep` from the bounding set, then run
    the rest of the command line."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except OSError:
        last = len(ALL_CAPS) - 1
    drop = [c for c in ALL_CAPS[:last + 1] if c not in keep]
    return ["capsh", f"--drop={','.join(drop)}", "--", "-c", 'exec "$@"', "capsh"]


def main():
    name, command = sys.argv[1], sys.argv[2:]
    deny = FILTERS[name]
    if deny is not None:
        seccomp.install(seccomp.program(deny=deny, enosys=("clone3",), unix_only=(), no_ns_clone=("clone",)))
    os.execv(command[0], command)


if __name__ == "__main__":
    main()

"""The sandbox in the container Gradescope really runs: a Docker-shaped environment matrix.

The Gradescope zip is unpacked and set up once (setup.sh, as in tests/test_gradescope_run.py);
then run_autograder grades rnn-basics's reference, its blank notebook and a probe under each
environment: this machine as it is; capabilities reduced to Docker's default set (capsh);
plus a seccomp filter like Docker's default profile (namespaces, mounts, keyring refused;
tests/docker_like.py); plus the Landlock calls refused (a Docker release whose profile predates
Landlock); and root without CAP_SYS_ADMIN where user namespaces are allowed. In every cell:
the reference gets full marks, the blank notebook 0, and the probe (the blank notebook plus
cells that read the hidden checks and the grading key, send UDP and TCP and look a name up,
leave a process, SysV IPC objects, a key and files in /tmp) reads nothing hidden, sends nothing,
leaves nothing. The table of which layer holds where (printed, and README's protection table)
comes from the reference's results.json `extra_data`. Root only.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from autograder.judge import isolation, results
from autograder.paths import solution_path, student_path
from autograder.tools import dist, hostile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docker_like  # noqa: E402
from test_gradescope_run import clean_env, make_root, run_setup, unzip  # noqa: E402

AID = "rnn-basics"
LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_like.py")
ALL_BUT_SYS_ADMIN = set(docker_like.ALL_CAPS) - {"cap_sys_admin"}


def environments():
    docker = docker_like.capsh_prefix(docker_like.DOCKER_CAPS)
    filtered = lambda name: docker + [sys.executable, LAUNCHER, name]
    return {
        "this machine": [],
        "Docker capabilities": docker,
        "Docker capabilities + seccomp": filtered("docker"),
        "Docker capabilities + seccomp, no Landlock": filtered("docker-no-landlock"),
        "root without CAP_SYS_ADMIN, user namespaces allowed": docker_like.capsh_prefix(ALL_BUT_SYS_ADMIN),
    }


PROBE = ("read-hidden-files", "network-by-other-protocols", "state-outlives-grading", "detached-processes")

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the matrix needs root: Gradescope runs run_autograder as root, "
                       "and capsh drops capabilities only from root"),
    pytest.mark.skipif(not shutil.which("capsh") or not shutil.which("unshare"), reason="needs capsh and unshare"),
    pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="seccomp tables for x86_64, aarch64"),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    for path in (solution_path(AID), student_path(AID)):
        if not os.path.exists(path):
            pytest.skip(f"{path} is missing: run `make assign` first")
    zip_path = dist.build(AID, str(tmp_path_factory.mktemp("dist")))
    root = make_root()
    os.chmod(root, 0o755)
    try:
        for name in ("source", "submission", "results"):
            os.mkdir(os.path.join(root, name))
        unzip(zip_path, os.path.join(root, "source"))
        run_setup(root)
        shutil.copy(os.path.join(root, "source", "run_autograder"), os.path.join(root, "run_autograder"))
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_autograder(root, prefix, files):
    for sub in ("submission", "results"):
        shutil.rmtree(os.path.join(root, sub))
        os.mkdir(os.path.join(root, sub))
    for name, data in files.items():
        with open(os.path.join(root, "submission", name), "wb") as f:
            f.write(data)
    started = time.monotonic()
    run = subprocess.run([*prefix, os.path.join(root, "run_autograder")], cwd=root, env=clean_env(root),
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(os.path.join(root, "results", "results.json")) as f:
        data = json.load(f)
    results.validate(data)
    assert dist.FALLBACK_MESSAGE not in data["output"], run.stdout + run.stderr
    return data, run.stderr, time.monotonic() - started


def _table(rows):
    layers = ["grading uid", "namespaces", "Landlock", "seccomp", "root-only files"]
    holds = ["hidden_files", "network", "sysv_ipc", "keyring", "host_processes", "leftovers_swept"]
    head = "| environment | " + " | ".join(layers + holds) + " |"
    lines = [head, "|" + "---|" * (1 + len(layers) + len(holds))]
    for name, p in rows.items():
        lay = p["layers"]
        cells = ["yes" if lay["grading_uid"] else "no", ", ".join(lay["namespaces"]) or "none",
                 f"ABI {lay['landlock_abi']}" if lay["landlock_abi"] else "refused",
                 "yes" if lay["seccomp"] else "no", "yes" if lay["hidden_files_root_only"] else "no"]
        cells += ["holds" if p["holds"][h] else "NO" for h in holds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_every_environment_grades_right_and_contains_the_probe(tree):
    # the probe aims at the unpacked zip (this checkout exists on the test machine only)
    ctx = hostile.Context.create(results_paths=[os.path.join(tree, "results", "results.json")],
                                 kit=os.path.join(tree, "source"), checkout=False)
    attacks = [a for a in hostile.CORPUS if a.name in PROBE]
    with open(solution_path(AID), "rb") as f:
        reference = f.read()
    with open(student_path(AID), "rb") as f:
        blank = f.read()
    probe = hostile.assemble(AID, attacks, ctx)
    material = hostile.hidden_material(AID)
    key_hex = open(os.path.join(tree, "source", dist.KEY_IN_ZIP), "rb").read().hex()
    table, failures = {}, []
    try:
        for name, prefix in environments().items():
            graded, _, _ = run_autograder(tree, prefix, {f"{AID}.ipynb": reference})
            protection = graded["extra_data"]["protection"]
            table[name] = protection
            if graded["score"] != 20:
                failures.append(f"{name}: reference {graded['score']} ({graded['output'][:300]})")
            uid = protection.get("uid")
            if not (isolation.UID_FIRST <= (uid or 0) < isolation.UID_FIRST + isolation.UID_COUNT):
                failures.append(f"{name}: the worker ran as uid {uid}")
            if not protection["holds"]["hidden_files"]:
                failures.append(f"{name}: hidden files readable {protection['selftest']}")
            graded, _, _ = run_autograder(tree, prefix, {"Untitled.ipynb": blank})
            if graded["score"] != 0:
                failures.append(f"{name}: blank {graded['score']}")
            ctx.received()
            before = hostile.tree_state(ctx, [os.path.join(tree, "source")])
            graded, stderr, seconds = run_autograder(tree, prefix, probe.upload())
            text = hostile.visible_text(graded)
            uids = [graded["extra_data"]["protection"]["layers"]["grading_uid"]]
            found = [f"leak: {l}" for l in hostile.find_leaks(text, material, probe.text)]
            found += ["the grading key leaked"] if key_hex in text else []
            found += [f"sent: {s}" for s in ctx.received()]
            found += [f"left: {s}" for s in hostile.detect.leftover_state(ctx, uids)]
            found += [f"process: {p}" for p in hostile.Watch().leftovers(ctx.marker)]
            after = hostile.tree_state(ctx, [os.path.join(tree, "source")])
            found += [f"changed: {p}" for p in hostile.changed_files(before, after, ctx, AID)[0]
                      if not p.startswith(os.path.join(tree, "results"))]
            if graded["score"] != 0:
                found.append(f"probe scored {graded['score']}")
            for attack in attacks:
                cell = probe.first_cells[attack.name]
                fragments = [m.replace("{cell}", str(cell)) for m in attack.message.split("|")]
                if not any(f in text for f in fragments):
                    found.append(f"{attack.name}: no message {fragments}")
            failures += [f"{name}: probe: {f}" for f in found]
    finally:
        ctx.remove()
    print("\n" + _table(table))
    assert not failures, "\n".join(failures) + "\n" + _table(table)

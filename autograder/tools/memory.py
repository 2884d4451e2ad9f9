"""Peak memory of grading each assignment's reference, judge and worker together.

    rnnkit memory [--assignment ID ...] [--limit-mb 600] [--interval 0.05]

Grades each reference with `rnnkit grade` (a fresh process, as run_autograder
does) and samples, every `interval` seconds, the proportional set size (Pss of
/proc/<pid>/smaps_rollup) of that process and every process under it (the unshare launcher, the
worker and anything it starts). PSS splits shared pages between the processes that map them, so
the sum is what the container's memory cgroup is charged for. Prints one row per assignment:
peak total, the judge's and the workers' share at that moment, the worker's peak data segment
(what RLIMIT_DATA caps) and the grading's wall time; exits 1 when a peak exceeds the limit.
"""
import os
import subprocess
import sys
import time

from ..assignments import assignment_ids
from ..judge.isolation import process_memory
from ..paths import ROOT as KIT_ROOT, solution_path

MB = 1000 * 1000


def descendants(pid):
    found = [pid]
    for i in range(len(found) + 10_000):
        if i >= len(found):
            break
        try:
            for task in os.listdir(f"/proc/{found[i]}/task"):
                with open(f"/proc/{found[i]}/task/{task}/children") as f:
                    found += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def vm_data(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmData:"))
    except (OSError, StopIteration):
        return 0


def measure(assignment_id, interval=0.05):
    """{peak, judge, workers, worker_data, seconds, score} of one reference grading."""
    out = os.path.join("/tmp", f"rnnkit-memory-{os.getpid()}-{assignment_id}.json")
    command = [sys.executable, "-m", "autograder", "grade", assignment_id, solution_path(assignment_id), "-o", out]
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=KIT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    peak = {"peak": 0, "judge": 0, "workers": 0, "worker_data": 0}
    while proc.poll() is None:
        pids = descendants(proc.pid)
        sizes = {pid: process_memory(pid) for pid in pids}
        total = sum(sizes.values())
        peak["worker_data"] = max([peak["worker_data"]] + [vm_data(p) for p in pids[1:]])
        if total > peak["peak"]:
            peak.update(peak=total, judge=sizes.get(proc.pid, 0), workers=total - sizes.get(proc.pid, 0))
        time.sleep(interval)
    stderr = proc.stderr.read().decode(errors="replace")
    peak["seconds"] = time.monotonic() - started
    try:
        import json
        with open(out) as f:
            peak["score"] = json.load(f)["score"]
        os.unlink(out)
    except (OSError, ValueError, KeyError):
        peak["score"] = None
        peak["error"] = stderr[-2000:]
    return peak


def add_arguments(parser):
    from ..cli import known_assignment
    parser.add_argument("--assignment", action="append", type=known_assignment, help="an assignment id (default: all)")
    parser.add_argument("--limit-mb", type=float, default=600.0, help="peak above this fails (MB, 10^6 bytes)")
    parser.add_argument("--interval", type=float, default=0.05)


def command(args):
    ids = args.assignment or [a for a in assignment_ids() if os.path.exists(solution_path(a))]
    print("| assignment | peak total (MB) | judge (MB) | worker (MB) | worker data segment (MB) | score | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    over = []
    for aid in ids:
        m = measure(aid, args.interval)
        print(f"| {aid} | {m['peak'] / MB:.0f} | {m['judge'] / MB:.0f} | {m['workers'] / MB:.0f} | "
              f"{m['worker_data'] / MB:.0f} | {m['score']} | {m['seconds']:.1f} |", flush=True)
        if m["peak"] > args.limit_mb * MB or m["score"] is None:
            over.append(aid)
            if m.get("error"):
                print(m["error"], file=sys.stderr)
    if over:
        print(f"above {args.limit_mb:.0f} MB or not graded: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0

"""Calibration of the training checks: `rnnkit calibrate [-o dist/calibration]`.

For every training check, every candidate model of autograder.training.candidates and every
calibration seed of the assignment's protocol, this execs the candidate's source into a fresh
namespace, trains it in-process through the same TrainingSession and protocol `run` the grader
uses, and records the judge's numbers. It writes report.md (a table per check), report.json (the
raw numbers) and PNG plots (accuracy per candidate against the threshold, training curves).
The exit status is non-zero when a graded check's reference fails a seed or one of its
baselines / wrong answers passes one.
"""
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from autograder import assignments as kit_assignments
from autograder.tools.candidates import calibrated_checks, resolve
from autograder.worker.training_session import TrainingSession


def protocol_of(assignment_id):
    return kit_assignments.module(assignment_id, "protocol")


def train_candidate(assignment_id, check, candidate, seed):
    """One grading run of one candidate, exactly as the judge would do it."""
    namespace = {"__name__": "__student__"}
    source, config = resolve(assignment_id, candidate)
    exec(compile(source, f"<{candidate.label}>", "exec"), namespace)
    kwargs = dict(check.run_kwargs, class_name=candidate.class_name)
    if config is not None:
        kwargs["config"] = config
    return protocol_of(assignment_id).run(TrainingSession(namespace), seed, **kwargs)


def _warm_up():
    """Pay torch's one-time start-up costs (lazy imports on the first optimizer step) before
    timing anything, so the first candidate's CPU seconds are comparable with the others."""
    start = time.process_time()
    ns = {"nn": torch.nn}
    exec("class Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.rnn = nn.RNN(2, 2, batch_first=True)\n"
         "    def forward(self, x):\n        return self.rnn(x)[0][:, -1]\n", ns)
    session = TrainingSession(ns)
    session.new_model("Tiny", [], {}, 0)
    session.new_optimizer(0.01)
    session.train_epoch(torch.randn(8, 3, 2), torch.randint(0, 2, (8,)), 4, 0)
    return time.process_time() - start


def _spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _summarise(protocol, candidate, runs):
    val = [r["val_acc"] for r in runs]
    train = [r["train_acc"] for r in runs]
    passes = sum(r["passed"] for r in runs)
    summary = {"val_acc": _spread(val), "train_acc": _spread(train),
               "cpu_seconds": _spread([r["cpu_seconds"] for r in runs]),
               "epochs_run": _spread([r["epochs_run"] for r in runs]),
               "n_params": runs[0]["n_params"], "passes": passes, "runs": len(runs)}
    # Margin: how far the worst seed is from flipping the verdict on each criterion.
    if candidate.expect_pass is False:
        summary["val_margin"] = protocol.THRESHOLD - max(val)
    else:
        summary["val_margin"] = min(val) - protocol.THRESHOLD
    limit = getattr(protocol, "TRAIN_ACC_LIMIT", None)
    if limit is not None:
        summary["train_margin"] = (min(train) - limit if candidate.expect_pass is False
                                   else limit - max(train))
    if candidate.expect_pass is None:
        summary["verdict"] = "reported"
    elif candidate.expect_pass:
        summary["verdict"] = "OK" if passes == len(runs) else "FAIL: fails on some seed"
    else:
        summary["verdict"] = "OK" if passes == 0 else "FAIL: passes on some seed"
    return summary


def _seeds_for(protocol, seeds):
    if seeds is None:
        return list(protocol.CALIBRATION_SEEDS)
    if isinstance(seeds, int):
        return list(protocol.CALIBRATION_SEEDS[:seeds])
    return list(seeds)


def _log(message):
    print(message, flush=True)


def run_calibration(out_dir, seeds=None, assignments=None, log=_log):
    """Train every candidate on every seed, write the report into out_dir, return the report.

    seeds: None for each protocol's CALIBRATION_SEEDS, an int for the first n of them, or a list
    of seeds used for every check. assignments: ids (e.g. ["rnn-pipeline"]) or None.
    """
    torch.set_num_threads(1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": f"{platform.machine()} {platform.processor()}".strip(),
              "python": platform.python_version(), "warmup_cpu_seconds": _warm_up(),
              "checks": [], "failures": []}
    for assignment_id, check in calibrated_checks():
        if assignments is not None and assignment_id not in assignments:
            continue
        protocol = protocol_of(assignment_id)
        check_seeds = _seeds_for(protocol, seeds)
        entry = {"name": check.name, "assignment": assignment_id, "graded": check.graded, "rule": protocol.RULE,
                 "note": check.note, "threshold": protocol.THRESHOLD,
                 "train_acc_limit": getattr(protocol, "TRAIN_ACC_LIMIT", None),
                 "param_limit": getattr(protocol, "PARAM_LIMIT", None),
                 "grading_seeds": list(protocol.GRADING_SEEDS), "seeds": check_seeds,
                 "candidates": []}
        for candidate in check.candidates:
            runs = []
            for seed in check_seeds:
                outcome = train_candidate(assignment_id, check, candidate, seed)
                runs.append({"seed": seed, "val_acc": outcome.val_acc,
                             "train_acc": outcome.train_acc, "epochs_run": outcome.epochs_run,
                             "cpu_seconds": outcome.cpu_seconds,
                             "wall_seconds": outcome.wall_seconds,
                             "n_params": outcome.model["n_params"],
                             "passed": bool(protocol.passes(outcome)), "curve": outcome.curve})
            summary = _summarise(protocol, candidate, runs)
            entry["candidates"].append({
                "label": candidate.label, "role": candidate.role,
                "expect_pass": candidate.expect_pass, "note": candidate.note,
                "config": resolve(assignment_id, candidate)[1], "summary": summary, "runs": runs})
            if check.graded and summary["verdict"].startswith("FAIL"):
                report["failures"].append(f"{check.name}: {candidate.label}: {summary['verdict']}")
            v, c = summary["val_acc"], summary["cpu_seconds"]
            log(f"[{check.name}] {candidate.label}: passes {summary['passes']}/{len(runs)}, "
                f"val {v['min']:.3f}/{v['median']:.3f}/{v['max']:.3f}, "
                f"cpu/run {c['median']:.2f} s, {summary['verdict']}")
        report["checks"].append(entry)
    report["ok"] = not report["failures"]
    write_report(report, out_dir)
    return report


def _slug(name):
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-").replace("--", "-")


def _fmt(spread, digits=3):
    return "/".join(f"{spread[k]:.{digits}f}" for k in ("min", "median", "max"))


def write_report(report, out_dir):
    """report.json (raw numbers), report.md (a table per check) and the PNG plots."""
    out_dir = Path(out_dir)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    lines = ["# Calibration of the training checks", "",
             f"torch {report['torch']}, {report['threads']} thread, Python {report['python']}, "
             f"{report['machine']}. Regenerate with `rnnkit calibrate`.",
             f"One-time torch warm-up before timing: {report['warmup_cpu_seconds']:.2f} s CPU.",
             "", "Accuracies are min/median/max over the seeds. Margin: min - threshold for a "
             "candidate expected to pass, threshold - max for one expected to fail (positive = "
             "safe). CPU seconds are per grading run (one thread, training and prediction).", ""]
    lines.append(f"**Gate: {'PASSED' if report['ok'] else 'FAILED'}**")
    lines += [f"- {f}" for f in report["failures"]]
    for check in report["checks"]:
        slug = _slug(check["name"])
        rule = check["rule"]
        lines += ["", f"## {check['name']}", "",
                  f"{'Graded' if check['graded'] else 'Not graded (reported only)'}. Pass rule: "
                  f"{rule}. {check['note']}".strip(),
                  f"{len(check['seeds'])} calibration seeds; grading seeds "
                  f"{check['grading_seeds']}.", ""]
        has_train_limit = check["train_acc_limit"] is not None
        head = ["candidate", "role", "expected", "passes", "val acc", "margin", "train acc"]
        head += ["train margin"] if has_train_limit else []
        head += ["params", "epochs", "CPU s/run", "verdict"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for cand in check["candidates"]:
            s = cand["summary"]
            expected = {True: "pass", False: "fail", None: "-"}[cand["expect_pass"]]
            row = [cand["label"], cand["role"], expected, f"{s['passes']}/{s['runs']}",
                   _fmt(s["val_acc"]), f"{s['val_margin']:+.3f}", _fmt(s["train_acc"])]
            row += [f"{s['train_margin']:+.3f}"] if has_train_limit else []
            row += [f"{s['n_params']:,}", _fmt(s["epochs_run"], 0), _fmt(s["cpu_seconds"], 2),
                    s["verdict"]]
            lines.append("| " + " | ".join(row) + " |")
        notes = [f"- {c['label']}: {c['note']}" for c in check["candidates"] if c["note"]]
        notes += [f"- {c['label']} config: `{json.dumps(c['config'])}`"
                  for c in check["candidates"] if c["config"]]
        lines += [""] + notes + ["", f"![accuracy]({slug}-accuracy.png)",
                                 f"![curves]({slug}-curves.png)"]
        _plot_accuracy(check, out_dir / f"{slug}-accuracy.png")
        _plot_curves(check, out_dir / f"{slug}-curves.png")
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")


def _plot_accuracy(check, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("val_acc", "validation accuracy", check["threshold"])]
    if check["train_acc_limit"] is not None:
        metrics.append(("train_acc", "training accuracy (noisy labels)", check["train_acc_limit"]))
    cands = check["candidates"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(2 + 2.4 * len(cands) * len(metrics), 4.5),
                             squeeze=False)
    jitter = torch.Generator().manual_seed(0)
    for ax, (key, title, line) in zip(axes[0], metrics):
        data = [[r[key] for r in c["runs"]] for c in cands]
        ax.boxplot(data, widths=0.5, showfliers=False)
        for i, values in enumerate(data, start=1):
            xs = i + 0.15 * (torch.rand(len(values), generator=jitter) - 0.5)
            expected = cands[i - 1]["expect_pass"]
            color = {True: "tab:green", False: "tab:red", None: "tab:gray"}[expected]
            ax.scatter(xs.tolist(), values, s=14, alpha=0.7, color=color, zorder=3)
        ax.axhline(line, color="black", linestyle="--", linewidth=1, label=f"limit {line}")
        ax.set_xticks(range(1, len(cands) + 1))
        ax.set_xticklabels([c["label"] for c in cands], rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(title)
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"{check['name']}: {len(check['seeds'])} seeds (green: expected pass, red: "
                 "expected fail)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_curves(check, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    cands = check["candidates"]
    fig, axes = plt.subplots(1, len(cands), figsize=(3.6 * len(cands), 3.4), squeeze=False,
                             sharey=True)
    for ax, cand in zip(axes[0], cands):
        for run in cand["runs"]:
            epochs = [p["epoch"] for p in run["curve"]]
            ax.plot(epochs, [p["val_acc"] for p in run["curve"]], color="tab:blue", alpha=0.35,
                    linewidth=1)
            ax.plot(epochs, [p["train_acc"] for p in run["curve"]], color="tab:orange",
                    alpha=0.35, linewidth=1, linestyle="--")
        ax.axhline(check["threshold"], color="black", linestyle=":", linewidth=1)
        if check["train_acc_limit"] is not None:
            ax.axhline(check["train_acc_limit"], color="tab:orange", linestyle=":", linewidth=1)
        ax.set_title(cand["label"], fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1.02)
    axes[0][0].set_ylabel("accuracy (blue: validation, orange dashed: training)", fontsize=8)
    fig.suptitle(f"{check['name']}: training curves, one line per seed", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def add_arguments(parser):
    parser.add_argument("-o", "--out", default="dist/calibration", help="output directory")
    parser.add_argument("--seeds", type=int, default=None,
                        help="use only the first N calibration seeds of each check")
    parser.add_argument("--assignment", action="append", dest="assignments",
                        help="assignment id (sequence-memory, rnn-pipeline, overfitting); "
                             "repeatable; default all")


def command(args):
    report = run_calibration(args.out, seeds=args.seeds, assignments=args.assignments)
    print(f"report: {Path(args.out) / 'report.md'}")
    for failure in report["failures"]:
        print(f"CALIBRATION FAILURE: {failure}", file=sys.stderr)
    return 0 if report["ok"] else 1

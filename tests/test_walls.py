"""Issue 10: nothing a submission does can hang, crash or flood the judge.

One test (or a few) per class of attack, each written to fail on the judge as it was before the
fix: a write to a worker that stopped reading, malformed and over-deep replies, sizes that make
the judge allocate, zip bombs, over-deep notebooks, lone surrogates, cell notes copied into every
failing check, links in a submission folder, and messages that carry what the student's code
computed from hidden inputs. The hostile corpus (tests/test_hostile.py) has an entry per class too.
"""
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib

import nbformat
import pytest

from autograder import assignments, wire
from autograder.judge import results as gradescope
from autograder.judge.engine import grade_or_report
from autograder.judge.submission import SubmissionError, read_notebook
from conftest import ROOT, messages, time_scale

KIT_FAILURE = gradescope.KIT_FAILURE_MESSAGE


def notebook(*sources, markdown=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def write_notebook(tmp_path, nb, name="rnn-basics.ipynb"):
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def grade_cli(path, tmp_path, *options, assignment="rnn-basics", timeout=300):
    """`python -m autograder grade` in a subprocess: (completed process, results, seconds)."""
    out = tmp_path / "results.json"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(path), "-o", str(out), *options],
                          cwd=ROOT, capture_output=True, timeout=timeout, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    seconds = time.monotonic() - started
    data = out.read_bytes() if out.exists() else b""
    return done, (json.loads(data) if data else None), seconds


def all_text(results):
    return json.dumps(results, ensure_ascii=False)


# -- 1. the budget is a wall: a worker that stops reading cannot block the judge's write ----------
def test_send_to_a_pipe_nobody_reads_times_out():
    r, w = os.pipe()
    try:
        started = time.monotonic()
        with pytest.raises(wire.Timeout):
            wire.send(w, {"x": "y" * (1 << 20)}, deadline=time.monotonic() + 0.5)
        assert time.monotonic() - started < 3
    finally:
        os.close(r)
        os.close(w)


STOP_READING = r'''
import sys, time
sys.modules["wire"].recv = lambda *args, **kwargs: time.sleep(10 ** 6)  # the worker never reads again
'''


def test_a_worker_that_stops_reading_cannot_hang_the_judge(tmp_path):
    big = "# padding\n" * 30_000  # 300 kB: more than a pipe's buffer
    path = write_notebook(tmp_path, notebook(STOP_READING, big + "x = 1\n"))
    scale = time_scale()  # the budget is a wall on any machine; a loaded one needs it wider to start a worker
    budget = 40 * scale
    done, results, seconds = grade_cli(path, tmp_path, "--cell-timeout", f"{5 * scale:.0f}", "--budget", f"{budget:.0f}",
                                       timeout=150 * scale)
    assert done.returncode == 0, done.stderr[-2000:]
    assert seconds < budget + 30, seconds
    assert KIT_FAILURE not in all_text(results)
    assert "did not finish" in all_text(results)


def test_a_closed_channel_from_a_live_worker_cannot_hang_the_judge():
    """The worker closed its reply pipe and sleeps on (where no PID namespace's `unshare` parent
    keeps a copy of the pipe open, the judge reads end-of-file while the worker lives)."""
    import threading
    from autograder.judge.worker_client import WorkerLost, WorkerProcess
    r, w = os.pipe()
    os.close(w)
    worker = WorkerProcess()
    worker.proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
    worker.from_worker, worker.to_worker = r, os.open(os.devnull, os.O_WRONLY)
    worker.owner, worker.reader = None, threading.Thread(target=lambda: None)
    worker.reader.start()
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_catch(lambda: worker._receive(1, time.monotonic() + 5))),
                              daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(20)
    try:
        assert not thread.is_alive(), "the judge waited on a worker that closed its channel"
        assert isinstance(outcome[0], WorkerLost) and time.monotonic() - started < 10
    finally:
        if worker.proc is not None:
            worker.proc.kill()
            worker.proc.wait()


def _catch(action):
    try:
        return action()
    except Exception as e:
        return e


# -- 2. replies are data to validate --------------------------------------------------------------
def test_a_reply_nested_deeper_than_the_recursion_limit_is_a_wire_error():
    r, w = os.pipe()
    payload = b'{"id": 1, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    writer = os.fork()
    if writer == 0:
        os.close(r)
        os.write(w, struct.pack(">I", len(payload)) + payload)
        os._exit(0)
    os.close(w)
    try:
        with pytest.raises(wire.WireError):
            wire.recv(r, deadline=time.monotonic() + 10)
    finally:
        os.close(r)
        os.waitpid(writer, 0)


MALFORMED_ERROR = r'''
import gc
_worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
_handle = _worker.handle
def _malformed(request):
    if request.get("op") == "exec":
        return {"error": {"type": ["Value", "Error"], "message": {"not": "a str"}, "where": "line 3"}}
    if request.get("op") == "describe":
        return {"error": {"type": 7, "message": None, "where": {"cell": "x", "line": [1], "code": 5}}}
    return {"error": 5}
_worker.handle = _malformed
'''

DEEP_REPLY = r'''
import sys, types, json
_wire = sys.modules["wire"]
_wire.json = types.SimpleNamespace(loads=json.loads, dumps=lambda m, **k: (
    '{"id": %d, "ok": true, "x": %s}' % (m.get("id", 0), "[" * 100000 + "]" * 100000)))
'''


@pytest.mark.parametrize("attack", [MALFORMED_ERROR, DEEP_REPLY], ids=["malformed-error", "deep-reply"])
def test_a_malformed_reply_never_fails_the_kit(tmp_path, attack):
    path = write_notebook(tmp_path, notebook("import torch\n", attack, "y = 2\n", "z = 3\n"))
    outcome = grade_or_report(assignments.load("rnn-basics"), str(path), cell_timeout=10, budget=60)
    gradescope.validate(outcome)
    assert KIT_FAILURE not in all_text(outcome), outcome["output"]
    assert outcome["score"] == 0


# -- 3. the judge allocates only what the assignment can need --------------------------------------
FORGED_SIZES = r'''
import gc, sys
_wire = sys.modules["wire"]
_worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
_handle = _worker.handle
_RNN = {"input_size": 10, "hidden_size": 20000, "num_layers": 1, "batch_first": False, "dropout": 0.0, "bidirectional": False}
def _forged(request):
    if request.get("op") == "describe" and request.get("name") == "rnn":
        import torch
        return {"defined": True, "type": "torch.nn.modules.rnn.RNN", "callable": True, "is_class": False,
                "module": {"n_params": 10, "training": True, "modules": [["", "RNN", _RNN]],
                           "state": _wire.encode({"weight_ih_l0": torch.zeros(1)})}}
    return _handle(request)
_worker.handle = _forged
'''

# The peak RSS of this process alone, in kB: VmHWM belongs to the process's own memory, while
# ru_maxrss also keeps the peak of the process that forked it (Linux carries it across exec), so a
# pytest worker that had grown to 640 MiB made a 100 MiB read look like 644 MiB.
HWM = "int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"

PEAK = "import sys; from autograder import assignments; from autograder.judge.engine import grade_or_report; " \
       "r = grade_or_report(assignments.load('rnn-basics'), sys.argv[1], cell_timeout=10, budget=60); " \
       "import json; print(json.dumps({'rss': " + HWM + ", 'results': r}))"


def peak_grading(path):
    done = subprocess.run([sys.executable, "-c", PEAK, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["rss"] * 1024, out["results"]


def test_forged_layer_sizes_do_not_make_the_judge_allocate(tmp_path):
    path = write_notebook(tmp_path, notebook("import torch\nrnn = torch.nn.RNN(10, 20)\n", FORGED_SIZES))
    peak, results = peak_grading(path)
    assert peak < 1.5 * (1 << 30), f"the judge peaked at {peak / (1 << 30):.2f} GiB"
    assert KIT_FAILURE not in all_text(results)
    assert results["score"] == 0


def _zip_bomb(path, size=1 << 30, declared=1000):
    """A zip whose one notebook inflates to `size` bytes while its headers declare `declared`."""
    compressor, chunk, crc = zlib.compressobj(9, zlib.DEFLATED, -15), b"\0" * (16 << 20), 0
    parts = []
    for _ in range(size // len(chunk)):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    data = b"".join(parts)
    # by hand: local header, data, central directory, all declaring the forged size
    name = b"rnn-basics.ipynb"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), declared, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), declared,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    with open(path, "wb") as f:
        f.write(local + data + central + end)


def test_a_zip_bomb_is_inflated_with_a_cap(tmp_path):
    bomb = tmp_path / "export.zip"
    _zip_bomb(bomb)
    assert bomb.stat().st_size < 4 << 20
    code = ("import sys\nfrom autograder.judge.submission import read_notebook, SubmissionError\n"
            "try:\n    read_notebook(sys.argv[1], 'rnn-basics')\n    print('read')\n"
            "except SubmissionError as e:\n    print('refused:', e)\n"
            "print(" + HWM + ")\n")
    done = subprocess.run([sys.executable, "-c", code, str(bomb)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    verdict, rss = done.stdout.strip().splitlines()
    assert verdict.startswith("refused:"), verdict
    assert int(rss) * 1024 < 600 << 20, f"read_notebook peaked at {int(rss) / 1024:.0f} MiB"


# -- 4. odd input never crashes ------------------------------------------------------------------------
def test_a_notebook_nested_deeper_than_the_recursion_limit_is_refused(tmp_path):
    path = tmp_path / "deep.ipynb"
    path.write_text('{"cells": [], "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}")
    outcome = grade_or_report(assignments.load("rnn-basics"), str(path))
    assert KIT_FAILURE not in outcome["output"], outcome["output"]
    assert "nested" in outcome["output"]


SURROGATE = ('class Odd:\n    pass\nOdd.__qualname__ = "Odd\\ud800Class"  # type() refuses such a name; the attribute does not\n'
             'rnn = Odd()\nraise ValueError("lone \\udcff surrogate")\n')


def test_lone_surrogates_never_crash_grade(tmp_path):
    path = write_notebook(tmp_path, notebook("import torch\n", SURROGATE))
    done, results, _ = grade_cli(path, tmp_path, "--cell-timeout", "10", "--budget", "60")
    assert done.returncode == 0, done.stderr[-2000:]
    (tmp_path / "results.json").read_bytes().decode("utf-8")  # valid UTF-8
    for text in [results["output"]] + [t["output"] for t in results["tests"]] + [t["name"] for t in results["tests"]]:
        text.encode("utf-8")  # no lone surrogate survives json.load either


def test_grade_all_writes_its_report_whatever_the_text(tmp_path):
    from autograder.tools.batch import gradebook, report  # noqa: F401
    folder = tmp_path / "submissions"
    folder.mkdir()
    nbformat.write(notebook("import torch\n", SURROGATE), str(folder / "odd.ipynb"))
    nbformat.write(notebook("x = 1\n"), os.fsdecode(os.path.join(os.fsencode(folder), b"caf\xe9.ipynb")))  # not UTF-8
    os.mkfifo(folder / "pipe.ipynb")  # a FIFO among the submissions must not block the batch
    out = tmp_path / "graded"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", "rnn-basics", str(folder), "-o", str(out),
                           "-j", "1", "--budget", "60", "--cell-timeout", "10"], cwd=ROOT, capture_output=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    grades = (out / "grades.csv").read_text(encoding="utf-8")
    assert "odd" in grades and "caf" in grades
    assert (out / "report.md").read_text(encoding="utf-8").strip()


def test_the_command_line_caps_the_judge_memory():
    code = ("import resource; from autograder.judge.engine import limit_judge_memory, JUDGE_MEMORY_BYTES; limit_judge_memory(); "
            "print(resource.getrlimit(resource.RLIMIT_AS)[0] == JUDGE_MEMORY_BYTES)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
    command = open(os.path.join(ROOT, "autograder", "judge", "command.py")).read()  # `rnnkit grade`
    assert "limit_judge_memory()" in command


FORGED_STRUCTURE = r'''
import gc, sys
_wire = sys.modules["wire"]
_worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
_handle = _worker.handle
_RNN = {"input_size": 8, "hidden_size": 16, "num_layers": 1, "batch_first": True, "dropout": 0.0, "bidirectional": False}
_MODULES = [["", "RNNPredictor", {}], ["embedding", "Embedding", {"num_embeddings": 10, "embedding_dim": 8}],
            ["rnn", "RNN", _RNN], ["lstm", "LSTM", _RNN], ["fc", "Linear", {"in_features": 16, "out_features": 10}]]
def _forged(request):  # the description of a small RNN model, whatever the class holds
    if request.get("op") == "session" and request.get("method") == "new_model":
        return {"value": _wire.encode({"n_params": 666, "training": True, "modules": _MODULES})}
    if request.get("op") == "session" and request.get("method") == "forward_shape":
        return {"value": _wire.encode([3, 4, 10])}
    return _handle(request)
_worker.handle = _forged
'''


def test_a_forged_structure_description_earns_no_structure_point(tmp_path, published):
    student, _ = published("sequence-memory")
    index = next(i for i, c in enumerate(student.cells) if c.cell_type == "code" and "import torch" in c.source)
    student.cells.insert(index + 1, nbformat.v4.new_code_cell(FORGED_STRUCTURE))
    path = write_notebook(tmp_path, student, "sequence-memory.ipynb")
    outcome = grade_or_report(assignments.load("sequence-memory"), str(path), cell_timeout=20, budget=90)
    structure = [t for t in outcome["tests"] if "contains an nn.RNN" in t["name"] or "an nn.LSTM(8, 16), small" in t["name"]]
    assert len(structure) == 2 and all(t["score"] == 0 for t in structure), [(t["name"], t["output"]) for t in structure]


# -- 6. output is bounded ---------------------------------------------------------------------------------
def test_results_stay_under_a_megabyte_whatever_the_notebook(tmp_path):
    cells = [f"raise ValueError('{i} ' + 'x' * 400)\n" for i in range(1900)]
    path = write_notebook(tmp_path, notebook("import torch\n", *cells))
    outcome = grade_or_report(assignments.load("rnn-basics"), str(path), cell_timeout=10, budget=120)
    gradescope.validate(outcome)
    assert len(json.dumps(outcome).encode()) <= 1_000_000, len(json.dumps(outcome).encode())
    assert "raised ValueError" in all_text(outcome)


# -- 4. links and special files in a submission folder ---------------------------------------------
def test_a_link_in_a_submission_folder_is_refused(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    os.symlink(os.path.join(ROOT, "solutions", "rnn-basics", "rnn-basics-solution.ipynb"), folder / "rnn-basics.ipynb")
    with pytest.raises(SubmissionError, match="link"):
        read_notebook(str(folder), "rnn-basics")
    outcome = grade_or_report(assignments.load("rnn-basics"), str(folder))
    assert outcome["score"] == 0 and "link" in outcome["output"]


def test_a_fifo_or_a_linked_file_given_directly_is_refused(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    os.mkfifo(folder / "rnn-basics.ipynb")
    with pytest.raises(SubmissionError):
        read_notebook(str(folder), "rnn-basics")
    with pytest.raises(SubmissionError):
        read_notebook(str(folder / "rnn-basics.ipynb"), "rnn-basics")  # must not block on the FIFO
    link = tmp_path / "link.ipynb"
    os.symlink(os.path.join(ROOT, "solutions", "rnn-basics", "rnn-basics-solution.ipynb"), link)
    with pytest.raises(SubmissionError, match="link"):
        read_notebook(str(link), "rnn-basics")


# -- 7. redaction by construction ------------------------------------------------------------------------
HEX_EXCEPTION = r'''
def long_word_lengths(words):
    raise type("E" + "".join(words).encode().hex(), (Exception,), {})("nothing")
'''


def test_an_exception_class_named_by_the_student_is_not_echoed(tmp_path):
    from autograder.assignments.rnn_basics import checks
    path = write_notebook(tmp_path, notebook("import torch\n", HEX_EXCEPTION))
    outcome = grade_or_report(assignments.load("rnn-basics"), str(path), cell_timeout=10, budget=60)
    text = all_text(outcome)
    for words in checks.Q4_TYPICAL + checks.Q4_EDGES:
        if words:
            assert "".join(words).encode().hex() not in text
    assert "an exception class defined in your notebook" in messages(outcome, "q4")


SEED_EXCEPTION = r'''
import torch
_Base = RNNPredictor
class RNNPredictor(_Base):
    def forward(self, x):
        if self.training:
            raise type("E" + str(torch.initial_seed())[::-1], (Exception,), {})()
        return super().forward(x)
'''


def test_grading_seeds_never_reach_results_through_a_type_name(tmp_path, published):
    from autograder.assignments.sequence_memory import protocol
    from autograder.authoring.training import sub_seed
    _, solution = published("sequence-memory")
    index = next(i for i, c in enumerate(solution.cells) if "class RNNPredictor" in c.source)
    solution.cells.insert(index + 1, nbformat.v4.new_code_cell(SEED_EXCEPTION))
    path = write_notebook(tmp_path, solution, "sequence-memory.ipynb")
    outcome = grade_or_report(assignments.load("sequence-memory"), str(path), cell_timeout=30, budget=120)
    text = all_text(outcome)
    seeds = set(protocol.GRADING_SEEDS)
    seeds |= {sub_seed(s, t) for s in protocol.GRADING_SEEDS for t in ["init"] + [f"epoch{e}" for e in range(1, 60)]}
    for seed in seeds:
        assert str(seed)[::-1] not in text and str(seed) not in text, seed
    assert "an exception class defined in your notebook" in messages(outcome, "q1")

"""grade-all: a mixed folder graded in parallel, resumed, its CSVs, report and suspicious pairs."""
import copy
import io
import json
import os
import re
import shutil
import zipfile

import nbformat
import pytest

from autograder.authoring.mistakes import insert_after
from autograder.judge import engine
from autograder.tools.batch import grade_folder
from autograder.tools.batch import run as batch_run
from autograder.tools.batch.discover import discover, load_metadata, parse_shard, select_shard
from autograder.tools.batch.gradebook import merge, read_grades
from autograder.tools.batch.report import normalise_message
from autograder.tools.batch.similarity import find_pairs, normalise
from autograder.tools.examples import example_submissions
from conftest import scale_limits, time_scale

pytestmark = pytest.mark.slow  # make test-fast skips this file

# Wall-clock limits small enough to keep the hanging submission quick, times a factor measured on
# the machine once per module (conftest.time_scale): the resume and shard tests need the same
# options as the first run, since the options are part of each result's key.
OPTIONS = {"jobs": 2, "cell_timeout": 5, "budget": 120}

A_CELLS = {  # an idiosyncratic but correct answer set
    "def long_word_lengths": '''def long_word_lengths(words):
    result = {}
    for item in words:
        size = len(item)  # count letters
        if size > 3:
            result[item] = size
    return result

long_word_lengths(["a", "recurrent", "net", "reads", "text"])''',
    "def upper_word_lengths": '''def upper_word_lengths(words):
    table = dict()
    for token in words:
        if len(token) > 4:
            table[token.upper()] = len(token)
    return table''',
    "def rnn_output_shapes": '''def rnn_output_shapes(seq_len, batch, input_size, hidden_size, num_layers=1, batch_first=False):
    first, second = (batch, seq_len) if batch_first else (seq_len, batch)
    return (first, second, hidden_size), (num_layers, batch, hidden_size)''',
}
RENAMES = {"result": "out_dict", "item": "w", "size": "n_letters", "table": "acc", "token": "tk", "first": "d0",
           "second": "d1", "count letters": "how long is it"}
C_CELLS = {  # another student's independent answers
    "def long_word_lengths": '''def long_word_lengths(words):
    return dict((w, len(w)) for w in words if len(w) > 3)''',
    "def upper_word_lengths": '''def upper_word_lengths(words):
    kept = [w for w in words if len(w) > 4]
    return dict(zip([w.upper() for w in kept], map(len, kept)))''',
    "def rnn_output_shapes": '''def rnn_output_shapes(seq_len, batch, input_size, hidden_size, num_layers=1, batch_first=False):
    h_n = (num_layers, batch, hidden_size)
    if batch_first:
        return (batch, seq_len, hidden_size), h_n
    return (seq_len, batch, hidden_size), h_n''',
}
METADATA = """submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: 'S1001'
    :email: ada@example.edu
  :created_at: 2026-11-01 10:00:00.000000000 -07:00
  :score: !ruby/object:BigDecimal 18:0.2E2
submission_1002:
  :submitters:
  - :name: Bob Byte
    :sid: 'S1002'
    :email: bob@example.edu
  - :name: Eve Ext
    :sid: 'S1003'
    :email: eve@example.edu
submission_1003:
  :submitters:
  - :name: Cleo Code
    :sid: 'S1004'
    :email: cleo@example.edu
"""
EXPECTED = {"ref": 20, "blank": 0, "q4wrong": 18, "q6lists": 17, "truncated": 0, "answers": 0, "hang": 20,
            "S1001": 20, "S1002": 20, "S1003": 20, "S1004": 20}
ERRORS = {"truncated", "answers"}


def with_cells(notebook, cells, renames=None):
    notebook = copy.deepcopy(notebook)
    for anchor, source in cells.items():
        for old, new in (renames or {}).items():
            source = re.sub(rf"\b{old}\b", new, source)
        if renames:
            source = source.replace("    ", "  ").replace("\n", "\n\n")  # different layout
        cell = next(c for c in notebook.cells if c.cell_type == "code" and anchor in c.source)
        cell.source = source
    return notebook


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    subs = root / "subs"
    subs.mkdir()
    examples = {name: nb for name, nb, _ in example_submissions("rnn-basics")}
    reference = examples["reference"]
    nbformat.write(reference, subs / "ref.ipynb")
    nbformat.write(examples["blank"], subs / "blank.ipynb")
    nbformat.write(examples["mistake-q4-wrong-operator"], subs / "q4wrong.ipynb")
    with zipfile.ZipFile(subs / "q6lists.zip", "w") as z:
        z.writestr("rnn-basics.ipynb", nbformat.writes(examples["mistake-q6-lists"]))
    blank_text = nbformat.writes(examples["blank"])
    (subs / "truncated.ipynb").write_text(blank_text[: len(blank_text) // 2])
    (subs / "answers.py").write_text("rnn = torch.nn.RNN(10, 20)\n")
    nbformat.write(insert_after(reference, "num_layers=1)\n# END", "while True:\n    pass"), subs / "hang.ipynb")
    export = subs / "gradescope_export"
    export.mkdir()
    (export / "submission_metadata.yml").write_text(METADATA)
    a = with_cells(reference, A_CELLS)
    for folder_name, notebook in (("submission_1001", a), ("submission_1002", with_cells(reference, A_CELLS, RENAMES)),
                                  ("submission_1003", with_cells(reference, C_CELLS))):
        (export / folder_name).mkdir()
        nbformat.write(notebook, export / folder_name / "rnn-basics.ipynb")
    out = root / "out"
    log = io.StringIO()
    options = scale_limits(OPTIONS, time_scale())
    stats = grade_folder("rnn-basics", str(subs), str(out), stream=log, **options)
    return {"subs": subs, "out": out, "stats": stats, "log": log.getvalue(), "root": root, "options": options}


def test_every_submission_gets_its_expected_total(folder):
    stats = folder["stats"]
    rows = {r["id"]: r for r in stats["rows"]}
    assert sorted(rows) == sorted(["ref", "blank", "q4wrong", "q6lists", "truncated", "answers", "hang",
                                   "S1001", "S1002", "S1004"])
    for sid, row in rows.items():
        assert row["score"] == EXPECTED[sid], (sid, row)
        assert row["status"] == ("error" if sid in ERRORS else "graded"), (sid, row)
    assert stats["graded"] == 10 and stats["skipped"] == 0 and stats["errors"] == 2
    assert stats["timeouts"] == stats["crashes"] == 0
    assert rows["q4wrong"]["questions"]["q4"] == 0 and rows["q6lists"]["questions"]["q6"] == 0
    for sid in rows:  # results.json and its meta, streamed to disk
        results = json.loads((folder["out"] / "results" / f"{sid}.json").read_text())
        meta = json.loads((folder["out"] / "results" / f"{sid}.meta.json").read_text())
        assert results["score"] == EXPECTED[sid] and meta["kit_version"] == stats["kit_version"]
    assert "not valid JSON" in json.loads((folder["out"] / "results" / "answers.json").read_text())["output"]
    assert folder["log"].count("\n") >= 10 and "10/10 done" in folder["log"]  # not a TTY: a line per submission


def test_grades_csv_one_row_per_student(folder):
    rows = read_grades(folder["out"] / "grades.csv")
    by_sid = {r["SID"] or r["Submission"]: r for r in rows}
    assert sorted(by_sid) == sorted(EXPECTED)  # the group submission gives two rows
    loose = {"ref", "blank", "q4wrong", "q6lists", "truncated", "answers", "hang"}
    assert {r["Submission"] for r in rows if r["SID"] == ""} == loose  # never the file name as a SID
    for sid, row in by_sid.items():
        assert row["Total Score"] == EXPECTED[sid]
        assert row["Total Score"] == sum(row[f"q{i}"] for i in range(1, 9))
        assert row["Status"] == ("error" if sid in ERRORS else "graded")
        assert row["Grading Seconds"] >= 0
    assert by_sid["S1003"]["Name"] == "Eve Ext" and by_sid["S1003"]["Submission"] == "S1002"
    assert by_sid["S1001"]["Email"] == "ada@example.edu"
    canvas = (folder["out"] / "grades-canvas.csv").read_text().splitlines()
    assert canvas[0] == "Student,ID,SIS User ID,SIS Login ID,Section,rnn-basics (nn.RNN basics)"
    assert "Ada Lovelace,,S1001,ada@example.edu,,20" in canvas


def test_report_and_plots(folder):
    out = folder["out"]
    report = (out / "report.md").read_text()
    for png in ("score_histogram.png", "pass_rates.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png})" in report
    assert "| q4 | 2 | 75% |" in report  # of the 8 graded submissions, blank and q4wrong miss it
    q4 = report.split("**q4**")[1].split("**q5**")[0]  # blank and q4wrong, one message each
    assert q4.count("\n| 1 | `long_word_lengths`") == 2, q4
    failures = report.split("## Most frequent failure messages")[1].split("## Could not be graded")[0]
    assert "not valid JSON" not in failures  # unreadable files have their own section
    assert "answers" in report.split("## Could not be graded")[1].split("##")[0]
    assert "## Slowest gradings" in report and "| hang |" in report
    message = normalise_message("cell 12 raised ValueError: got 3.5, expected 2\nmore")
    assert message == "cell N raised ValueError: got N, expected N"


def test_similarity_flags_the_renamed_copy_only(folder):
    pairs = [(p.a, p.b) for p in folder["stats"]["pairs"]]
    assert pairs == [("S1001", "S1002")]
    csv_text = (folder["out"] / "similar_pairs.csv").read_text().splitlines()
    assert csv_text[1].startswith("S1001,S1002,1.000")
    assert len(folder["stats"]["pairs"][0].cells.split()) == 3  # the three rewritten answers, not the reference's
    assert "S1001 | S1002" in (folder["out"] / "report.md").read_text()


def test_resume_regrades_only_what_is_missing_or_changed(folder, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(folder["out"], out)
    subs = tmp_path / "subs"
    shutil.copytree(folder["subs"], subs)
    (out / "results" / "ref.json").unlink()  # lost result
    (out / "results" / "blank.meta.json").unlink()  # interrupted between the result and its meta
    (subs / "answers.py").write_text("print('changed')\n")  # a changed submission
    stats = grade_folder("rnn-basics", str(subs), str(out), stream=io.StringIO(), **folder["options"])
    assert sorted(stats["graded_ids"]) == ["answers", "blank", "ref"]
    assert stats["skipped"] == 7
    assert {r["id"]: r["score"] for r in stats["rows"]} == {k: v for k, v in EXPECTED.items() if k != "S1003"}
    again = grade_folder("rnn-basics", str(subs), str(out), stream=io.StringIO(), **folder["options"])
    assert again["graded"] == 0 and again["skipped"] == 10


def test_shards_partition_and_merge(folder, tmp_path):
    ids = [s.id for s in discover(str(folder["subs"]))]
    shards = [[s.id for s in select_shard(discover(str(folder["subs"])), (k, 3))] for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(ids) and all(shards)
    outs = []
    for k in (1, 2):
        out = tmp_path / f"shard{k}"
        shutil.copytree(folder["out"], out)  # the results are there already: nothing to regrade
        stats = grade_folder("rnn-basics", str(folder["subs"]), str(out), shard=(k, 2), similarity=False,
                             stream=io.StringIO(), **folder["options"])
        assert stats["graded"] == 0 and stats["total"] == len(select_shard(discover(str(folder["subs"])), (k, 2)))
        outs.append(out)
    merge([o / "grades.csv" for o in outs], tmp_path / "merged.csv")
    key = lambda rows: sorted((r["SID"], r["Total Score"]) for r in rows)  # noqa: E731
    assert key(read_grades(tmp_path / "merged.csv")) == key(read_grades(folder["out"] / "grades.csv"))
    merged = grade_folder("rnn-basics", str(folder["subs"]), str(tmp_path / "all"), merge=[str(o) for o in outs],
                          similarity=False, stream=io.StringIO(), **folder["options"])
    assert merged["graded"] == 0 and merged["skipped"] == 10
    assert parse_shard("2/5") == (2, 5)
    with pytest.raises(ValueError):
        parse_shard("6/5")


def test_hard_limit_stops_a_grading_and_writes_an_error(folder, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(folder["subs"] / "hang.ipynb", subs)
    pids = tmp_path / "worker-pids"

    class Recorded(batch_run.WorkerProcess):  # the grading process notes its workers' pids
        def _receive(self, *args, **kwargs):
            with open(pids, "a") as f:
                f.write(f"{self.proc.pid}\n")
            return super()._receive(*args, **kwargs)

    monkeypatch.setattr(batch_run, "WorkerProcess", Recorded)
    stats = batch_run.grade_all("rnn-basics", discover(str(subs)), str(tmp_path / "out"), jobs=1, budget=60,
                                hard_limit=4, stream=io.StringIO())
    row = stats["rows"][0]
    assert row["status"] == "error" and row["error_kind"] == "timeout" and stats["timeouts"] == 1
    # stopped at the hard limit (SIGTERM, SIGKILL after TERM_GRACE), long before the 60 s budget;
    # the batch's polling and the kill take a little longer on a busy machine
    assert row["seconds"] < 4 + batch_run.TERM_GRACE + 2 * time_scale() < 60, row["seconds"]
    results = json.loads((tmp_path / "out" / "results" / "hang.json").read_text())
    assert results["score"] == 0 and "hard limit of 4 s" in results["output"]
    for pid in map(int, pids.read_text().split()):  # the hung worker was stopped with its grading
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_crashing_grading_does_not_stop_the_batch(folder, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("answers.py", "truncated.ipynb"):
        shutil.copy(folder["subs"] / name, subs)

    class Crashing:  # the grading process dies for one submission (forked children see the patch)
        def __init__(self, *args, **kwargs):
            pass

        def grade(self, path):
            if path.endswith(".py"):
                os._exit(3)
            return batch_run.results.error_results("unreadable", {"q1": 2}, 0.0)

    monkeypatch.setattr(engine, "Grading", Crashing)  # what grade_or_report builds
    stats = batch_run.grade_all("rnn-basics", discover(str(subs)), str(tmp_path / "out"), jobs=2, stream=io.StringIO())
    kinds = {r["id"]: r["error_kind"] for r in stats["rows"]}
    assert kinds == {"answers": "crash", "truncated": "submission"} and stats["crashes"] == 1
    assert "exit code 3" in json.loads((tmp_path / "out" / "results" / "answers.json").read_text())["output"]


def test_metadata_tolerates_ruby_tags_and_ids_are_unique(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(METADATA)
    table = load_metadata(tmp_path / "submission_metadata.yml")
    assert table["submission_1002"][1] == {"name": "Eve Ext", "sid": "S1003", "email": "eve@example.edu"}
    for name in ("a b.ipynb", "a b.zip", ".hidden.ipynb", "notes.md"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "submission_1001").mkdir()
    ids = sorted(s.id for s in discover(str(tmp_path)))
    assert ids == ["S1001", "a_b", "a_b-2"]


def test_normalisation_ignores_names_comments_and_layout():
    one = "def f(words):\n    out = {}  # build it\n    for w in words:\n        out[w] = len(w)\n    return out\n"
    two = "def g(xs):\n\n  res = {}\n  for item in xs:   # loop\n    res[item] = len(item)\n  return res\n"
    assert normalise(one) == normalise(two)
    assert normalise("x = torch.zeros(1, 5, 20)") != normalise("x = torch.ones(1, 5, 20)")
    blank = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")])
    mine = [("a", {"cells": [{"cell_type": "code", "source": one * 4}]}),
            ("b", {"cells": [{"cell_type": "code", "source": two * 4}]}),
            ("c", {"cells": [{"cell_type": "code", "source": "def h(ws):\n    return {w: len(w) for w in ws}\n" * 4}]})]
    assert [(p.a, p.b) for p in find_pairs(mine, blank)] == [("a", "b")]


def test_command_line(folder, tmp_path):
    import subprocess
    import sys
    from conftest import ROOT
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("answers.py", "truncated.ipynb"):
        shutil.copy(folder["subs"] / name, subs)
    base = [sys.executable, "-m", "autograder", "grade-all", "rnn-basics", str(subs), "-o", str(tmp_path / "out")]
    done = subprocess.run(base + ["-j", "2"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "2 submissions: 2 graded now" in done.stdout and "2/2 done, 2 failed" in done.stderr
    assert len(read_grades(tmp_path / "out" / "grades.csv")) == 2
    for bad in (["--shard", "3/2"], ["-o", str(tmp_path / "x"), "--budget", "nope"]):
        assert subprocess.run(base + bad, cwd=ROOT, capture_output=True, timeout=300).returncode == 2
    from autograder.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["grade-all", "no-such-assignment", str(subs), "-o", str(tmp_path / "y")])
    assert exit_.value.code == 2


# -- gradebooks that import, and --shard auto, on stubbed grading (no worker: fast) -------------------
STUB_SCORES = {"alice": 20, "bob": 13, "carol": 7, "dave": 11, "S1001": 18, "S1002": 9.4, "S1005": 3}
STUB_METADATA = """submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: 'S1001'
    :email: ada@example.edu
submission_1002:
  :submitters:
  - :name: Bob Byte
    :sid: 'S1002'
    :email: bob@example.edu
  - :name: Eve Ext
    :sid: 'S1003'
    :email: eve@example.edu
submission_1004:
  :submitters:
  - :name: Nameless Student
submission_1005:
  :submitters:
  - :name: Mail Only
    :email: mail@example.edu
"""


class StubGrading:
    """Stands in for the engine: the score written in the submission ("score: N") is spread over the
    questions in order. Forked grading processes see the patch."""

    def __init__(self, assignment, **options):
        self.assignment = assignment

    def grade(self, path):
        import glob
        from autograder.judge import results
        files = sorted(glob.glob(os.path.join(path, "*"))) if os.path.isdir(path) else [path]
        with open(files[0], encoding="utf-8") as f:
            left = float(re.search(r"score: ([\d.]+)", f.read()).group(1))
        tests = []
        for qid, points in self.assignment.questions.items():
            got = results.points(min(points, left))
            left = results.exact_sum([left, -got])
            tests.append(results.test_entry(f"{qid}: stub", got, points, "stub", True))
        return results.build(tests, "stub", 0.01)


@pytest.fixture
def stub_folder(tmp_path, monkeypatch):
    """Loose files, a folder without metadata, and a Gradescope export (with a submitter who has
    no SID and no email); grading stubbed."""
    monkeypatch.setattr(engine, "Grading", StubGrading)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, suffix in (("alice", ".ipynb"), ("bob", ".ipynb"), ("carol", ".zip")):
        (subs / f"{name}{suffix}").write_text(f"score: {STUB_SCORES[name]}")
    (subs / "dave").mkdir()
    (subs / "dave" / "mine.ipynb").write_text(f"score: {STUB_SCORES['dave']}")
    export = subs / "export"
    export.mkdir()
    (export / "submission_metadata.yml").write_text(STUB_METADATA)
    for folder_name, score in (("submission_1001", 18), ("submission_1002", 9.4), ("submission_1004", 5),
                               ("submission_1005", 3)):
        (export / folder_name).mkdir()
        (export / folder_name / "rnn-basics.ipynb").write_text(f"score: {score}")
    return subs


def csv_rows(path):
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_gradebooks_import_with_the_columns_each_lms_documents(stub_folder, tmp_path):
    from autograder.tools.batch.gradebook import CANVAS_IDENTITY
    out = tmp_path / "out"
    grade_folder("rnn-basics", str(stub_folder), str(out), jobs=2, similarity=False, stream=io.StringIO(),
                 canvas_column="RNN basics (123456)")
    # Gradescope: students matched on SID or Email, Total Score the score
    header, rows = csv_rows(out / "grades.csv")
    assert header[:3] == ["SID", "Name", "Email"] and "Total Score" in header and header[-1] == "Submission"
    by_submission = {}
    for row in rows:
        by_submission.setdefault(row["Submission"], []).append(row)
    for loose in ("alice", "bob", "carol", "dave", "submission_1004"):  # no identity: never the file name as SID
        (row,) = by_submission[loose]
        assert row["SID"] == "" and row["Email"] == "", row
    assert by_submission["submission_1004"][0]["Name"] == "Nameless Student"
    assert [(r["SID"], r["Email"]) for r in by_submission["S1002"]] == [("S1002", "bob@example.edu"),
                                                                       ("S1003", "eve@example.edu")]
    (mail_only,) = [r for r in rows if r["Email"] == "mail@example.edu"]
    assert mail_only["SID"] == "" and mail_only["Total Score"] == "3"
    scores = {r["Submission"]: float(r["Total Score"]) for r in rows}
    assert scores["alice"] == 20 and scores["S1002"] == 9.4 and scores["submission_1004"] == 5
    # Canvas: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment's export header
    header, rows = csv_rows(out / "grades-canvas.csv")
    assert header == CANVAS_IDENTITY + ["RNN basics (123456)"]
    assert [(r["Student"], r["SIS User ID"], r["SIS Login ID"], r["RNN basics (123456)"]) for r in rows] == [
        ("Ada Lovelace", "S1001", "ada@example.edu", "18"), ("Bob Byte", "S1002", "bob@example.edu", "9.4"),
        ("Eve Ext", "S1003", "eve@example.edu", "9.4"), ("Mail Only", "", "mail@example.edu", "3")]
    assert all(r["ID"] == "" and r["Section"] == "" for r in rows)
    report = (out / "report.md").read_text()
    section = report.split("### Submissions without a student identity (need a match)")[1].split("\n## ")[0]
    for name in ("alice", "bob", "carol", "dave", "submission_1004"):
        assert f"| {name} |" in section, section
    assert "SID" in section and "S1001" not in section and "Mail Only" not in section
    assert "`RNN basics (123456)`" in report and "matched by hand on import" not in report


def test_without_a_canvas_column_the_report_says_to_match_it_by_hand(stub_folder, tmp_path, capsys):
    main = cli_grade_all
    out = tmp_path / "out"
    assert main(["rnn-basics", str(stub_folder), "-o", str(out), "-j", "1", "--no-similarity"]) == 0
    header, _ = csv_rows(out / "grades-canvas.csv")
    assert header[-1] == "rnn-basics (nn.RNN basics)"
    report = (out / "report.md").read_text()
    assert "**the Canvas column must be matched by hand on import.**" in report and "--canvas-column" in report
    printed = capsys.readouterr().out
    assert "matched by hand" in printed and "5 submission(s) name no student" in printed
    for bad in ("RNN basics", "RNN basics (x12)", "(123)"):
        assert main(["rnn-basics", str(stub_folder), "-o", str(out), "--canvas-column", bad]) == 2
    assert "Title (id)" in capsys.readouterr().err


SLURM_MIN_1 = [{"SLURM_ARRAY_TASK_ID": str(i), "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "3",
                "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_JOB_ID": "77"} for i in (1, 2, 3)]
KUBERNETES = [{"JOB_COMPLETION_INDEX": str(i), "RNNKIT_SHARD_COUNT": "2"} for i in (0, 1)]


def test_shard_auto_reads_slurm_and_kubernetes():
    assert [parse_shard("auto", env) for env in SLURM_MIN_1] == [(1, 3), (2, 3), (3, 3)]
    from_zero = {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}
    assert parse_shard("auto", from_zero) == (1, 4)
    stepped = [{"SLURM_ARRAY_TASK_ID": str(i), "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "14",
                "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "3"} for i in (10, 12, 14)]
    assert [parse_shard("auto", env) for env in stepped] == [(1, 3), (2, 3), (3, 3)]
    assert [parse_shard("auto", env) for env in KUBERNETES] == [(1, 2), (2, 2)]
    errors = {  # environment -> what the message must name
        "neither": ({}, "neither is set"),
        "a list of ids": ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "7",
                           "SLURM_ARRAY_TASK_COUNT": "3"}, "evenly spaced"),
        "no count": ({"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_COUNT"),
        "kubernetes without the count": ({"JOB_COMPLETION_INDEX": "0"}, "RNNKIT_SHARD_COUNT"),
        "index past the count": ({"JOB_COMPLETION_INDEX": "2", "RNNKIT_SHARD_COUNT": "2"}, "outside"),
        "both": ({**SLURM_MIN_1[0], **KUBERNETES[0]}, "both"),
    }
    for name, (env, says) in errors.items():
        with pytest.raises(ValueError, match=says):
            parse_shard("auto", env)


def test_shard_auto_without_a_scheduler_is_a_usage_error(tmp_path, monkeypatch, capsys):
    main = cli_grade_all
    for name in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    assert main(["rnn-basics", str(tmp_path), "-o", str(tmp_path / "out"), "--shard", "auto"]) == 2
    error = capsys.readouterr().err
    assert "SLURM_ARRAY_TASK_ID" in error and "JOB_COMPLETION_INDEX" in error and "RNNKIT_SHARD_COUNT" in error


@pytest.mark.parametrize("tasks", [SLURM_MIN_1, KUBERNETES], ids=["slurm-array-from-1", "kubernetes-indexed-job"])
def test_shard_auto_partitions_and_merges_to_the_single_machine_gradebook(stub_folder, tmp_path, monkeypatch, tasks):
    main = cli_grade_all
    everything = [s.id for s in discover(str(stub_folder))]
    single = tmp_path / "single"
    assert main(["rnn-basics", str(stub_folder), "-o", str(single), "-j", "2", "--no-similarity"]) == 0
    outs, seen = [], []
    for env in tasks:  # each task of the array, as the scheduler starts it
        for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT",
                     "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "RNNKIT_SHARD_COUNT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        out = tmp_path / f"shard-{len(outs)}"
        assert main(["rnn-basics", str(stub_folder), "-o", str(out), "-j", "2", "--shard", "auto",
                     "--no-similarity"]) == 0
        ids = [r["Submission"] for r in read_grades(out / "grades.csv")]
        assert ids, f"shard {len(outs)} is empty"
        seen += sorted(set(ids))
        outs.append(out)
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))  # a partition of the folder
    for name in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    merged = tmp_path / "merged"
    stats = grade_folder("rnn-basics", str(stub_folder), str(merged), merge=[str(o) for o in outs], similarity=False,
                         stream=io.StringIO())
    assert stats["graded"] == 0 and stats["skipped"] == len(everything)  # every result came from a shard
    drop = lambda rows: [{k: v for k, v in r.items() if k != "Grading Seconds"} for r in rows]  # noqa: E731
    assert drop(read_grades(merged / "grades.csv")) == drop(read_grades(single / "grades.csv"))
    assert (merged / "grades-canvas.csv").read_text() == (single / "grades-canvas.csv").read_text()
    merge([o / "grades.csv" for o in outs], tmp_path / "concatenated.csv")
    key = lambda rows: sorted((r["Submission"], r["SID"], r["Total Score"]) for r in rows)  # noqa: E731
    assert key(read_grades(tmp_path / "concatenated.csv")) == key(read_grades(single / "grades.csv"))


def cli_grade_all(args):
    """`rnnkit grade-all ARGS` in this process (so the stubbed grading holds); its exit code."""
    from autograder.cli import main
    try:
        return main(["grade-all", *args])
    except SystemExit as e:  # argparse and UsageError exit 2
        return e.code

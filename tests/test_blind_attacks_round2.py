"""The second outside tester's wins (README, code and student notebooks only), kept as regression
tests. Each is a class, defended by construction; the notebooks are the tester's own submissions
(tests/blind_attacks_round2/).

- values of unexpected dtypes and types reached torch in the judge as kit errors;
- a sequence-memory model that reads ahead told the grader's behaviour probes from training and
  passed (now each validation step is scored from its prefix: there is nothing ahead to read);
- early stopping told the worker, one bit per epoch, whether its validation predictions improved
  (a label oracle, read out through a later visible check's error message);
- a 780,000-cell nbformat 3 notebook took minutes to convert before any deadline applied;
- a million hard links in scratch made cleanup run past the budget and slowed the next grading;
- a 100,000-character expression made the check-cell parser raise MemoryError (a kit failure);
- `config["epochs"] = 10**400` overflowed float() in the range check (a kit error).
"""
import json
import os
import time

import nbformat
import pytest
import torch

from autograder import assignments
from autograder.judge import isolation
from autograder.judge.engine import grade_or_report
from autograder.judge.outcome import CheckOutcome, GradingOutcome, check_outcome, grading_outcome
from autograder.judge.plan import check_calls
from autograder.judge.probe import received
from autograder.judge.submission import MAX_CELLS, SubmissionError, read_notebook
from autograder import wire

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "blind_attacks_round2")


# -- fast: each class at its boundary ------------------------------------------------------------
def test_values_from_the_worker_arrive_in_the_judges_dtypes():
    sent = {"a": torch.ones(2, dtype=torch.float64), "b": [torch.ones(1, dtype=torch.int32)],
            "c": (torch.zeros(1, dtype=torch.float16), torch.ones(1, dtype=torch.bool))}
    got = received(wire.encode(sent))
    assert got["a"].dtype is torch.float32 and got["b"][0].dtype is torch.int64
    assert got["c"][0].dtype is torch.float32 and got["c"][1].dtype is torch.bool


def test_a_cell_the_parser_cannot_hold_is_read_by_pattern_not_a_crash():
    assert check_calls("y = " + "-" * 100_000 + "1") == ([], False)
    assert check_calls("x" + "[0]" * 50_000 + '\ngrader.check("q1")')[0] == ["q1"]


def test_an_nbformat_3_notebook_with_too_many_cells_is_refused_at_once(tmp_path):
    cells = [{"cell_type": "markdown", "source": "", "metadata": {}}] * (MAX_CELLS + 1)
    path = tmp_path / "rnn-basics.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                "worksheets": [{"cells": cells, "metadata": {}}]}))
    started = time.monotonic()
    with pytest.raises(SubmissionError, match="more than 2,000 cells"):
        read_notebook(str(path), "rnn-basics")
    assert time.monotonic() - started < 5


def test_a_config_number_too_large_for_a_float_is_a_message():
    from autograder.assignments.overfitting import protocol
    config = {"hidden_size": 32, "lr": 0.001, "epochs": 10 ** 400, "patience": 3, "batch_size": 32, "weight_decay": 0.0}
    assert protocol.config_problems(config) == ["config['epochs'] = a number that large is outside [1, 200]"]
    config["epochs"] = float("inf")
    assert "should be an int" in protocol.config_problems(config)[0]


def test_removal_keeps_its_deadline_inside_one_flat_directory(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(5000):
        (flat / f"f{i}").touch()
    isolation.remove_tree(str(flat), deadline=time.monotonic() - 1)
    assert len(os.listdir(flat)) >= 4000  # stopped after the first thousand entries, not after all


def test_a_uid_that_cannot_be_swept_clean_is_skipped(tmp_path, monkeypatch):
    first = isolation.UID_FIRST + 900
    dirty = {first + (os.getpid() % 10)}
    monkeypatch.setattr(isolation, "sweep_uid", lambda uid, deadline: ["left"] if uid in dirty else [])
    lease = isolation.GradingUid(lock_dir=str(tmp_path / "locks"), first=first, count=10)
    uid, _ = lease.acquire()
    try:
        assert uid not in dirty and first <= uid < first + 10
    finally:
        lease.release()


def test_a_model_that_reads_ahead_gains_nothing_in_sequence_memory():
    """The look-ahead cheat in its purest form: step t predicts the input at t + 1, which is the
    target. Scored from prefixes, what follows a step is never in the input."""
    from autograder.assignments.sequence_memory import protocol
    from autograder.worker.training_session import TrainingSession

    class ReadsAhead(torch.nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):
            ahead = torch.cat([x[:, 1:], x[:, -1:]], dim=1)
            return torch.nn.functional.one_hot(ahead, 10).float() * 10 * self.scale

    session = TrainingSession({"ReadsAhead": ReadsAhead})
    outcome = protocol.run(session, protocol.CALIBRATION_SEEDS[0], class_name="ReadsAhead")
    assert outcome.val_acc < 0.5 < protocol.THRESHOLD  # it would score 0.75+ on whole sequences


def test_a_worker_that_trained_on_the_grader_data_is_ended_after_that_check(tmp_path):
    from autograder.authoring import Assignment
    seen = []
    demo = Assignment(id="trained-demo", title="trained", cell_timeout=20, budget=60)

    @demo.check("q1", "trains on the grader's data")
    def trains(w):
        seen.append(w.worker)
        try:
            w.session("s").train_epoch(torch.zeros(2, 1), torch.zeros(2, dtype=torch.long), 1, 0)
        except Exception:
            pass  # no model in this session: the request alone is what counts

    @demo.check("q1", "a later check")
    def later(w):
        seen.append(w.worker)
        assert w.describe("x").value == 1

    demo.set_points({"q1": 2})
    path = tmp_path / "demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                                   nbformat.v4.new_code_cell('grader.check("q1")')]), str(path))
    from autograder.judge.engine import Grading
    results = Grading(demo).grade(str(path))
    assert seen[0] is not seen[1]  # a fresh worker, with the notebook replayed
    assert results["tests"][1]["score"] == 1


# -- slow: the tester's own submissions, graded ---------------------------------------------------
def _grade(aid, name, tmp_path):
    return grade_or_report(assignments.load(aid), os.path.join(HERE, name))


def _kit_errors(results):
    return [t["name"] for t in results["tests"] if check_outcome(t) is CheckOutcome.KIT_ERROR]


@pytest.mark.slow
def test_answers_of_other_dtypes_and_types_are_graded_never_kit_errors(tmp_path):
    results = _grade("rnn-basics", "rnn-basics-tensor-types.ipynb", tmp_path)
    assert grading_outcome(results) is GradingOutcome.GRADED and not _kit_errors(results)
    q4 = [t for t in results["tests"] if t["name"].startswith("q4: long_word_lengths on typical")][0]
    assert q4["score"] == 0 and "Python int" in q4["output"]


@pytest.mark.slow
def test_a_batch_first_rnn_with_transposes_keeps_q3(tmp_path):
    results = _grade("rnn-basics", "rnn-basics-batch-first-q3.ipynb", tmp_path)
    q3 = [t for t in results["tests"] if t["name"].startswith("q3:")]
    assert not _kit_errors(results) and all(t["score"] == t["max_score"] for t in q3), q3


@pytest.mark.slow
def test_a_model_that_tells_the_probes_apart_still_fails_sequence_memory(tmp_path):
    results = _grade("sequence-memory", "sequence-memory-probe-detect.ipynb", tmp_path)
    trained = [t for t in results["tests"] if t["name"].startswith("q1: RNNPredictor trained")]
    assert trained and trained[0]["score"] == 0, trained


@pytest.mark.slow
def test_early_stopping_tells_the_worker_nothing_a_later_message_could_carry(tmp_path):
    results = _grade("overfitting", "overfitting-early-stopping-oracle.ipynb", tmp_path)
    shown = results.get("output", "") + " ".join(t.get("output", "") for t in results["tests"])
    assert "learned" not in shown and not _kit_errors(results)

"""The calibration gate of the training checks, and the pieces it rests on.

Everything trains in-process through the same TrainingSession and protocol `run` the grader uses
in its worker, with one thread. The gate runs every reference and documented baseline on every
calibration seed; the wrong answers and the plots are left to `python -m autograder.calibrate`
(the report test runs it on one seed).
"""
import json

import pytest
import torch

from autograder.tools import calibrate
from autograder.assignments.overfitting import protocol as overfitting
from autograder.assignments.rnn_pipeline import protocol as rnn_pipeline
from autograder.assignments.sequence_memory import protocol as sequence_memory
from autograder.authoring.training import accuracy, train
from autograder.tools import candidates
from autograder.worker.training_session import TrainingSession

RNN_PREDICTOR = candidates.solution_class("sequence-memory", "RNNPredictor")
LSTM_PREDICTOR = candidates.solution_class("sequence-memory", "LSTMPredictor")
BIG_RNN_PREDICTOR = candidates.solution_class("sequence-memory", "RNNPredictor", mistake="q1-50k-parameters")
SIMPLE_RNN = candidates.solution_class("overfitting", "SimpleRNN")
REFERENCE_CONFIG = candidates.solution_literal("overfitting", "config")
OVERFITTING_CONFIG = candidates.solution_literal("overfitting", "starting_config")

torch.set_num_threads(1)

GENERATORS = [
    ("sequence_memory/course", lambda s: sequence_memory.make_data(s, "course")),
    ("sequence_memory/context", lambda s: sequence_memory.make_data(s, "context")),
    ("rnn_pipeline", rnn_pipeline.make_data),
    ("overfitting", overfitting.make_data),
]


@pytest.mark.parametrize("name,make", GENERATORS, ids=[g[0] for g in GENERATORS])
def test_data_is_deterministic_per_seed_and_differs_across_seeds(name, make):
    before = torch.get_rng_state()
    a, b, c = make(11), make(11), make(12)
    assert torch.equal(torch.get_rng_state(), before), "make_data must not use the global RNG"
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a["x_train"], c["x_train"])
    assert not torch.equal(a["y_val"], c["y_val"])


def test_sequence_memory_data_follows_the_course():
    d = sequence_memory.make_data(5, "course")
    assert d["x_train"].shape == (800, 4) and d["x_val"].shape == (200, 4)
    assert d["x_train"].dtype == torch.int64
    for x, y in ((d["x_train"], d["y_train"]), (d["x_val"], d["y_val"])):
        assert torch.equal(y, (x + 1) % 10)                 # next = previous + 1
        assert torch.equal(x[:, 1:], y[:, :-1])             # input seq[:-1], target seq[1:]
    starts = torch.cat([d["x_train"][:, 0], d["x_val"][:, 0]])
    assert set(starts.tolist()) == set(range(10))


def test_sequence_memory_context_variant_needs_the_previous_number():
    d = sequence_memory.make_data(5, "context")
    x, y = d["x_train"], d["y_train"]
    step = (y - x) % 10
    assert set(step.flatten().tolist()) == set(sequence_memory.STEPS)
    assert (step == step[:, :1]).all(), "one step size per sequence"
    # Positions 2-4 are determined by the two numbers seen so far; the current one alone is not
    # enough: the same current number is followed by different targets.
    assert torch.equal(y[:, 1:], (2 * x[:, 1:] - x[:, :-1]) % 10)
    pairs = {(int(a), int(b)) for a, b in zip(x[:, 1], y[:, 1])}
    assert len(pairs) > 10


def test_rnn_pipeline_data_shapes_and_order_only_signal():
    d = rnn_pipeline.make_data(7)
    assert d["x_train"].shape == (800, 10, 5) and d["x_val"].shape == (200, 10, 5)
    y = torch.cat([d["y_train"], d["y_val"]])
    x = torch.cat([d["x_train"], d["x_val"]])
    assert set(y.tolist()) == {0, 1, 2}
    # Every class adds the same bump, so the mean over time is the same for every class.
    means = [x[y == k].mean(dim=(1, 2)).mean().item() for k in range(3)]
    assert max(means) - min(means) < 0.03, means


def test_overfitting_data_has_exact_label_noise_and_clean_validation():
    d = overfitting.make_data(7)
    assert d["x_train"].shape == (overfitting.N_TRAIN, 5, 10)
    assert d["x_val"].shape == (overfitting.N_VAL, 5, 10)
    flipped = int((d["y_train"] != d["y_train_clean"]).sum())
    assert flipped == round(overfitting.LABEL_NOISE * overfitting.N_TRAIN)
    # The rule is learnable: the sign of the trend along the hidden direction gives the clean
    # label, so the validation labels are not noise. The first step is each sequence's own random
    # level and carries no class: no threshold on it does much better than chance.
    x, y = d["x_val"], d["y_val"]
    slope = (x[:, -1] - x[:, 0])                                  # (N, 10)
    direction = slope[y == 1].mean(0) - slope[y == 0].mean(0)
    direction /= direction.norm()
    assert accuracy(((slope @ direction) > 0).long(), y) > 0.9
    first = x[:, 0] @ direction
    best = max(max(a, 1 - a) for a in (accuracy((first > t).long(), y) for t in first.tolist()))
    assert best < 0.6, best


def test_config_ranges_accept_the_candidates_and_reject_bad_configs():
    assert overfitting.config_problems(REFERENCE_CONFIG) == []
    assert overfitting.config_problems(OVERFITTING_CONFIG) == []
    bad = dict(REFERENCE_CONFIG, lr=5.0)
    del bad["patience"]
    problems = overfitting.config_problems(bad)
    assert any("'patience'" in p for p in problems) and any("'lr'" in p for p in problems)
    assert overfitting.config_problems(dict(REFERENCE_CONFIG, hidden_size=32.5))
    assert overfitting.config_problems(dict(REFERENCE_CONFIG, epochs=True))
    with pytest.raises(ValueError, match="outside"):
        overfitting.run(_session(SIMPLE_RNN), 1, bad)


def _session(source):
    namespace = {}
    exec(source, namespace)
    return TrainingSession(namespace)


def test_parameter_limit_separates_the_big_model():
    def n_params(source, name):
        return _session(source).new_model(name, sequence_memory.MODEL_ARGS, {}, 0)["n_params"]
    assert n_params(RNN_PREDICTOR, "RNNPredictor") == 666
    assert n_params(LSTM_PREDICTOR, "LSTMPredictor") <= sequence_memory.PARAM_LIMIT
    assert n_params(BIG_RNN_PREDICTOR, "RNNPredictor") > 25 * sequence_memory.PARAM_LIMIT


# The gate: references pass and documented baselines fail on every calibration seed.
GATED = [(aid, check, cand) for aid, check in candidates.calibrated_checks() if check.graded
         for cand in check.candidates
         if cand.role in ("reference", "baseline") and cand.expect_pass is not None]


def gate_seeds(protocol, part):
    """`make test` gates on the grading key's own seeds and every fifth calibration seed; the other
    seeds are the `full` part (`make test-all`, and `make calibrate` runs them all)."""
    sample = [s for i, s in enumerate(protocol.CALIBRATION_SEEDS) if s in protocol.GRADING_SEEDS or i % 5 == 0]
    return sample if part == "sample" else [s for s in protocol.CALIBRATION_SEEDS if s not in sample]


@pytest.mark.slow
@pytest.mark.parametrize("aid,check,candidate,part", [
    pytest.param(a, c, k, part, id=f"{a}-{k.label}-{part}", marks=[pytest.mark.full] if part == "rest" else [])
    for a, c, k in GATED for part in ("sample", "rest")])
def test_calibration_gate_on_every_seed(aid, check, candidate, part):
    protocol = calibrate.protocol_of(aid)
    assert len(protocol.CALIBRATION_SEEDS) >= 20
    assert 1 <= len(protocol.GRADING_SEEDS) <= 2
    assert set(protocol.GRADING_SEEDS) <= set(protocol.CALIBRATION_SEEDS)
    wrong = {}
    for seed in gate_seeds(protocol, part):
        outcome = calibrate.train_candidate(aid, check, candidate, seed)
        if bool(protocol.passes(outcome)) != candidate.expect_pass:
            wrong[seed] = (round(outcome.val_acc, 3), round(outcome.train_acc, 3))
    should = "pass" if candidate.expect_pass else "fail"
    assert not wrong, f"{candidate.label} should {should} on every seed; (val, train): {wrong}"


def test_same_model_and_seed_give_identical_results():
    check = next(c for a, c in candidates.calibrated_checks() if a == "overfitting")
    reference = check.candidates[0]   # dropout: also checks the dropout masks are seeded
    first = calibrate.train_candidate("overfitting", check, reference, overfitting.GRADING_SEEDS[0])
    second = calibrate.train_candidate("overfitting", check, reference, overfitting.GRADING_SEEDS[0])
    assert (first.val_acc, first.train_acc, first.epochs_run) == \
        (second.val_acc, second.train_acc, second.epochs_run)
    assert first.curve == second.curve
    other = calibrate.train_candidate("overfitting", check, reference, overfitting.GRADING_SEEDS[1])
    assert other.curve != first.curve


BAD_MODELS = '''
import torch.nn as nn

class LastStepOnly(nn.Module):          # one prediction per sequence instead of one per step
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(10, input_size)
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)
    def forward(self, x):
        out, _ = self.rnn(self.embedding(x))
        return self.fc(out[:, -1])

class ReturnsTuple(LastStepOnly):
    def forward(self, x):
        out, h = self.rnn(self.embedding(x))
        return self.fc(out), h

class NotAModule:
    def __init__(self, *args):
        pass
'''


def test_training_session_explains_wrong_outputs():
    session = _session(BAD_MODELS)
    with pytest.raises(ValueError, match=r"model returned shape \(32, 10\) but the protocol "
                                         r"needs \(32, 4, 10\)"):
        sequence_memory.run(session, 1, "LastStepOnly")
    with pytest.raises(TypeError, match="one tensor"):
        sequence_memory.run(session, 1, "ReturnsTuple")
    with pytest.raises(TypeError, match="nn.Module"):
        sequence_memory.run(session, 1, "NotAModule")
    with pytest.raises(NameError, match="Missing is not defined"):
        sequence_memory.run(session, 1, "Missing")


def test_training_session_reports_structure_as_plain_data():
    info = _session(SIMPLE_RNN).new_model("SimpleRNN", [10, 32, 2], {}, 0)
    json.dumps(info)
    by_name = {name: (kind, attrs) for name, kind, attrs in info["modules"]}
    assert by_name["rnn"] == ("RNN", {"input_size": 10, "hidden_size": 32, "num_layers": 2,
                                      "dropout": 0.3, "batch_first": True,
                                      "bidirectional": False, "bias": True, "nonlinearity": "tanh"})
    assert by_name["dropout"] == ("Dropout", {"p": 0.3})
    assert by_name["fc"] == ("Linear", {"in_features": 32, "out_features": 2})


class ScriptedSession:
    """A stand-in session whose validation accuracy at each epoch is scripted, to test the loop's
    early stopping without training anything. Its 'weights' are the epoch they come from."""

    def __init__(self, val_script, data):
        self.script, self.data = val_script, data
        self.weights = self.saved = 0

    def new_optimizer(self, lr, weight_decay=0.0):
        pass

    def train_epoch(self, x, y, batch_size, seed, num_classes=None):
        self.weights += 1
        return 1.0 / self.weights

    def predict(self, x, label_shape=None, num_classes=None):
        correct = round(100 * self.script[self.weights - 1]) if x is self.data["x_val"] else 50
        return torch.tensor([0] * correct + [1] * (100 - correct))

    def snapshot(self):  # the loop must never call these: they told the worker which epochs improved
        raise AssertionError("snapshot called: an early-stopping decision reached the worker")

    def restore(self):
        raise AssertionError("restore called: the best epoch reached the worker")


def _scripted(script, **kwargs):
    data = {"x_train": torch.zeros(100, 1), "y_train": torch.zeros(100, dtype=torch.long),
            "x_val": torch.zeros(100, 1), "y_val": torch.zeros(100, dtype=torch.long)}
    session = ScriptedSession(script, data)
    return session, train(session, data, batch_size=10, lr=0.1, seed=0, num_classes=2, **kwargs)


def test_early_stopping_scores_the_best_epoch_when_it_stops_without_telling_the_worker():
    session, out = _scripted([0.5, 0.8, 0.7, 0.8, 0.6, 0.9], epochs=6, patience=3)
    assert out.stopped_early and out.epochs_run == 5 and out.best_epoch == 2
    assert out.val_acc == 0.8 and out.train_acc == 0.5
    assert [p["val_acc"] for p in out.curve] == [0.5, 0.8, 0.7, 0.8, 0.6]


def test_without_an_early_stop_the_last_weights_stand():
    session, out = _scripted([0.9, 0.6, 0.6], epochs=3, patience=3)
    assert not out.stopped_early and out.epochs_run == 3 and session.weights == 3
    assert out.val_acc == 0.6
    _, fixed = _scripted([0.9, 0.6, 0.6], epochs=3)
    assert fixed.val_acc == 0.6 and fixed.epochs_run == 3


def test_report_writer_produces_markdown_json_and_plots(tmp_path):
    report = calibrate.run_calibration(tmp_path, seeds=1, log=lambda message: None)
    assert report["ok"], report["failures"]
    text = (tmp_path / "report.md").read_text()
    for _, check in candidates.calibrated_checks():
        assert f"## {check.name}" in text
        for cand in check.candidates:
            assert cand.label in text
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 2 * len(candidates.calibrated_checks())
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png.name})" in text
    raw = json.loads((tmp_path / "report.json").read_text())
    run = raw["checks"][0]["candidates"][0]["runs"][0]
    assert {"seed", "val_acc", "train_acc", "cpu_seconds", "curve"} <= run.keys()

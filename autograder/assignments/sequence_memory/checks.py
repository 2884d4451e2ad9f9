"""Hidden checks of sequence-memory, run by the judge (API: autograder/authoring/assignment.py).

The training checks use the graded context variant of protocol.py (a step size per sequence),
where only a model with memory passes; the course data is measured in calibration only.
"""
import functools

import torch

from ...authoring import Assignment, Fail
from ...authoring.training_checks import describe_runs, expect_shape, modules_of, note, train_on_seeds, verify_structure
from ...worker.training_session import TrainingSession
from . import protocol
from .grader_model import NextNumberModel

assignment = Assignment(
    id="sequence-memory", title="sequence-memory (why RNNs handle sequences)", cell_timeout=60, budget=300)
check = assignment.check

SAMPLE = torch.tensor([[3, 4, 5, 6], [9, 1, 3, 5], [0, 3, 6, 9]])  # (batch 3, seq_len 4)
HINT = "one row of 10 scores per position: (batch, seq_len, output_size)."


def _predictor_checks(w, class_name, layer):
    info = expect_shape(w, class_name, class_name, protocol.MODEL_ARGS, SAMPLE, (3, 4, 10), HINT)
    if not modules_of(info, layer):
        raise Fail(f"`{class_name}` should use an nn.{layer} layer (found: "
                   f"{', '.join(sorted({m[1] for m in info['modules'][1:]})) or 'no layers'}).")
    counted = verify_structure(w, class_name, class_name, info, layer)  # the claims, tested on the model
    n_params = max(info["n_params"], counted)
    if n_params > protocol.PARAM_LIMIT:
        raise Fail(f"`{class_name}(8, 16, 10)` has {n_params:,} parameters; keep it under "
                   f"{protocol.PARAM_LIMIT:,} (the course asks not to grow the model drastically): use the "
                   "sizes you are given instead of bigger layers.")
    return info


def _training(w, class_name):
    run = lambda session, seed: protocol.run(session, seed, class_name=class_name)
    outcomes = train_on_seeds(w, class_name, run, protocol.GRADING_SEEDS, f"`{class_name}`")
    if not all(protocol.passes(o) for o in outcomes):
        raise Fail(f"Validation accuracy {describe_runs(outcomes)} on the grader's sequences with a step size "
                   f"per sequence (one run per hidden seed); it must be above {protocol.THRESHOLD:.0%}. Predicting "
                   "the next number needs the step, which only the previous numbers reveal: feed the whole "
                   "sequence through the recurrent layer and predict from its output at every step." + note(outcomes))


@check("q1", "RNNPredictor(8, 16, 10) returns (batch, seq_len, 10)", 1, visible=True)
def q1_shape(w):
    expect_shape(w, "RNNPredictor", "RNNPredictor", protocol.MODEL_ARGS, SAMPLE, (3, 4, 10), HINT)


@check("q1", f"RNNPredictor contains an nn.RNN and at most {protocol.PARAM_LIMIT:,} parameters", 1)
def q1_structure(w):
    _predictor_checks(w, "RNNPredictor", "RNN")


@check("q1", f"RNNPredictor trained by the protocol: validation accuracy > {protocol.THRESHOLD:.0%}", 4, timeout=150)
def q1_training(w):
    _predictor_checks(w, "RNNPredictor", "RNN")
    _training(w, "RNNPredictor")


@check("q2", "LSTMPredictor: (batch, seq_len, 10), an nn.LSTM, small", 1, visible=True)
def q2_structure(w):
    _predictor_checks(w, "LSTMPredictor", "LSTM")


@check("q2", f"LSTMPredictor trained by the protocol: validation accuracy > {protocol.THRESHOLD:.0%}", 1, timeout=150)
def q2_training(w):
    _predictor_checks(w, "LSTMPredictor", "LSTM")
    _training(w, "LSTMPredictor")


@functools.lru_cache(maxsize=1)
def grader_model():
    """A next-number model the grader trains itself on the course data (judge side)."""
    session = TrainingSession({"NextNumberModel": NextNumberModel})
    protocol.run(session, protocol.GRADING_SEEDS[0], class_name="NextNumberModel", variant="course")
    return session.model.eval()


PREDICT_CASES = [[1, 2, 3, 4], [7, 8, 9, 0, 1, 2], [5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]


def _expected_next(model, sequence):
    with torch.no_grad():
        return model(torch.tensor([sequence])).argmax(dim=-1)[0].tolist()


@check("q3", "predict_next on hidden sequences with the grader's trained model", 2)
def q3_predict_next(w):
    model = grader_model()
    for sequence in PREDICT_CASES:
        got = w.call("predict_next", model, torch.tensor(sequence))
        if isinstance(got, torch.Tensor):
            got = got.tolist()
        if isinstance(got, (list, tuple)) and len(got) == 1 and isinstance(got[0], (list, tuple)):
            raise Fail("`predict_next` returned a nested list (a batch of one): return one flat list of numbers.")
        if not isinstance(got, (list, tuple)) or len(got) != len(sequence):
            raise Fail("`predict_next` should return one predicted number per position of the sequence (as "
                       "many numbers as the sequence is long), as a flat list or a 1-d tensor.")
        if [int(v) if isinstance(v, (int, float)) else v for v in got] != _expected_next(model, sequence):
            raise Fail("`predict_next` does not return the model's predictions: run the model on the sequence "
                       "as a batch of one (shape (1, seq_len)) and take the argmax over the 10 scores at each step.")

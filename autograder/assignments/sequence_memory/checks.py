"""Hidden checks of sequence-memory, run by the judge (API: autograder/authoring/assignment.py).

The training checks use the graded context variant of protocol.py (a step size per sequence),
where only a model with memory passes; the course data is measured in calibration only.
"""
import functools

import torch

from ...authoring import Assignment, Fail
from ...worker.training_session import TrainingSession
from ...authoring.training_checks import (build, describe_runs, expect_shape, modules_of, note, run_model, same,
                                          reported_size, train_on_seeds, verify_structure)
from . import protocol
from .grader_model import NextNumberModel

assignment = Assignment(
    id="sequence-memory", title="sequence-memory (why RNNs handle sequences)", cell_timeout=60, budget=300)
check = assignment.check

SAMPLE = torch.tensor([[3, 4, 5, 6], [9, 1, 3, 5], [0, 3, 6, 9]])  # (batch 3, seq_len 4)
HINT = "one row of 10 scores per position: (batch, seq_len, output_size)."


def _predictor_checks(w, class_name, layer):
    info = expect_shape(w, class_name, class_name, protocol.MODEL_ARGS, SAMPLE, (3, 4, 10), HINT)
    layers = modules_of(info, layer)
    if not layers:
        raise Fail(f"`{class_name}` should use an nn.{layer} layer (found: "
                   f"{', '.join(sorted({m[1] for m in info['modules'][1:]})) or 'no layers'}).")
    counted = verify_structure(w, class_name, class_name, info, layer)  # the claims, tested on the model
    n_params = max(info["n_params"], counted)
    if n_params > protocol.PARAM_LIMIT:
        raise Fail(f"`{class_name}(8, 16, 10)` has {n_params:,} parameters; keep it under "
                   f"{protocol.PARAM_LIMIT:,} (the course asks not to grow the model drastically): use the "
                   "sizes you are given instead of bigger layers.")
    attrs = layers[0][2]
    if (attrs.get("input_size"), attrs.get("hidden_size")) != (8, 16):
        raise Fail(f"For `{class_name}(8, 16, 10)` the nn.{layer} should read input_size=8 values per step and keep "
                   f"hidden_size=16; yours has input_size={reported_size(attrs.get('input_size'))}, hidden_size="
                   f"{reported_size(attrs.get('hidden_size'))}. Use the constructor's arguments.")
    return info


# Longer than the training sequences: the question promises a prediction at every position of any length.
PROBE = torch.tensor([[3, 4, 5, 6, 7, 8], [9, 1, 3, 5, 7, 9], [0, 3, 6, 9, 2, 5]])


def _reads_in_order(w, class_name, memory=True):
    """Each prediction uses the numbers read so far in its own sequence, and only those: accuracy
    cannot see a model that looks ahead (the next input is the target) or mixes the batch. With
    `memory`, the earlier numbers must count too (accuracy shows that one, so training skips it)."""
    sid = class_name + "-order"
    build(w, sid, class_name, protocol.MODEL_ARGS)
    shape = tuple(PROBE.shape) + (10,)
    before = run_model(w, sid, class_name, PROBE, shape)
    for t in range(1, PROBE.shape[1]):
        later = PROBE.clone()
        later[:, t:] = (later[:, t:] + 5) % 10
        if not same(before[:, :t], run_model(w, sid, class_name, later, shape)[:, :t]):
            raise Fail(f"Changing the numbers after position {t} changed the predictions at positions 1 to {t}: a "
                       "prediction may only use the numbers read so far. A bidirectional layer (or anything that "
                       "reads ahead) sees the next number, which is the answer, so its accuracy means nothing.")
    other = PROBE.clone()
    other[0] = (other[0] + 5) % 10
    if not same(before[1:], run_model(w, sid, class_name, other, shape)[1:]):
        raise Fail("Changing one sequence of the batch changed the predictions for the others: the recurrent layer "
                   "reads the batch dimension as time. The data is (batch, seq_len): build it with batch_first=True "
                   "(or transpose to time-first before it and back after it).")
    if not memory:
        return
    first = PROBE.clone()
    first[:, 0] = (first[:, 0] + 5) % 10
    if torch.equal(before[:, 1:], run_model(w, sid, class_name, first, shape)[:, 1:]):
        raise Fail("Changing the first number of a sequence did not change the predictions at its later positions: "
                   "the model has no memory. Run the embedded sequence through the recurrent layer and apply the "
                   "linear head to its output at every step.")


def _training(w, class_name):
    _reads_in_order(w, class_name, memory=False)  # a model that looks ahead would pass on accuracy alone
    run = lambda session, seed: protocol.run(session, seed, class_name=class_name)
    outcomes = train_on_seeds(w, class_name, run, protocol.GRADING_SEEDS, f"`{class_name}`")
    if any(o.reads_ahead > protocol.READS_AHEAD_LIMIT for o in outcomes):
        raise Fail(f"After training, `{class_name}`'s predictions for earlier positions of the grader's sequences "
                   "changed when the numbers after them were cut off: the model reads ahead (a bidirectional layer "
                   "does), and the next number is the answer it must predict. Use a one-directional nn.RNN/nn.LSTM "
                   "and predict each position from the numbers read so far." + note(outcomes))
    if not all(protocol.passes(o) for o in outcomes):
        raise Fail(f"Validation accuracy {describe_runs(outcomes)} on the grader's sequences with a step size "
                   f"per sequence (one run per hidden seed); it must be above {protocol.THRESHOLD:.0%}. Predicting "
                   "the next number needs the step, which only the previous numbers reveal: feed the whole "
                   "sequence through the recurrent layer and predict from its output at every step." + note(outcomes))


@check("q1", "RNNPredictor(8, 16, 10) returns (batch, seq_len, 10)", 1, visible=True,
       public=("test_RNNPredictor_output_shape",))
def q1_shape(w):
    expect_shape(w, "RNNPredictor", "RNNPredictor", protocol.MODEL_ARGS, SAMPLE, (3, 4, 10), HINT)


@check("q1", f"RNNPredictor contains an nn.RNN(8, 16) and at most {protocol.PARAM_LIMIT:,} parameters", 1,
       public=("test_RNNPredictor_uses_RNN", "test_RNNPredictor_has_at_most_2000_parameters"))
def q1_structure(w):
    _predictor_checks(w, "RNNPredictor", "RNN")


@check("q1", "RNNPredictor predicts from the numbers read so far in each sequence, and only those", 1,
       public=("test_RNNPredictor_remembers_within_each_sequence",))
def q1_reads_in_order(w):
    _reads_in_order(w, "RNNPredictor")


@check("q1", f"RNNPredictor trained by the protocol: validation accuracy > {protocol.THRESHOLD:.0%}", 3, timeout=150)
def q1_training(w):
    _predictor_checks(w, "RNNPredictor", "RNN")
    _training(w, "RNNPredictor")


@check("q2", "LSTMPredictor: (batch, seq_len, 10), an nn.LSTM(8, 16), small", 1, visible=True,
       public=("test_LSTMPredictor_output_shape", "test_LSTMPredictor_uses_LSTM",
               "test_LSTMPredictor_has_at_most_2000_parameters"))
def q2_structure(w):
    _predictor_checks(w, "LSTMPredictor", "LSTM")


@check("q2", "LSTMPredictor predicts from the numbers read so far in each sequence, and only those", 1,
       public=("test_LSTMPredictor_remembers_within_each_sequence",))
def q2_reads_in_order(w):
    _reads_in_order(w, "LSTMPredictor")


@check("q2", f"LSTMPredictor trained by the protocol: validation accuracy > {protocol.THRESHOLD:.0%}", 2, timeout=150)
def q2_training(w):
    _predictor_checks(w, "LSTMPredictor", "LSTM")
    _training(w, "LSTMPredictor")


@functools.lru_cache(maxsize=1)
def grader_model():
    """A next-number model the grader trains itself on the course data (judge side)."""
    session = TrainingSession({"NextNumberModel": NextNumberModel})
    protocol.run(session, protocol.GRADING_SEEDS[0], class_name="NextNumberModel", variant="course")
    return session.model.eval()


# The question promises a 1-D tensor or a plain list, of any length: both kinds, one a single number.
PREDICT_CASES = [torch.tensor([1, 2, 3, 4]), [7, 8, 9, 0, 1, 2], torch.tensor([5]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]


def _expected_next(model, sequence):
    with torch.no_grad():
        return model(torch.as_tensor(sequence, dtype=torch.long)[None]).argmax(dim=-1)[0].tolist()


@check("q3", "predict_next on hidden sequences (tensors and lists) with the grader's trained model", 2,
       public=("test_predict_next_returns_a_list_of_ints", "test_predict_next_takes_the_top_score_at_each_position",
               "test_predict_next_accepts_a_list"))
def q3_predict_next(w):
    model = grader_model()
    for sequence in PREDICT_CASES:
        got = w.call("predict_next", model, sequence)
        if isinstance(got, torch.Tensor):
            raise Fail("`predict_next` returned a tensor; the question asks for a list of Python ints: use .tolist().")
        if isinstance(got, (list, tuple)) and len(got) == 1 and isinstance(got[0], (list, tuple)):
            raise Fail("`predict_next` returned a nested list (a batch of one): return one flat list of numbers.")
        if not isinstance(got, list) or len(got) != len(sequence):
            raise Fail("`predict_next` should return a list with one predicted number per position of the sequence "
                       f"(as many numbers as the sequence is long), got {type(got).__name__}.")
        if not all(type(v) is int for v in got):
            raise Fail("Every prediction should be a Python int (.tolist() on an int64 tensor gives ints); got "
                       + ", ".join(sorted({type(v).__name__ for v in got})[:3]) + ".")
        if got != _expected_next(model, sequence):
            again = w.call("predict_next", model, sequence)  # the grader's model has dropout
            if type(again) is not list or not all(type(v) is int for v in again) or again != got:
                raise Fail("`predict_next` gives different predictions for the same sequence from call to call: "
                           "the model is still in training mode, where dropout is on. Put it in evaluation mode "
                           "(model.eval()) before predicting, as the question asks.")
            raise Fail("`predict_next` does not return the model's predictions: run the model on the sequence "
                       "as a batch of one (shape (1, seq_len)) and take the argmax over the 10 scores at each step.")

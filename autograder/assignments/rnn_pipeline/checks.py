"""Hidden checks of rnn-pipeline, run by the judge (API: autograder/authoring/assignment.py).

Inputs are the grader's synthetic sequences (protocol.py); the labels never leave the judge.
"""
import torch

from ...authoring import Assignment, Fail
from ...authoring.training_checks import describe_runs, expect_shape, modules_of, note, train_on_seeds, verify_structure
from ...judge.probe import SessionModel, buildable, shape_shown
from . import protocol

assignment = Assignment(
    id="rnn-pipeline", title="rnn-pipeline (an nn.RNN sequence classifier)", cell_timeout=60, budget=300)
check = assignment.check


def _inputs():
    data = protocol.make_data(protocol.GRADING_SEEDS[0])
    return torch.cat([data["x_train"], data["x_val"]])  # (1000, 10, 5)


def _build(w, sid):
    """The student's SequenceClassifier with default arguments, shape-checked."""
    return expect_shape(w, sid, "SequenceClassifier", [], _inputs(), (1000, protocol.N_CLASSES),
                        "one row of class scores (logits) per sequence, from the last hidden state.")


@check("q1", "SequenceClassifier() returns logits (1000, 3) for input (1000, 10, 5)", 1, visible=True)
def q1_shape(w):
    _build(w, "q1")


@check("q1", "SequenceClassifier holds nn.RNN(5, 8, batch_first=True) and a linear layer", 1)
def q1_structure(w):
    info = _build(w, "q1")
    rnns = modules_of(info, "RNN")
    if not rnns:
        raise Fail("SequenceClassifier should use an nn.RNN layer.")
    attrs = rnns[0][2]
    if (attrs.get("input_size"), attrs.get("hidden_size")) != (5, 8):
        got = ", ".join(str(v) if type(v) is int else "?" for v in (attrs.get("input_size"), attrs.get("hidden_size")))
        raise Fail(f"The RNN should be nn.RNN(5, 8): 5 features in, hidden size 8 (got {got}).")
    if attrs.get("batch_first") is not True:
        raise Fail("The data is (batch, time, features): build the RNN with batch_first=True.")
    if not modules_of(info, "Linear"):
        raise Fail("A linear layer should map the last hidden state to the 3 class scores.")
    verify_structure(w, "q1", "SequenceClassifier", info, "RNN")


def _rnn_reference(w, model, x):
    """The per-step outputs of the model's own RNN, recomputed here from its weights."""
    state = w.call(model, method="state_dict")
    info = _build(w, model.sid)
    rnns = modules_of(info, "RNN")
    if not rnns or not isinstance(state, dict):
        raise Fail("The model should hold an nn.RNN whose weights the grader can read (model.state_dict()).")
    name, _, attrs = rnns[0][:3]
    if not isinstance(name, str) or not buildable({"num_layers": 1, **attrs}):
        raise Fail("The model's nn.RNN reports sizes far beyond what this question needs: build nn.RNN(5, 8, batch_first=True).")
    rnn = torch.nn.RNN(attrs["input_size"], attrs["hidden_size"], num_layers=attrs.get("num_layers", 1),
                       batch_first=True)
    prefix = name + "." if name else ""
    try:
        rnn.load_state_dict({k[len(prefix):]: v for k, v in state.items() if isinstance(k, str) and k.startswith(prefix)})
    except (RuntimeError, TypeError, ValueError):
        raise Fail("The weights of the model's nn.RNN do not fit the nn.RNN it describes.") from None
    with torch.no_grad():
        return rnn(x)[0]


@check("q2", "hidden_states(model, x) has shape (1000, 10, 8)", 1, visible=True)
def q2_shape(w):
    _build(w, "q2")
    got = w.call("hidden_states", SessionModel("q2", "SequenceClassifier"), _inputs())
    if not isinstance(got, torch.Tensor):
        raise Fail(f"`hidden_states` should return a tensor, returned {type(got).__name__}.")
    if tuple(got.shape) != (1000, 10, 8):
        hint = " That is the last hidden state h_n; return the per-step outputs (the first value the RNN returns)." if tuple(got.shape) in ((1, 1000, 8), (1000, 8)) else ""
        raise Fail(f"`hidden_states` returned {shape_shown(got.shape, {1, 1000, 10, 8})}; the RNN's outputs for every step are (1000, 10, 8).{hint}")


@check("q2", "hidden_states(model, x) equals the model's RNN outputs", 1)
def q2_values(w):
    model = SessionModel("q2", "SequenceClassifier")
    _build(w, "q2")
    got = w.call("hidden_states", model, _inputs())
    expected = _rnn_reference(w, model, _inputs())
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or not torch.allclose(got.float(), expected, atol=1e-5):
        raise Fail("`hidden_states` should run the model's own RNN on x and return its per-step outputs.")


def _proba_and_logits(w):
    model = SessionModel("q3", "SequenceClassifier")
    _build(w, "q3")
    w.call(model, method="eval")
    x = _inputs()
    proba = w.call("predict_proba", model, x)
    logits = w.call(model, x)
    if not isinstance(proba, torch.Tensor) or tuple(proba.shape) != (1000, protocol.N_CLASSES):
        raise Fail(f"`predict_proba` should return a (1000, 3) tensor of probabilities, got "
                   f"{shape_shown(proba.shape, {1, 1000, 3}) if isinstance(proba, torch.Tensor) else type(proba).__name__}.")
    return proba.double(), logits


@check("q3", "predict_proba rows are probabilities that sum to 1", 1, visible=True)
def q3_sums(w):
    proba, _ = _proba_and_logits(w)
    if bool((proba < 0).any()) or not torch.allclose(proba.sum(dim=1), torch.ones(1000, dtype=torch.float64), atol=1e-4):
        raise Fail("Each row of `predict_proba` should be non-negative and sum to 1: apply softmax over the class dimension (dim=1).")


@check("q3", "predict_proba's argmax equals the logits' argmax", 1)
def q3_argmax(w):
    proba, logits = _proba_and_logits(w)
    if not torch.equal(proba.argmax(dim=1), torch.as_tensor(logits).argmax(dim=1)):
        raise Fail("`predict_proba` should not change which class wins: softmax the model's logits (in eval mode) over dim=1.")


@check("q4", f"trained 5 epochs on the grader's data, validation accuracy >= {protocol.THRESHOLD:.0%}", 4, timeout=150)
def q4_training(w):
    _build(w, "q4")
    outcomes = train_on_seeds(w, "q4", protocol.run, protocol.GRADING_SEEDS, "`SequenceClassifier`")
    if not all(protocol.passes(o) for o in outcomes):
        raise Fail(f"Validation accuracy {describe_runs(outcomes)} on the grader's data (one run per hidden seed); "
                   f"it must reach {protocol.THRESHOLD:.0%}. The class depends on *when* the bump happens: make "
                   "sure the classifier reads the RNN's last time step (out[:, -1] or h_n[-1]), not the first "
                   "step or an average over time." + note(outcomes))

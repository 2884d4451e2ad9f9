"""Hidden checks of rnn-pipeline, run by the judge (API: autograder/authoring/assignment.py).

Inputs are the grader's synthetic sequences (protocol.py); the labels never leave the judge.
What the questions leave to the student (the RNN's nonlinearity and bias, a time-first RNN with
transposes, the head after the RNN) is read from the student's own model, never assumed; what
accuracy cannot see (logits or probabilities, which step is classified, each sequence on its own)
is checked by behaviour on the model built in a session.
"""
import torch

from ...authoring import Assignment, Fail
from ...authoring.training_checks import (PROBABILITIES, describe_runs, expect_shape, last_step_problem, modules_of,
                                          note, reported_size, run_model, same, scores_problem, train_on_seeds,
                                          verify_structure)
from ...judge.probe import SessionModel, buildable, shape_shown
from . import protocol

assignment = Assignment(
    id="rnn-pipeline", title="rnn-pipeline (an nn.RNN sequence classifier)", cell_timeout=60, budget=300)
check = assignment.check

PROBE = torch.randn(20, protocol.SEQ_LEN, protocol.N_FEATURES, generator=torch.Generator().manual_seed(11))


def _inputs():
    data = protocol.make_data(protocol.GRADING_SEEDS[0])
    return torch.cat([data["x_train"], data["x_val"]])  # (1000, 10, 5)


def _build(w, sid):
    """The student's SequenceClassifier with default arguments, shape-checked."""
    return expect_shape(w, sid, "SequenceClassifier", [], _inputs(), (1000, protocol.N_CLASSES),
                        "one row of class scores (logits) per sequence, from the last hidden state.")


def _rnn_settings(info, what="SequenceClassifier()"):
    rnns = modules_of(info, "RNN")
    if not rnns:
        others = sorted({m[1] for m in modules_of(info, "LSTM") + modules_of(info, "GRU")})
        raise Fail(f"{what} should use an nn.RNN layer" + (f", not {others[0]}." if others else "."))
    return rnns[0][0], rnns[0][2]


def _sizes(attrs):
    """input_size, hidden_size as the worker reported them, shown only when they are numbers."""
    return f"{reported_size(attrs.get('input_size'))}, {reported_size(attrs.get('hidden_size'))}"


@check("q1", "SequenceClassifier() returns logits (1000, 3) for input (1000, 10, 5)", 1, visible=True,
       public=("test_sequence_classifier_logits_shape",))
def q1_shape(w):
    _build(w, "q1")


@check("q1", "SequenceClassifier holds an nn.RNN built from its arguments", 1,
       public=("test_sequence_classifier_layers",))
def q1_structure(w):
    info = _build(w, "q1")
    _, attrs = _rnn_settings(info)
    if (attrs.get("input_size"), attrs.get("hidden_size")) != (5, 8):
        raise Fail(f"The RNN should be nn.RNN(5, 8) for the default arguments: 5 features in, hidden size 8 (got "
                   f"{_sizes(attrs)}).")
    verify_structure(w, "q1", "SequenceClassifier", info, "RNN")  # the description is a claim: test it
    info = expect_shape(w, "q1-args", "SequenceClassifier", [4, 6, 2], torch.randn(7, 10, 4), (7, 2),
                        "SequenceClassifier(4, 6, 2) gives 2 logits per sequence: build the layers from the arguments.")
    _, attrs = _rnn_settings(info, "SequenceClassifier(4, 6, 2)")
    if (attrs.get("input_size"), attrs.get("hidden_size")) != (4, 6):
        raise Fail(f"SequenceClassifier(4, 6, 2) built an nn.RNN({_sizes(attrs)}): "
                   "build the layers from the constructor's arguments, not from fixed numbers.")


@check("q1", "forward returns scores (logits), not probabilities, for any batch size", 1, public=("test_sequence_classifier_returns_logits",))
def q1_logits(w):
    problem = scores_problem(w, "q1-scores", "SequenceClassifier", _build(w, "q1-scores"), PROBE, (20, 3))
    if problem == PROBABILITIES:
        problem += " The softmax belongs to predict_proba (q3)."
    if problem:
        raise Fail(problem)


@check("q1", "logits come from the last time step, each sequence on its own", 1,
       public=("test_logits_depend_on_the_last_step",))
def q1_last_step(w):
    _build(w, "q1")
    before = run_model(w, "q1", "SequenceClassifier", PROBE, (20, 3))
    last = PROBE.clone()
    last[:, -1, :] += 1.0
    if same(before, run_model(w, "q1", "SequenceClassifier", last, (20, 3))):
        raise Fail("Changing the last time step of the input does not change the logits, so the model classifies "
                   "an earlier step: output[:, 0, :] is the state after the FIRST step. Use h_n[-1] or output[:, -1, :].")
    other = PROBE.clone()
    other[0] += 1.0
    after = run_model(w, "q1", "SequenceClassifier", other, (20, 3))
    if not same(before[1:], after[1:]):
        raise Fail("Changing one sequence of the batch changed the logits of the others: the RNN reads the batch "
                   "dimension as time. The data is (batch, time steps, features): build the RNN with "
                   "batch_first=True (or transpose to time-first before it and back after it).")
    problem = last_step_problem(w, "q1-last-step", "SequenceClassifier", _build(w, "q1-last-step"), PROBE, (20, 3))
    if problem:
        raise Fail(problem)


def _rnn_reference(w, sid, info, x):
    """The per-step outputs (batch, seq_len, hidden) of the model's own RNN, recomputed here from its
    weights and every setting the question leaves open (nonlinearity, bias, layers, direction)."""
    name, attrs = _rnn_settings(info)
    if not buildable(attrs):  # reported sizes are checked before the judge allocates a layer of them
        raise Fail("Your model's nn.RNN reports sizes far beyond what this question needs: build nn.RNN(5, 8).")
    state = w.call(SessionModel(sid, "SequenceClassifier"), method="state_dict", hidden_input=False)
    prefix = name + "." if name else ""
    own = {k[len(prefix):]: v for k, v in (state.items() if isinstance(state, dict) else ()) if isinstance(k, str) and k.startswith(prefix)}
    try:
        rnn = torch.nn.RNN(attrs["input_size"], attrs["hidden_size"], num_layers=attrs["num_layers"],
                           nonlinearity=attrs["nonlinearity"], bias=attrs["bias"],
                           bidirectional=attrs["bidirectional"], batch_first=True)
        rnn.load_state_dict(own)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError):
        raise Fail("The grader could not rebuild your model's nn.RNN from its weights; build it with nn.RNN(...) "
                   "in __init__ and do not replace its parameters afterwards.") from None
    with torch.no_grad():
        return rnn.eval()(x.float())[0].double()


def _hidden_states(w, sid, x):
    got = w.call("hidden_states", SessionModel(sid, "SequenceClassifier"), x)
    if not isinstance(got, torch.Tensor):
        hint = " The RNN returns a pair (output, h_n): return only output." if isinstance(got, (tuple, list)) else ""
        raise Fail(f"`hidden_states` should return a tensor, returned {type(got).__name__}.{hint}")
    return got


@check("q2", "hidden_states(model, x) has shape (1000, 10, 8)", 1, visible=True, public=("test_hidden_states_shape",))
def q2_shape(w):
    _build(w, "q2")
    got = _hidden_states(w, "q2", _inputs())
    if tuple(got.shape) != (1000, 10, 8):
        hint = " That is the last hidden state h_n; return the per-step outputs (the first value the RNN returns)." if tuple(got.shape) in ((1, 1000, 8), (1000, 8)) else ""
        if tuple(got.shape) == (10, 1000, 8):
            hint = " That is time-first: return (batch, seq_len, hidden_size), transposing if your RNN is time-first."
        raise Fail(f"`hidden_states` returned {shape_shown(got.shape, {1, 1000, 10, 8})}; the RNN's outputs for every step are (1000, 10, 8).{hint}")


@check("q2", "hidden_states(model, x) equals the model's RNN outputs", 1,
       public=("test_hidden_states_are_the_models_rnn_output",))
def q2_values(w):
    info = _build(w, "q2")
    w.call(SessionModel("q2", "SequenceClassifier"), method="eval", hidden_input=False)
    for x in (_inputs(), _inputs()[:7, :6]):  # the data, and a shorter batch of shorter sequences
        got = _hidden_states(w, "q2", x)
        expected = _rnn_reference(w, "q2", info, x)
        if got.shape != expected.shape or not torch.allclose(got.double(), expected, atol=1e-5):
            raise Fail("`hidden_states` should run the model's own RNN on x and return its per-step outputs, "
                       f"(batch, seq_len, hidden_size): for an input of shape {tuple(x.shape)} the grader expected "
                       f"{tuple(expected.shape)} and your values differ" + ("." if got.shape == expected.shape else
                       f" (you returned {shape_shown(got.shape, set(expected.shape) | {1})})."))


def _proba_and_logits(w):
    model = SessionModel("q3", "SequenceClassifier")
    _build(w, "q3")
    x = _inputs()
    w.call(model, method="train", hidden_input=False)  # predict_proba must switch to eval itself
    proba = w.call("predict_proba", model, x)
    w.call(model, method="eval", hidden_input=False)
    logits = w.call(model, x)
    if not isinstance(proba, torch.Tensor) or tuple(proba.shape) != (1000, protocol.N_CLASSES):
        raise Fail(f"`predict_proba` should return a (1000, 3) tensor of probabilities, got "
                   f"{shape_shown(proba.shape, {1, 1000, 3}) if isinstance(proba, torch.Tensor) else type(proba).__name__}.")
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (1000, protocol.N_CLASSES):
        raise Fail("The model's forward does not return (1000, 3) logits; fix question 1 first.")
    return proba.double(), logits.double()


@check("q3", "predict_proba rows are probabilities that sum to 1", 1, visible=True,
       public=("test_predict_proba_rows_are_probabilities",))
def q3_sums(w):
    proba, _ = _proba_and_logits(w)
    if bool((proba < 0).any()) or not torch.allclose(proba.sum(dim=1), torch.ones(1000, dtype=torch.float64), atol=1e-4):
        raise Fail("Each row of `predict_proba` should be non-negative and sum to 1: apply softmax over the class dimension (dim=1).")


@check("q3", "predict_proba is the softmax of the model's logits in eval mode", 2,
       public=("test_predict_proba_is_the_softmax_of_the_logits",))
def q3_softmax(w):
    proba, logits = _proba_and_logits(w)
    expected = torch.softmax(logits, dim=1)
    if torch.allclose(proba, expected, atol=1e-5):
        return
    if not torch.equal(proba.argmax(dim=1), logits.argmax(dim=1)):
        raise Fail("`predict_proba` changes which class wins: softmax the model's logits (in eval mode) over dim=1.")
    raise Fail("`predict_proba` is not the softmax of the model's logits: put the model in eval mode, compute the "
               "logits without gradients, then apply a softmax over the class dimension (dim=1).")


@check("q4", f"trained 5 epochs on the grader's data, validation accuracy >= {protocol.THRESHOLD:.0%}", 4, timeout=150,
       public=("test_local_training_reaches_85_percent",))
def q4_training(w):
    _build(w, "q4")
    outcomes = train_on_seeds(w, "q4", protocol.run, protocol.GRADING_SEEDS, "`SequenceClassifier`")
    if not all(protocol.passes(o) for o in outcomes):
        raise Fail(f"Validation accuracy {describe_runs(outcomes)} on the grader's data (one run per hidden seed); "
                   f"it must reach {protocol.THRESHOLD:.0%}. The class depends on *when* the bump happens: make "
                   "sure the classifier reads the RNN's last time step (out[:, -1] or h_n[-1]), not the first "
                   "step or an average over time." + note(outcomes))


class DropoutClassifier(torch.nn.Module):
    """A judge-side classifier whose training mode differs from its eval mode (90% dropout), sent
    to predict_proba as a recipe of standard layers: a predict_proba that leaves the model in
    training mode (the question asks for evaluation mode) gives probabilities that change from
    call to call. The student's own SequenceClassifier has no dropout, so it cannot show this."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Flatten(), torch.nn.Dropout(0.9),
                                           torch.nn.Linear(protocol.SEQ_LEN * protocol.N_FEATURES, protocol.N_CLASSES)])
        torch.nn.init.normal_(self.layers[2].weight, generator=torch.Generator().manual_seed(5))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def wire_layers(self):
        return [["Flatten", {}, None], ["Dropout", {"p": 0.9}, None],
                ["Linear", {"in_features": protocol.SEQ_LEN * protocol.N_FEATURES, "out_features": protocol.N_CLASSES}, None]]


@check("q3", "predict_proba puts the model in evaluation mode (a model with dropout)", 1)
def q3_eval_mode(w):
    model, x = DropoutClassifier().eval(), PROBE
    with torch.no_grad():
        expected = torch.softmax(model(x), dim=1)
    got = w.call("predict_proba", model, x, hidden_input=False)
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and torch.allclose(got.double(), expected.double(), atol=1e-5):
        return
    raise Fail("`predict_proba` on a model with dropout (sent in training mode) is not the softmax of its eval-mode "
               "logits: put the model in evaluation mode (model.eval()) before computing the logits, as the question "
               "asks; in training mode dropout changes the result from call to call.")

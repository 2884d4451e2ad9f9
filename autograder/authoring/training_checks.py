"""Training checks as the judge runs them: build the student's model in the worker, check its
output shape, train it by the protocol on the hidden grading seeds, and explain the outcome.

Error messages are composed here from plain data (shapes, accuracies); messages raised by the
student's code while it sees the grader's data are withheld (type and line only).
"""
import re

import torch

from ..judge.probe import SessionModel, buildable, module_description, shape_shown, student_error_message
from ..judge.worker_client import StudentError
from .assignment import Fail, UnreadableAnswer


BUILD_SEED = 7919  # not a seed notebooks use (0, 42, 1234): a model the notebook built itself never
# has the same weights as the one a check builds, so code that uses a global model instead of its
# `model` argument is seen


def build(w, sid, class_name, args, kwargs=None, seed=BUILD_SEED):
    """Instantiate the student's class in session `sid`; returns new_model's description (checked:
    see checks.module_description)."""
    try:
        description = module_description(w.session(sid).new_model(class_name, list(args), kwargs or {}, seed))
    except StudentError as e:
        if e.info["type"] == "NameError" and not e.info.get("where"):
            raise Fail(f"`{class_name}` is not defined. Run the cell that defines the class.") from None
        call = f"{class_name}({', '.join(map(repr, args))}" + "".join(f", {k}={v!r}" for k, v in (kwargs or {}).items()) + ")"
        raise Fail(student_error_message(f"`{call}`", e.info, hidden_input=False, secrets=w.secrets)) from None
    if description is None:
        raise Fail(f"The grader could not read the description of `{class_name}`: your notebook may have changed "
                   "the grading process's internals. Undo that and submit again.")
    return description


def output_shape(w, sid, class_name, x):
    """The shape of the model's output on an input of the grader's (hidden: what the code does with
    it is not echoed, only the exception's type and line)."""
    try:
        shape = w.session(sid).forward_shape(x)
    except StudentError as e:
        raise Fail(student_error_message(f"`{class_name}.forward`", e.info, hidden_input=True)
                   + f" The input had shape {tuple(x.shape)}.") from None
    if not isinstance(shape, list) or not all(type(n) is int for n in shape):
        hint = " Fill in forward and return the output tensor." if shape == "NoneType" else ""
        raise Fail(f"`{class_name}.forward` did not return a tensor.{hint}")
    return tuple(shape)


def expect_shape(w, sid, class_name, args, x, expected, hint, kwargs=None):
    """Build the model and require its output shape on `x`; returns the model description."""
    info = build(w, sid, class_name, args, kwargs)
    shape = output_shape(w, sid, class_name, x)
    if shape != tuple(expected):
        allowed = set(x.shape) | set(expected) | {a for a in args if type(a) is int} | {1}
        raise Fail(f"`{class_name}` returned {shape_shown(shape, allowed)} for an input of shape {tuple(x.shape)}; "
                   f"it should be {tuple(expected)}: {hint}")
    return info


def reported_size(value):
    """A size the worker reported, as a message may show it: the number, or "?" when it is not an int
    (a tampered worker's text never reaches the student)."""
    return value if type(value) is int else "?"


def modules_of(info, class_name):
    """Submodule descriptions [name, class, attrs] whose class is `class_name`."""
    return [m for m in info.get("modules", []) if isinstance(m, list) and len(m) >= 3 and m[1] == class_name
            and isinstance(m[2], dict)]


def train_on_seeds(w, sid, run, seeds, what):
    """Run `run(session, seed)` for every grading seed; returns the outcomes."""
    session, before, outcomes = w.session(sid), w.output_bytes(), []
    for seed in seeds:
        try:
            outcomes.append(run(session, seed))
        except StudentError as e:
            raise Fail(student_error_message(what, e.info, hidden_input=True)
                       + " while the grader trained it on its own data.") from None
    printed = w.output_bytes() - before
    if printed > 10_000:
        for outcome in outcomes:
            outcome.note = f" Your model printed {printed // 1000} kB while training, which slows grading: remove the prints from forward."
    return outcomes


def describe_runs(outcomes, key="val_acc"):
    return " and ".join(f"{getattr(o, key):.3f}" for o in outcomes)


def note(outcomes):
    return getattr(outcomes[0], "note", "") if outcomes else ""


_LAYERS = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
_LAYER_KEYS = ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional")


def verify_structure(w, sid, class_name, info, kind):
    """Test the description of a session's model (a claim of the worker, which a tampered worker can
    forge) against the model itself. Returns the number of weights counted from its state_dict.

    - the weights: the model's state_dict is read, and the parameter count the description claims
      must be covered by the tensors in it (the count of those elements is what is returned);
    - the layer: an nn.`kind` built here from the claimed settings, holding the weights found under
      the layer's name, must compute what the model's own layer computes on an input of the judge's
      (in eval mode, so dropout between layers is off).
    """
    model = SessionModel(sid, class_name)
    try:
        state = w.call(model, method="state_dict", hidden_input=False)
    except Fail:
        raise Fail(f"The grader could not read the weights of `{class_name}` (model.state_dict()).") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise Fail(f"`{class_name}`'s state_dict() is not a dict of tensors: the grader cannot count its weights.")
    counted = sum(v.numel() for v in state.values())
    if info["n_params"] < 0 or counted < info["n_params"]:
        raise Fail(f"`{class_name}` reports more parameters than its state_dict() holds: the grader counts the "
                   "weights themselves.")
    layers = [m for m in info["modules"] if m[1] == kind]
    if not layers:
        return counted
    name, _, settings = layers[0]
    if not buildable({"num_layers": 1, **settings}, kind) or not all(type(settings.get(k)) in (int, bool) for k in _LAYER_KEYS):
        raise Fail(f"`{class_name}`'s nn.{kind} reports settings the grader cannot rebuild (sizes far beyond what "
                   "this question needs, or not numbers).")
    prefix = name + "." if name else ""
    weights = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and "." not in k[len(prefix):]}
    try:
        extra = {"nonlinearity": settings.get("nonlinearity", "tanh")} if kind == "RNN" else {}  # relu is allowed
        layer = _LAYERS[kind](**{k: settings[k] for k in _LAYER_KEYS}, bias=any(k.startswith("bias") for k in weights),
                              **extra)
        layer.load_state_dict(weights)
    except (RuntimeError, TypeError, ValueError, KeyError):
        raise Fail(f"The weights of `{class_name}`'s nn.{kind} do not fit the nn.{kind} it describes.") from None
    layer.eval()
    shape = (3, 4, settings["input_size"]) if settings["batch_first"] else (4, 3, settings["input_size"])
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(20261122))
    w.call(model, method="eval", hidden_input=False)
    try:
        got = w.call(model, x, method=name or None, hidden_input=False)
    except Fail:
        raise Fail(f"The grader could not run `{class_name}`'s nn.{kind} ({name or 'the model'}) on its own.") from None
    got = got[0] if isinstance(got, (tuple, list)) and got else got
    with torch.no_grad():
        expected = layer(x)[0]
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or not torch.allclose(got.float(), expected, atol=1e-5):
        raise Fail(f"`{class_name}`'s nn.{kind} does not compute what an nn.{kind} with its reported settings and "
                   "weights computes: build it with torch.nn." + kind + "(...) and do not change it afterwards.")
    return counted

# -- behaviour of the student's model, built in a session (properties accuracy cannot see) ------
def _shaped(out, class_name, x, shape):
    if not isinstance(out, torch.Tensor):
        raise Fail(f"`{class_name}.forward` returned {type(out).__name__}, not a tensor.")
    if tuple(out.shape) != tuple(shape):
        raise Fail(f"`{class_name}` returned shape {tuple(out.shape)} for an input of shape {tuple(x.shape)}; it "
                   f"should be {tuple(shape)}.")
    return out.double()


def run_model(w, sid, class_name, x, shape, mode="eval"):
    """The output of the session's model on `x` (not the grader's data), in eval mode by default;
    Fail unless it is a tensor of `shape`."""
    model = SessionModel(sid, class_name)
    w.call(model, method=mode, hidden_input=False)
    return _shaped(w.call(model, x, hidden_input=False), class_name, x, shape)


def same(a, b, atol=1e-6):
    """Equal up to float noise (a model that ignores a change gives the same numbers)."""
    return a.shape == b.shape and torch.allclose(a, b, rtol=0, atol=atol)


_RNN_PARAM = re.compile(r"(weight|bias)_(ih|hh)_l(\d+)(_reverse)?")


def rnn_parameters(state, info):
    """{state_dict key: (kind "weight"|"bias", "ih"|"hh", layer, reverse)} of the model's nn.RNN
    layers (their names from the model's description)."""
    prefixes = [f"{m[0]}." if m[0] else "" for m in modules_of(info, "RNN") if isinstance(m[0], str)]
    found = {}
    for key in state:
        for prefix in prefixes:
            match = _RNN_PARAM.fullmatch(key[len(prefix):]) if key.startswith(prefix) else None
            if match:
                found[key] = (match.group(1), match.group(2), int(match.group(3)), bool(match.group(4)))
    return found


def session_state(w, sid, class_name):
    """The session model's state_dict, checked: names to tensors."""
    state = w.call(SessionModel(sid, class_name), method="state_dict", hidden_input=False)
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise UnreadableAnswer("state_dict of the wrong form")
    return state


def load_session_state(w, sid, class_name, state):
    """Load `state` (the session model's own state_dict, some tensors changed) into the session model."""
    w.call(SessionModel(sid, class_name), state, method="load_state_dict", hidden_input=False)


def last_step_problem(w, sid, class_name, info, x, shape):
    """What is wrong with where the model's output comes from, or None when it reads the state of
    the RNN's last layer after the last step (out[:, -1] or h_n[-1], whatever the layer count,
    direction, nonlinearity, bias or layout). Two behaviour tests on the model's own weights:

    - every recurrent weight (weight_hh) set to zero: each step's state then depends on that
      step's input alone, so changing every step but the last must not change the output (a mean,
      sum or maximum over time does);
    - the top layer's weights also set to zero: its output is then 0 whatever the input, so the
      output must not change with the input at all (h_n[0] of two layers, the first layer, does).

    Changes the session model `sid`: give it its own. `x` is (batch, time, features)."""
    state = session_state(w, sid, class_name)
    layer = {k: v[2] for k, v in rnn_parameters(state, info).items()}
    if not layer:
        return None  # no nn.RNN to read: the structure checks say so
    recurrent = {k for k in layer if "_hh_" in k and k.split(".")[-1].startswith("weight")}
    top = {k for k in layer if layer[k] == max(layer.values())}

    def outputs_with_zeros(zeroed, changed):
        load_session_state(w, sid, class_name, {k: torch.zeros_like(v) if k in zeroed else v for k, v in state.items()})
        return run_model(w, sid, class_name, x, shape), run_model(w, sid, class_name, changed, shape)

    earlier = x.clone()
    earlier[:, :-1, :] += 1.0
    if not same(*outputs_with_zeros(recurrent, earlier)):
        return LAST_STEP_ONLY
    if not same(*outputs_with_zeros(recurrent | top, x + 1.0)):
        return LAST_LAYER
    return None


LAST_STEP_ONLY = ("With the RNN's hidden-to-hidden weights (weight_hh) set to zero, so that each step's state depends on that step's "
                  "input alone, changing the earlier time steps still changes the logits: the model combines "
                  "several steps (a mean, sum or maximum over time?). Classify the state after the last step "
                  "alone: h_n[-1] or output[:, -1, :].")
LAST_LAYER = ("With the weights of the RNN's last layer set to zero, so that its output is 0 whatever the input, the "
              "logits still change with the input: they do not come from the RNN's last layer (h_n[0] is the FIRST "
              "layer's final state). Classify the last layer's state after the last step: h_n[-1] or output[:, -1, :].")


PROBABILITIES = ("forward returns probabilities (every row is non-negative and sums to 1), but it should return "
                 "the logits: the scores of the linear layer, before any softmax; the cross-entropy loss used for "
                 "training applies the softmax itself.")
SQUASHED = ("forward returns values squashed into [0, 1] (a sigmoid?): even with the last linear layer's weights "
            "made 50 times larger, every output stays between 0 and 1. Return the logits, the linear layer's "
            "scores themselves.")
BATCH_OF_ONE = ("For a batch of ONE sequence the model does not return that sequence's row of logits, shape (1, "
                "classes): h_n.squeeze() also drops the batch dimension when it is 1. Use h_n[-1] (or h_n.squeeze(0), "
                "or output[:, -1, :]).")


def scores_problem(w, sid, class_name, info, x, shape):
    """What is wrong with the model's output as class scores, or None: probabilities (rows that are
    non-negative and sum to 1: a softmax), values squashed into [0, 1] (a sigmoid: still so with the
    last nn.Linear's weights made 50 times larger, where scores spread far outside it), or a batch
    of one sequence not classified like the same sequence in a batch (h_n.squeeze()). Changes the
    session model `sid`: give it its own."""
    out = run_model(w, sid, class_name, x, shape)
    if bool((out >= 0).all()) and torch.allclose(out.sum(dim=1), torch.ones(len(out), dtype=out.dtype), atol=1e-4):
        return PROBABILITIES
    try:
        one = run_model(w, sid, class_name, x[:1], (1,) + tuple(shape[1:]))
    except Fail:
        return BATCH_OF_ONE
    if not same(one, out[:1], atol=1e-5):
        return BATCH_OF_ONE
    linears = [m[0] for m in modules_of(info, "Linear") if isinstance(m[0], str)]
    state = session_state(w, sid, class_name)
    key = f"{linears[-1]}.weight" if linears else None
    if key not in state:
        return None  # no linear layer the grader can find: the structure checks say what is missing
    load_session_state(w, sid, class_name, {k: v * 50 if k == key else v for k, v in state.items()})
    scaled = run_model(w, sid, class_name, x, shape)
    if bool(((scaled >= 0) & (scaled <= 1)).all()):
        return SQUASHED
    return None


def outputs_by_seed(w, sid, class_name, x, shape, mode, seeds):
    """The model's outputs on `x`, one per seed, in mode "eval", "train", "train-outside-recurrent" or "train-recurrent-only"
    (training mode except its nn.RNN/LSTM/GRU layers, so that their own dropout is off)."""
    try:
        outs = w.session(sid).outputs(x, mode, list(seeds))
    except StudentError as e:
        raise Fail(student_error_message(f"`{class_name}.forward`", e.info, hidden_input=False, secrets=w.secrets)) from None
    if not isinstance(outs, list) or len(outs) != len(seeds):
        raise UnreadableAnswer("outputs of the wrong form")
    for out in outs:
        if isinstance(out, str):  # the session names what forward returned instead of a tensor
            raise Fail(f"`{class_name}.forward` returned {out}, not a tensor.")
    return [_shaped(out, class_name, x, shape) for out in outs]

"""Training checks as the judge runs them: build the student's model in the worker, check its
output shape, train it by the protocol on the hidden grading seeds, and explain the outcome.

Error messages are composed here from plain data (shapes, accuracies); messages raised by the
student's code while it sees the grader's data are withheld (type and line only).
"""
import torch

from ..judge.probe import SessionModel, student_error_message
from ..judge.worker_client import StudentError
from .assignment import Fail, UnreadableReply


def build(w, sid, class_name, args, kwargs=None, seed=0):
    """Instantiate the student's class in session `sid`; returns new_model's description."""
    try:
        info = w.session(sid).new_model(class_name, list(args), kwargs or {}, seed)
    except StudentError as e:
        if e.info["type"] == "NameError" and not e.info.get("where"):
            raise Fail(f"`{class_name}` is not defined. Run the cell that defines the class.") from None
        call = f"{class_name}({', '.join(map(repr, args))}" + "".join(f", {k}={v!r}" for k, v in (kwargs or {}).items()) + ")"
        raise Fail(student_error_message(f"`{call}`", e.info, hidden_input=False)) from None
    if not isinstance(info, dict) or not isinstance(info.get("modules"), list) or type(info.get("n_params")) is not int:
        raise UnreadableReply("a model description of the wrong form")
    return info


def output_shape(w, sid, class_name, x):
    """The shape of the model's output on a sample input (not the grader's data)."""
    try:
        shape = w.session(sid).forward_shape(x)
    except StudentError as e:
        raise Fail(student_error_message(f"`{class_name}.forward`", e.info, hidden_input=False)
                   + f" The input had shape {tuple(x.shape)}.") from None
    if not isinstance(shape, list):
        hint = " Fill in forward and return the output tensor." if shape == "NoneType" else ""
        raise Fail(f"`{class_name}.forward` returned {shape}, not a tensor.{hint}")
    return tuple(shape)


def expect_shape(w, sid, class_name, args, x, expected, hint, kwargs=None):
    """Build the model and require its output shape on `x`; returns the model description."""
    info = build(w, sid, class_name, args, kwargs)
    shape = output_shape(w, sid, class_name, x)
    if shape != tuple(expected):
        raise Fail(f"`{class_name}` returned shape {shape} for an input of shape {tuple(x.shape)}; "
                   f"it should be {tuple(expected)}: {hint}")
    return info


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


def outputs_by_seed(w, sid, class_name, x, shape, mode, seeds):
    """The model's outputs on `x`, one per seed, in mode "eval", "train" or "train-outside-recurrent"
    (training mode except its nn.RNN/LSTM/GRU layers, so that their own dropout is off)."""
    try:
        outs = w.session(sid).outputs(x, mode, list(seeds))
    except StudentError as e:
        raise Fail(student_error_message(f"`{class_name}.forward`", e.info, hidden_input=False)) from None
    if not isinstance(outs, list) or len(outs) != len(seeds):
        raise UnreadableReply("outputs of the wrong form")
    for out in outs:
        if isinstance(out, str):  # the session names what forward returned instead of a tensor
            raise Fail(f"`{class_name}.forward` returned {out}, not a tensor.")
    return [_shaped(out, class_name, x, shape) for out in outs]

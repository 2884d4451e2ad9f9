"""Training checks as the judge runs them: build the student's model in the worker, check its
output shape, train it by the protocol on the hidden grading seeds, and explain the outcome.

Error messages are composed here from plain data (shapes, accuracies); messages raised by the
student's code while it sees the grader's data are withheld (type and line only).
"""
from ..checks import Fail, module_description, shape_shown, student_error_message
from ..worker_client import StudentError


def build(w, sid, class_name, args, kwargs=None, seed=0):
    """Instantiate the student's class in session `sid`; returns new_model's description (checked:
    see checks.module_description)."""
    try:
        description = module_description(w.session(sid).new_model(class_name, list(args), kwargs or {}, seed))
    except StudentError as e:
        if e.info["type"] == "NameError" and not e.info.get("where"):
            raise Fail(f"`{class_name}` is not defined. Run the cell that defines the class.") from None
        call = f"{class_name}({', '.join(map(repr, args))})"
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


def modules_of(info, class_name):
    """Submodule descriptions [name, class, attrs] whose class is `class_name`."""
    return [m for m in info.get("modules", []) if isinstance(m, list) and len(m) >= 3 and m[1] == class_name]


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

"""A check's view of the worker: ask for the student's objects, call their functions.

A check is a judge-side function `check(w)` where `w` is a Probe onto the worker at the moment
the question's `grader.check("qN")` cell ran. Every value comes back decoded and untrusted: every
field is checked before use, and sizes are checked before the judge builds anything from them.
"""
import time

from .. import wire
from ..authoring.assignment import Fail
from .redaction import plain_values, redact
from .worker_client import StudentError, clean_text, exception_shown


def received(data):
    """A value from the worker, decoded and in the judge's canonical dtypes: every floating tensor
    float32, every integer tensor int64 (bool stays). The student chooses the dtype of what their
    code returns; the checks compare values, so a float64 answer is compared like a float32 one
    and never reaches torch as a dtype mismatch (a kit error)."""
    return _canonical(wire.decode(data))


def _canonical(value):
    import torch
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            return value.float()
        return value if value.dtype is torch.bool else value.long()
    if type(value) is list:
        return [_canonical(v) for v in value]
    if type(value) is tuple:
        return tuple(_canonical(v) for v in value)
    if type(value) is dict:
        return {k: _canonical(v) for k, v in value.items()}
    return value


class Described:
    """What the worker reported about one of the student's names (plain data only)."""

    def __init__(self, name, reply):
        self.name = name
        self.type = clean_text(reply.get("type"), 300)
        self.is_class = reply.get("is_class") is True
        self.is_module_class = reply.get("is_module_class") is True
        self.callable = reply.get("callable") is True
        self.value = received(reply["value"]) if "value" in reply else None
        self.module = module_description(reply.get("module"), decode_state=True)

    @property
    def short_type(self):
        return self.type.rsplit(".", 1)[-1]


def module_description(module, decode_state=False):
    """A module's description from the worker (autograder/worker/training_session.py:
    describe_module), every field checked: {"modules": [[name, class name, settings], ...],
    "training": bool, "n_params": int (-1 if unreadable), "state": {name: tensor} or None}; None
    when `module` is not a description at all. Entries of the wrong shape are dropped."""
    if type(module) is not dict:
        return None
    modules = module.get("modules")
    entries = []
    for entry in modules if type(modules) is list else []:
        if (type(entry) is list and len(entry) >= 3 and type(entry[0]) is str and type(entry[1]) is str
                and type(entry[2]) is dict and all(type(k) is str for k in entry[2])):
            entries.append([entry[0][:200], entry[1][:200], entry[2]])
    n_params = module.get("n_params")
    state = None
    if decode_state and "state" in module:
        state = received(module["state"])
        if type(state) is not dict or not all(type(k) is str and _is_tensor(v) for k, v in state.items()):
            state = None
    return {"modules": entries, "training": module.get("training") is True,
            "n_params": n_params if type(n_params) is int else -1, "state": state}


def _is_tensor(value):
    import torch
    return isinstance(value, torch.Tensor)


class Probe:
    """The judge's view of the worker, for one check. Values come back decoded and untrusted.

    `timeout` bounds the whole check, however many requests it makes (a training check makes one
    per epoch). Plain values the judge sends as hidden inputs are added to `secrets`, which the
    engine strikes from every message the student sees.
    """

    def __init__(self, worker, timeout, secrets=None):
        self.worker, self.deadline = worker, time.monotonic() + timeout
        self.secrets = set() if secrets is None else secrets
        # set once the student's model has trained on the grader's data: the worker then holds
        # what training told it (when it stopped), so the engine ends it after this check
        self.trained_on_hidden_data = False

    @property
    def timeout(self):
        """What is left of the check's time, for the next request."""
        return max(self.deadline - time.monotonic(), 0.01)

    def describe(self, name):
        """The student's `name`, or Fail with a message if it is not defined."""
        reply = self.worker.request("describe", self.timeout, name=name)
        if reply.get("defined") is not True:
            raise Fail(f"`{name}` is not defined. Run the cell that defines it, and check its spelling.")
        return Described(name, reply)

    def call(self, name, *args, hidden_input=True, method=None, **kwargs):
        """Call the student's function `name` (or a SessionModel) on judge-chosen inputs;
        returns the decoded value."""
        target = {"$session_model": name.sid} if isinstance(name, SessionModel) else name
        name = str(name)
        if hidden_input:
            plain_values([args, kwargs], self.secrets)
        try:
            reply = self.worker.request("call", self.timeout, name=target, method=method,
                                        args=[_encode_arg(a) for a in args],
                                        kwargs={k: _encode_arg(v) for k, v in kwargs.items()})
        except StudentError as e:
            raise Fail(student_error_message(f"`{name}`", e.info, hidden_input)) from None
        if reply.get("undefined") is True:
            raise Fail(f"`{name}` is not defined. Run the cell that defines it, and check its spelling.")
        return received(reply.get("value"))

    def session(self, sid):
        return SessionProxy(self, sid)

    def output_bytes(self):
        """How much the student's code has printed so far in this worker."""
        return self.worker.reader.total if self.worker.reader else 0


class SessionProxy:
    """Calls methods of a worker-side TrainingSession (autograder/worker/training_session.py)."""

    def __init__(self, probe, sid):
        self._probe, self._sid = probe, sid

    def __getattr__(self, method):
        def remote(*args, **kwargs):
            plain_values([args, kwargs], self._probe.secrets)  # seeds and data choices of the protocol
            if method == "train_epoch":
                self._probe.trained_on_hidden_data = True
            reply = self._probe.worker.request(
                "session", self._probe.timeout, sid=self._sid, method=method,
                args=[wire.encode(a) for a in args], kwargs={k: wire.encode(v) for k, v in kwargs.items()})
            return received(reply.get("value"))
        return remote


class SessionModel:
    """Refers to the model a training session built from the student's class (in the worker)."""

    def __init__(self, sid, class_name):
        self.sid, self.class_name = sid, class_name

    def __str__(self):
        return self.class_name


def _encode_arg(value):
    import torch
    if isinstance(value, SessionModel):
        return {"$session_model": value.sid}
    if isinstance(value, torch.nn.Module):  # sent as a recipe the worker rebuilds, weights included
        state = wire.encode(dict(value.state_dict()))
        if isinstance(value, torch.nn.RNNBase):
            names = ("input_size", "hidden_size", "num_layers", "batch_first", "bias")
            kwargs = {k: getattr(value, k) for k in names + (("nonlinearity",) if value.mode.startswith("RNN_") else ())}
            return {"$nn": {"kind": type(value).__name__, "kwargs": wire.encode(kwargs), "state": state}}
        # a judge-side model (e.g. sequence_memory/grader_model.py): a recipe of standard layers, so
        # the model itself, an answer, never lives beside the worker
        return {"$nn": {"kind": "layers", "layers": wire.encode(value.wire_layers()), "state": state}}
    return wire.encode(value)


def student_error_message(what, info, hidden_input, secrets=()):
    """Say what raised and where, without echoing a hidden input back through the message.

    On a hidden input (hidden_input=True) the message is kit text: the cell and line numbers and the
    exception's type if it is one of Python's builtins; nothing the student's code wrote (its
    message, the source line the worker reports, the name of a class it made) is shown. Otherwise
    the student's message and line follow, with every value in `secrets` struck from them."""
    where = info.get("where") if isinstance(info.get("where"), dict) else None
    kind = exception_shown(info)
    if hidden_input:
        place = f" at line {where['line']} of cell {where['cell']}" if where else ""
        return f"{what} raised {kind}{place} on one of the grader's inputs."
    code = redact(clean_text(where.get("code"), 200), set(secrets)) if where else ""
    place = f" at line {where['line']} of cell {where['cell']} (`{code}`)" if where else ""
    return f"{what} raised {kind}: {redact(clean_text(info.get('message'), 500), set(secrets))}{place}"


MAX_JUDGE_PARAMETERS = 2_000_000  # a judge-side rebuild of a student's layer: 8 MB of float32


def rnn_parameter_count(settings, kind="RNN"):
    """The number of weights an nn.RNN/LSTM/GRU with these settings holds, computed without building
    it; None when the settings are not sizes (ints, 1 <= size <= 65536, 1 <= layers <= 64)."""
    sizes = [settings.get(k) for k in ("input_size", "hidden_size", "num_layers")]
    if not all(type(n) is int and 1 <= n <= 65536 for n in sizes) or sizes[2] > 64:
        return None
    inputs, hidden, layers = sizes
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}.get(kind, 4)
    directions = 2 if settings.get("bidirectional") is True else 1
    total, width = 0, inputs
    for _ in range(layers):
        total += directions * gates * hidden * (width + hidden + 2)
        width = hidden * directions
    return total


def buildable(settings, kind="RNN", limit=MAX_JUDGE_PARAMETERS):
    """Whether the judge may build a reference layer from settings the worker reported: sizes that
    are ints and weights no more than `limit` (far beyond what any question needs). The worker's
    report is a claim; checking it before building keeps the judge's memory out of its hands."""
    count = rnn_parameter_count(settings, kind)
    return count is not None and count <= limit


def shape_shown(shape, allowed=()):
    """A shape the student's code returned on a grader's input, as a message may show it: the
    numbers only when each is one of `allowed` (sizes of the input, of the expected output, 1) and
    there are at most 4 of them, so a shape cannot carry what the code read from a hidden input."""
    try:
        dims = tuple(shape)
    except TypeError:
        return "something that is not a tensor"
    if len(dims) <= 4 and all(type(d) is int and d in set(allowed) for d in dims):
        return f"shape {dims}"
    return f"a shape with {len(dims)} dimensions that does not match" if len(dims) <= 8 else "a shape that does not match"

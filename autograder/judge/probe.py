"""A check's view of the worker: ask for the student's objects, call their functions.

A check is a judge-side function `check(w)` where `w` is a Probe onto the worker at the moment
the question's `grader.check("qN")` cell ran. Every value comes back decoded and untrusted.
"""
import time

from .. import wire
from ..authoring.assignment import Fail, UnreadableReply
from .redaction import plain_values
from .worker_client import StudentError


def decode(data):
    """A value the worker sent; one the kit's worker could not have sent is an UnreadableReply."""
    try:
        return wire.decode(data)
    except wire.WireError as e:
        raise UnreadableReply(str(e)) from None


def _module_entries(modules):
    """[name, class name, settings] per submodule, the root first, as describe_module sends them."""
    if not isinstance(modules, list) or not modules or not all(
            isinstance(m, list) and len(m) == 3 and isinstance(m[0], str) and isinstance(m[1], str)
            and isinstance(m[2], dict) for m in modules):
        raise UnreadableReply("a module description of the wrong form")
    return modules


class Described:
    """What the worker reported about one of the student's names (plain data only)."""

    def __init__(self, name, reply):
        self.name = name
        self.type = str(reply.get("type", ""))
        self.is_class = reply.get("is_class") is True
        self.is_module_class = reply.get("is_module_class") is True
        self.callable = reply.get("callable") is True
        self.value = decode(reply["value"]) if "value" in reply else None
        module = reply.get("module")
        self.module = None
        if isinstance(module, dict):
            self.module = {"modules": _module_entries(module.get("modules")), "training": module.get("training") is True,
                           "n_params": module.get("n_params") if type(module.get("n_params")) is int else -1,
                           "state": decode(module["state"]) if "state" in module else None}

    @property
    def short_type(self):
        return self.type.rsplit(".", 1)[-1]


class Probe:
    """The judge's view of the worker, for one check. Values come back decoded and untrusted.

    `timeout` bounds the whole check, however many requests it makes (a training check makes one
    per epoch). Plain values the judge sends as hidden inputs are added to `secrets`, which the
    engine strikes from every message the student sees.
    """

    def __init__(self, worker, timeout, secrets=None):
        self.worker, self.deadline = worker, time.monotonic() + timeout
        self.secrets = set() if secrets is None else secrets

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
        return decode(reply.get("value"))

    def session(self, sid):
        return SessionProxy(self, sid)

    def output_bytes(self):
        """How much the student's code has printed so far in this worker."""
        return self.worker.reader.total if self.worker.reader else 0


class SessionProxy:
    """Calls methods of a worker-side TrainingSession (autograder/sandbox/training_session.py)."""

    def __init__(self, probe, sid):
        self._probe, self._sid = probe, sid

    def __getattr__(self, method):
        def remote(*args, **kwargs):
            plain_values([args, kwargs], self._probe.secrets)  # seeds and data choices of the protocol
            reply = self._probe.worker.request(
                "session", self._probe.timeout, sid=self._sid, method=method,
                args=[wire.encode(a) for a in args], kwargs={k: wire.encode(v) for k, v in kwargs.items()})
            return decode(reply.get("value"))
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
        if isinstance(value, torch.nn.RNNBase):
            kwargs = {k: getattr(value, k) for k in ("input_size", "hidden_size", "num_layers", "batch_first")}
        else:  # one of autograder/sandbox/reference_models.py
            kwargs = value.init_kwargs
        return {"$nn": {"kind": type(value).__name__, "kwargs": wire.encode(kwargs),
                        "state": wire.encode(dict(value.state_dict()))}}
    return wire.encode(value)


def student_error_message(what, info, hidden_input):
    """Say what raised and where, without echoing a hidden input back through the message."""
    where = info.get("where") if isinstance(info.get("where"), dict) else None
    place = f" at line {where.get('line')} of cell {where.get('cell')} (`{where.get('code')}`)" if where else ""
    if hidden_input:
        return f"{what} raised {info['type']}{place} on one of the grader's inputs."
    return f"{what} raised {info['type']}: {info['message']}{place}"

"""How hidden checks are written: an Assignment holds questions, points and check functions.

A check is a judge-side function `check(w)` where `w` is a Probe onto the worker at the moment
the question's `grader.check("qN")` cell ran. It asks the worker for the student's objects as
plain data, compares them with references it computes itself, and raises `Fail(message)` with
a teaching message when they differ. Returning normally means the check passed.
"""
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from .sandbox import wire
from .worker_client import StudentError


class Fail(Exception):
    """A check failed; the message is shown to the student."""


@dataclass
class Check:
    question: str
    name: str
    points: float
    fn: Callable
    visible: bool = False  # visible checks show at once; hidden ones after grades are published
    timeout: float = 60.0


@dataclass
class Assignment:
    id: str
    title: str
    questions: dict  # question id -> points, in notebook order
    cell_timeout: float = 30.0  # one cell of the student's notebook
    budget: float = 240.0  # the whole submission, worker start-ups included
    checks: list = field(default_factory=list)

    def check(self, question, name, points, visible=False, timeout=60.0):
        def register(fn):
            self.checks.append(Check(question, name, points, fn, visible, timeout))
            return fn
        return register

    def checks_for(self, question):
        return [c for c in self.checks if c.question == question]

    def validate(self):
        """The checks' points must add up to the contract's points for every question."""
        for qid, points in self.questions.items():
            total = sum(c.points for c in self.checks_for(qid))
            if abs(total - points) > 1e-9:
                raise ValueError(f"{self.id} {qid}: checks give {total} points, the contract says {points}")
        unknown = {c.question for c in self.checks} - set(self.questions)
        if unknown:
            raise ValueError(f"{self.id}: checks for unknown questions {sorted(unknown)}")


class Described:
    """What the worker reported about one of the student's names (plain data only)."""

    def __init__(self, name, reply):
        self.name = name
        self.type = str(reply.get("type", ""))
        self.is_class = reply.get("is_class") is True
        self.is_module_class = reply.get("is_module_class") is True
        self.callable = reply.get("callable") is True
        self.value = wire.decode(reply["value"]) if "value" in reply else None
        module = reply.get("module")
        self.module = None
        if isinstance(module, dict):
            self.module = {"modules": module.get("modules") or [], "training": module.get("training") is True,
                           "n_params": module.get("n_params") if type(module.get("n_params")) is int else -1,
                           "state": wire.decode(module["state"]) if "state" in module else None}

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
        return wire.decode(reply.get("value"))

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
            return wire.decode(reply.get("value"))
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
            kwargs = {k: getattr(value, k) for k in ("input_size", "hidden_size", "num_layers", "batch_first")}
            return {"$nn": {"kind": type(value).__name__, "kwargs": wire.encode(kwargs), "state": state}}
        # a judge-side model (e.g. sequence_memory/grader_model.py): standard layers the worker
        # rebuilds generically; no assignment's model class lives beside the worker
        return {"$nn": {"kind": "layers", "layers": wire.encode(value.wire_layers()), "state": state}}
    return wire.encode(value)


def student_error_message(what, info, hidden_input):
    """Say what raised and where, without echoing a hidden input back through the message."""
    where = info.get("where") if isinstance(info.get("where"), dict) else None
    place = f" at line {where.get('line')} of cell {where.get('cell')} (`{where.get('code')}`)" if where else ""
    if hidden_input:
        return f"{what} raised {info['type']}{place} on one of the grader's inputs."
    return f"{what} raised {info['type']}: {info['message']}{place}"


HIDDEN_MARK = "<hidden>"


def plain_values(value, found):
    """Add to `found` the strings (4+ characters) and integers (4+ digits) inside `value`: the
    parts of a judge-chosen input that student code could copy into a message verbatim."""
    if isinstance(value, str):
        if len(value) >= 4:
            found.add(value)
    elif type(value) is int:
        if abs(value) >= 1000:
            found.add(str(value))
    elif isinstance(value, dict):
        for k, v in value.items():
            plain_values(k, found)
            plain_values(v, found)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            plain_values(v, found)
    return found


def redact(text, secrets):
    """`text` with every verbatim copy of a secret (any letter case) replaced by HIDDEN_MARK.

    Student code sees the hidden inputs it is called with; whatever it writes into an exception,
    a return value or its type names reaches the student through the messages. Copies are struck
    out; an encoded copy (reversed, base64) is not caught: hidden inputs are not a defence on
    their own (README, "What is not protected")."""
    if not secrets or not text:
        return text
    pattern = "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))
    return re.sub(pattern, HIDDEN_MARK, text, flags=re.IGNORECASE)

"""The safe wire format between the judge and the worker.

Messages are length-prefixed JSON. Values are plain data only: None, bool, int, float, str,
lists, tuples, dicts (any plain keys) and tensors (dtype, shape, raw little-endian bytes).
Nothing is ever unpickled: the judge decodes what the untrusted worker sends into builtins and
fresh tensors, so an object with a forged `__eq__` cannot cross the boundary.

This file is copied into the worker's sandbox, so it imports only the standard library, numpy
and torch, and nothing from the kit.
"""
import base64
import itertools
import json
import math
import os
import re
import select
import struct
import time

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a model's weights fit easily; a memory bomb does not
MAX_DEPTH = 32
# Nesting of the JSON text itself, checked on the bytes before json.loads (which recurses and
# would hit the recursion limit): every decoded level costs at most three JSON levels.
MAX_JSON_DEPTH = 3 * MAX_DEPTH + 8
# Lists and objects in one message, counted on the bytes before json.loads: what the judge must
# build (memory) and hash (a dict of colliding keys is quadratic) stays small, whatever the bytes.
MAX_CONTAINERS = 20_000
MAX_TENSOR_ELEMENTS = 1 << 24  # 16M elements: 64 MB of float32, the message limit
MAX_TENSOR_DIMS = 8
_DTYPES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")


class WireError(Exception):
    """The other side sent something that is not a valid message."""


def _torch():
    import torch  # imported lazily: the judge may decode messages that hold no tensors
    return torch


def encode(value, depth=0):
    """Turn a value into JSON-ready data. Unknown objects become a description, not an error."""
    if depth > MAX_DEPTH:
        return {"$repr": {"type": "too deep", "repr": ""}}
    if value is None or type(value) in (bool, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        value = float(value)
        if math.isfinite(value):
            return value
        return {"$float": repr(value)}
    if isinstance(value, str):
        return str(value)
    torch = _torch()
    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu").contiguous()
        name = str(t.dtype).replace("torch.", "")
        if name not in _DTYPES:
            t, name = t.to(torch.float32), "float32"
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        return {"$tensor": {"dtype": name, "shape": list(t.shape), "data": base64.b64encode(raw).decode()}}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in list.__iter__(value)]
    try:
        text = repr(value)[:200]
    except BaseException:  # a student's __repr__ may raise anything
        text = "<unprintable>"
    return {"$repr": {"type": f"{type(value).__module__}.{type(value).__qualname__}", "repr": text}}


class Opaque:
    """An object the worker could not send as data: its type name and a short repr."""

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"


def decode(data, depth=0):
    """Strictly rebuild a value from JSON data; anything unexpected raises WireError."""
    if depth > MAX_DEPTH:
        raise WireError("message nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(v, depth + 1) for v in data]
    if type(data) is not dict or len(data) != 1:
        raise WireError(f"unexpected value of type {type(data).__name__}")
    (tag, body), = data.items()
    if tag == "$tuple" and type(body) is list:
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "$dict" and type(body) is list:
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("bad dict entry")
            key = decode(pair[0], depth + 1)
            try:
                out[key] = decode(pair[1], depth + 1)
            except TypeError as e:  # unhashable key, e.g. a list
                raise WireError(f"bad dict key: {e}") from None
        return out
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$repr" and type(body) is dict:
        type_name, text = body.get("type", "?"), body.get("repr", "")
        return Opaque(type_name[:200] if type(type_name) is str else "?", text[:200] if type(text) is str else "")
    if tag == "$tensor" and type(body) is dict:
        return _decode_tensor(body)
    raise WireError(f"unknown tag {tag!r}")


def _decode_tensor(body):
    import numpy as np
    torch = _torch()
    dtype, shape = body.get("dtype"), body.get("shape")
    if (dtype not in _DTYPES or type(shape) is not list or len(shape) > MAX_TENSOR_DIMS
            or not all(type(n) is int and 0 <= n <= MAX_TENSOR_ELEMENTS for n in shape)):
        raise WireError("bad tensor header")
    count = math.prod(shape)
    data = body.get("data", "")
    if count > MAX_TENSOR_ELEMENTS or type(data) is not str:
        raise WireError("tensor too large")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise WireError("tensor data is not base64") from None
    np_dtype = np.dtype("bool" if dtype == "bool" else dtype).newbyteorder("<")
    if count * np_dtype.itemsize != len(raw):
        raise WireError("tensor data does not match its shape")
    array = np.frombuffer(raw, dtype=np_dtype).reshape(shape).astype(np_dtype.newbyteorder("="))
    return torch.from_numpy(array.copy())


class Timeout(Exception):
    """No complete message arrived (or could be written) before the deadline."""


def send(fd, message, deadline=None):
    """Write one message (a dict of already-encoded data) to a file descriptor.

    With a `deadline` (a time.monotonic() value) the write never blocks past it: a reader that
    stopped reading raises Timeout instead of holding the writer forever."""
    payload = json.dumps(message, separators=(",", ":")).encode()
    view = memoryview(struct.pack(">I", len(payload)) + payload)
    if deadline is None:
        while view:
            written = os.write(fd, view)
            view = view[written:]
        return
    blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        while view:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                raise Timeout()
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[written:]
    finally:
        os.set_blocking(fd, blocking)


_ESCAPES = re.compile(rb"\\.", re.S)
_STRINGS = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(text):
    """How deeply the JSON `text` (bytes) nests, read from its brackets without parsing it."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    brackets = _STRINGS.sub(b"", _ESCAPES.sub(b"", text)).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads_bounded(text, max_depth=MAX_JSON_DEPTH, max_containers=MAX_CONTAINERS):
    """json.loads, refusing text nested deeper than `max_depth` or holding more than `max_containers`
    lists and objects, before parsing it (json.loads recurses, so a deep enough text would raise
    RecursionError inside it; a wide one would cost the judge memory and time). ValueError if bad."""
    if json_depth(text) > max_depth:
        raise ValueError(f"nested more than {max_depth} levels deep")
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if raw.count(b"[") + raw.count(b"{") > max_containers:
        raise ValueError(f"more than {max_containers} lists and objects")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def recv(fd, deadline=None):
    """Read one message; None at end of stream. `deadline` is a time.monotonic() value."""
    header = _read_exactly(fd, 4, deadline)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {size} bytes is over the limit")
    payload = _read_exactly(fd, size, deadline)
    if payload is None:
        raise WireError("stream ended inside a message")
    try:
        message = loads_bounded(payload)
    except (ValueError, MemoryError) as e:
        raise WireError(f"not JSON: {e}") from None
    if type(message) is not dict:
        raise WireError("a message must be an object")
    return message


def _read_exactly(fd, size, deadline):
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise Timeout()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            if remaining == size:
                return None
            raise WireError("stream ended inside a message")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)

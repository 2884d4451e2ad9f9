"""The judge/worker wire format: faithful for plain data, strict against anything else."""
import json
import os

import pytest
import torch

from autograder import wire


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_plain_values_and_tensors_roundtrip():
    value = {1: "B", "k": [1, 2.5, None, True], (1, 2): (3, (4,)), "nan": float("inf")}
    assert roundtrip(value) == value
    for tensor in (torch.randn(3, 4), torch.arange(6).view(2, 3), torch.tensor([True, False]), torch.zeros(0, 5)):
        back = roundtrip(tensor)
        assert back.dtype == tensor.dtype and torch.equal(back, tensor)


def test_subclasses_become_plain_builtins():
    class Liar(dict):
        def __eq__(self, other):
            return True
    back = roundtrip(Liar(a=1))
    assert type(back) is dict and back != {"a": 2}
    assert type(roundtrip(torch.Size([2, 3]))) is tuple


def test_unknown_objects_arrive_as_descriptions_not_objects():
    back = roundtrip(object())
    assert isinstance(back, wire.Opaque) and back.type_name == "builtins.object"


@pytest.mark.parametrize("bad", [
    {"$pickle": "gASV"}, {"a": 1, "b": 2}, {"$tensor": {"dtype": "object", "shape": [1], "data": ""}},
    {"$tensor": {"dtype": "float32", "shape": [2], "data": "AAAA"}}, {"$dict": [[[1], 2]]},
])
def test_decoder_rejects_anything_unexpected(bad):
    with pytest.raises(wire.WireError):
        wire.decode(bad)


def test_framing_roundtrip_timeout_and_size_limit():
    r, w = os.pipe()
    wire.send(w, {"id": 1, "x": wire.encode([1, 2])})
    assert wire.recv(r) == {"id": 1, "x": [1, 2]}
    with pytest.raises(wire.Timeout):
        wire.recv(r, deadline=0)
    os.write(w, (wire.MAX_MESSAGE_BYTES + 1).to_bytes(4, "big"))
    with pytest.raises(wire.WireError):
        wire.recv(r)
    os.close(w)
    os.close(r)


def test_json_depth_is_read_from_the_bytes_strings_and_escapes_aside():
    assert wire.json_depth(b'{"a": [1, [2, {"b": "]]]}}}[[[[\\"[["}]]}') == 4
    assert wire.json_depth(b"[" * 500 + b"]" * 500) == 500
    assert wire.json_depth(b'"\\\\"') == 0  # an escaped backslash ends the string


@pytest.mark.parametrize("text", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_loads_bounded_refuses_deep_text_before_parsing_it(text):
    with pytest.raises(ValueError):
        wire.loads_bounded(text)


@pytest.mark.parametrize("bad", [
    {"$tensor": {"dtype": "float32", "shape": [1] * 9, "data": "AACAPw=="}},
    {"$tensor": {"dtype": "float32", "shape": [1 << 20, 1 << 20], "data": ""}},
    {"$tensor": {"dtype": "uint8", "shape": [2], "data": "not base64!"}},
    {"$tensor": {"dtype": "uint8", "shape": [2], "data": 5}},
])
def test_tensors_are_bounded_before_they_are_built(bad):
    with pytest.raises(wire.WireError):
        wire.decode(bad)


def test_opaque_fields_of_the_wrong_type_are_dropped():
    back = wire.decode({"$repr": {"type": ["x"], "repr": {"y": 1}}})
    assert back.type_name == "?" and back.text == ""

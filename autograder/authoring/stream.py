"""Secret random tensors for the grader's data (judge side only).

A `Stream` draws from SHAKE-256 of (purpose, seed, draw number), an extendable-output hash: what
a submission sees of one draw (the training data it is sent) tells it nothing about another draw
(the validation labels it is not) nor about the seed. torch.Generator is not used for grading
data: its Mersenne Twister keeps 32 bits of a seed, few enough to search. With a seed from
autograder/judge/grading_key.py the data is secret; with a small public seed (the tests) it is only
deterministic. Same seed, same tensors, on every machine.
"""
import hashlib
import math

import numpy as np
import torch

_TWO_PI = 2.0 * math.pi


class Stream:
    def __init__(self, seed, purpose):
        self._prefix = f"rnnkit/{purpose}/{seed}/".encode()
        self._draws = 0

    def _words(self, n):
        data = hashlib.shake_256(self._prefix + str(self._draws).encode()).digest(8 * n)
        self._draws += 1
        return np.frombuffer(data, dtype="<u8")

    def _unit(self, n):
        """n floats uniform in [0, 1) with 53 random bits each."""
        return (self._words(n) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    def rand(self, *shape):
        return torch.from_numpy(self._unit(math.prod(shape)).reshape(shape)).float()

    def randn(self, *shape):
        """Standard normal float32 (Box-Muller)."""
        n = math.prod(shape)
        m = (n + 1) // 2
        u = self._unit(2 * m)
        radius = np.sqrt(-2.0 * np.log1p(-u[:m]))  # 1 - u in (0, 1]
        z = np.concatenate([radius * np.cos(_TWO_PI * u[m:]), radius * np.sin(_TWO_PI * u[m:])])[:n]
        return torch.from_numpy(z.reshape(shape)).float()

    def randint(self, low, high, shape):
        """int64 uniform in [low, high) (the modulo bias is below 2**-50 for the ranges used)."""
        values = self._words(math.prod(shape)) % np.uint64(high - low)
        return torch.from_numpy(values.astype(np.int64).reshape(shape)) + low

    def randperm(self, n):
        return torch.from_numpy(np.argsort(self._words(n), kind="stable").astype(np.int64))

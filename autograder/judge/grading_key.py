"""The grading key: the secret every hidden random choice is derived from (judge side only).

Grading seeds, data, model initialisation, data order and dropout seeds all come from
HMAC-SHA256(key, label), so nothing the worker sees lets a submission rebuild them: the seed a
model is initialised with is a hash of a secret 63-bit seed, not a public function of a small one.
Grading stays deterministic for a given key.

Where the key comes from, first found:
- RNNKIT_GRADING_KEY: 64 hex digits (CI, or several machines that must grade alike);
- `<kit>/.rnnkit/secret`: 32 random bytes, created on first use (mode 0400, ignored by git).
  `rnnkit dist` copies it into each zip, where run_autograder keeps it root-only,
  so Gradescope grades with the same key as this checkout: local grading and calibration
  (`make calibrate` covers the grading seeds this key derives) match what Gradescope does.
"""
import functools
import hashlib
import hmac
import os
import secrets

from ..paths import ROOT

ENV = "RNNKIT_GRADING_KEY"
KIT_ROOT = ROOT


def key_path(root=KIT_ROOT):
    return os.path.join(root, ".rnnkit", "secret")


@functools.lru_cache(maxsize=None)
def key():
    text = os.environ.get(ENV)
    if text:
        value = bytes.fromhex(text.strip())
        if len(value) < 16:
            raise ValueError(f"{ENV} must hold at least 32 hex digits")
        return value
    return _read_or_create(key_path())


def _read_or_create(path):
    try:
        with open(path, "rb") as f:
            value = f.read()
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        with open(path, "rb") as f:
            value = f.read()
    if len(value) < 16:
        raise ValueError(f"the grading key {path} is too short; delete it to make a new one")
    return value


def fingerprint():
    """A short public digest of the key (which key graded what), not the key."""
    return hashlib.sha256(b"rnnkit-key-fingerprint:" + key()).hexdigest()[:12]


def derive(label):
    """32 secret bytes for `label` (e.g. "overfitting/grading/0")."""
    return hmac.new(key(), label.encode(), hashlib.sha256).digest()


def derive_seed(label):
    """A secret non-negative 63-bit integer for `label`."""
    return int.from_bytes(derive(label)[:8], "little") >> 1


GRADING_RUNS, CALIBRATION_RUNS = 2, 20  # calibration covers the grading seeds, plus 18 more


def seed_attributes(assignment_id, grading_runs=GRADING_RUNS, calibration_runs=CALIBRATION_RUNS):
    """A module-level __getattr__ for a training protocol: GRADING_SEEDS and CALIBRATION_SEEDS
    derived from this key on first use (the key is read only when a seed is needed)."""
    def seeds(name):
        if name == "GRADING_SEEDS":
            return [derive_seed(f"{assignment_id}/grading/{i}") for i in range(grading_runs)]
        if name == "CALIBRATION_SEEDS":
            extra = [derive_seed(f"{assignment_id}/calibration/{i}") for i in range(calibration_runs - grading_runs)]
            return seeds("GRADING_SEEDS") + extra
        raise AttributeError(name)
    return seeds

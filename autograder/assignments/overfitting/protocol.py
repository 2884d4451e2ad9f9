"""overfitting: the grader's data, protocol, seeds and thresholds for q3 (training check).

Data (the course example used random data and random labels, which no model can learn): along a
random direction of the 10 features, each sequence starts at its own random level (Gaussian, std
LEVEL) and then rises or falls steadily by RISE over its 5 steps, plus Gaussian noise. The first step is the level
alone, so it carries no class at all (a model that reads the first step instead of the last stays
at chance); the random level also hides most of the class from the time average and from the last
step alone, so the model has to compare the steps. Training labels are flipped for exactly
LABEL_NOISE of the training sequences; validation labels are clean.
A model that learns the rule scores about 1 - LABEL_NOISE against the noisy training labels, so
training accuracy >= TRAIN_ACC_LIMIT means the model memorised flipped labels. 35% noise keeps a
memorising model's validation accuracy far below 0.85; 400 training sequences (not more) let the
notebook's overfitting configuration memorise them within 40 epochs, cheaply enough to calibrate
on every seed (`python -m autograder.calibrate` reports the numbers).

Protocol: SimpleRNN(10, config["hidden_size"], 2), Adam(lr, weight_decay), batches of
config["batch_size"] in a seeded order, at most config["epochs"] epochs, early stopping on
validation accuracy with config["patience"] (best weights restored when it stops; see
autograder.authoring.training.train: a patience >= epochs never stops, so the last weights are scored,
which is what makes the overfitting configuration fail; restoring the best epoch regardless would
hand it the accuracy of an early, not yet memorised epoch). Pass iff validation accuracy >=
VAL_THRESHOLD and training accuracy (against the noisy labels trained on) < TRAIN_ACC_LIMIT.
"""
import math

import torch

from autograder.authoring.stream import Stream
from autograder.authoring.training import sub_seed, train
from autograder.judge import grading_key

INPUT_SIZE, SEQ_LEN, N_CLASSES = 10, 5, 2
N_TRAIN, N_VAL = 400, 1000
LABEL_NOISE = 0.35
RISE, NOISE, LEVEL = 6.0, 1.0, 4.0   # rise from the first step to the last, noise std, std of the start level
VAL_THRESHOLD = 0.85        # validation accuracy must be >= this
TRAIN_ACC_LIMIT = 0.92      # training accuracy must be < this
THRESHOLD = VAL_THRESHOLD

# Sane ranges for the student's config (q2); they also bound what one grading run can cost.
CONFIG_RANGES = {
    "hidden_size": (int, 4, 256),
    "lr": (float, 1e-5, 0.1),
    "epochs": (int, 1, 200),
    "patience": (int, 1, 200),
    "batch_size": (int, 8, 1024),
    "weight_decay": (float, 0.0, 0.1),
}

RECIPE = {"hidden_size": 32, "lr": 0.001, "patience": 3}  # what question 2 gives; the rest is the student's

ID = "overfitting"


def config_problems(config):
    """Messages for missing keys and values out of CONFIG_RANGES; empty when the config is sane."""
    if not isinstance(config, dict):
        return [f"config must be a dict, found {type(config).__name__}"]
    problems = []
    for key, (kind, low, high) in CONFIG_RANGES.items():
        if key not in config:
            problems.append(f"config has no {key!r}")
            continue
        value = config[key]
        # plain int/float only (a value from the worker: no subclass, no overflow in float())
        ok_type = type(value) in (int, float) and math.isfinite(value) if type(value) is float else type(value) is int
        if kind is int:
            ok_type = ok_type and (type(value) is int or value.is_integer())
        if not ok_type:
            problems.append(f"config[{key!r}] should be {'an int' if kind is int else 'a number'}, "
                            f"found {type(value).__name__ if type(value) in (int, float, str, list, dict, bool) else 'something else'}")
        elif not low <= value <= high:
            shown = f"{value:.4g}" if abs(value) < 1e9 else "a number that large"
            problems.append(f"config[{key!r}] = {shown} is outside [{low}, {high}]")
    return problems


def make_data(seed):
    """Noisy-label training set and clean validation set for one seed (a secret Stream, not the
    global RNG)."""
    g = Stream(seed, f"{ID}/data")
    n = N_TRAIN + N_VAL
    direction = g.randn(INPUT_SIZE)
    direction /= direction.norm()
    y = g.randint(0, N_CLASSES, (n,))
    sign = 2.0 * y - 1.0                                  # +1 rising, -1 falling
    level = LEVEL * g.randn(n)                            # where each sequence starts
    steps = RISE * torch.linspace(0.0, 1.0, SEQ_LEN)      # 0 at the first step: no class there
    x = ((level[:, None] + sign[:, None] * steps[None, :])[:, :, None] * direction
         + NOISE * g.randn(n, SEQ_LEN, INPUT_SIZE))
    y_train = y[:N_TRAIN].clone()
    flipped = g.randperm(N_TRAIN)[:round(LABEL_NOISE * N_TRAIN)]
    y_train[flipped] = 1 - y_train[flipped]
    return {"x_train": x[:N_TRAIN], "y_train": y_train, "x_val": x[N_TRAIN:],
            "y_val": y[N_TRAIN:], "y_train_clean": y[:N_TRAIN]}


def run(session, seed, config, class_name="SimpleRNN"):
    problems = config_problems(config)
    if problems:
        raise ValueError("; ".join(problems))
    data = make_data(seed)
    info = session.new_model(class_name, [INPUT_SIZE, int(config["hidden_size"]), N_CLASSES], {},
                             sub_seed(seed, "init"))
    outcome = train(session, data, epochs=int(config["epochs"]),
                    batch_size=int(config["batch_size"]), lr=config["lr"],
                    weight_decay=config["weight_decay"], patience=int(config["patience"]),
                    seed=seed, num_classes=N_CLASSES)
    outcome.model = info
    return outcome


RULE = f"val acc >= {VAL_THRESHOLD} and train acc < {TRAIN_ACC_LIMIT}"  # what passes() says, for reports


def passes(outcome):
    return outcome.val_acc >= VAL_THRESHOLD and outcome.train_acc < TRAIN_ACC_LIMIT


# Grading and calibration seeds come from the secret grading key: protocol.GRADING_SEEDS and
# protocol.CALIBRATION_SEEDS, derived on first use (autograder/judge/grading_key.py).
__getattr__ = grading_key.seed_attributes(ID)

"""sequence-memory: the grader's data, protocol, seeds and threshold for the training checks.

"course" is the course experiment unchanged: 1000 sequences of 5 numbers 0-9, a uniform start,
each next = (previous + 1) % 10; input seq[:-1], target seq[1:]; a random 80/20 split; batch 32;
10 epochs; Adam lr 0.01; cross-entropy over every position; the model built as Class(8, 16, 10).
On it a per-token feedforward model (it sees only the current number) scores 1.000 like the RNN,
so the threshold cannot tell them apart: it is measured and reported, not graded.

"context" is the graded variant: the same protocol, but each sequence has its own step size
k in STEPS, next = (previous + k) % 10. The next number depends on the previous one as well as
the current one, so only a model with memory can predict it. Training still uses every position;
validation accuracy is scored on target positions 2-4 (SCORED_POSITIONS): the first target
follows a single number, where k cannot be known by any model, so scoring it only adds a
chance term (1/3) and caps every model at about 0.83.
"""
import torch

from autograder.authoring.stream import Stream
from autograder.authoring.training import sub_seed, train
from autograder.judge import grading_key

N_SEQUENCES, SEQ_LEN, N_VALUES = 1000, 5, 10
TRAIN_FRACTION = 0.8
BATCH_SIZE, EPOCHS, LR = 32, 10, 0.01
MODEL_ARGS = [8, 16, 10]  # Class(input_size, hidden_size, output_size)
STEPS = (1, 2, 3)
SCORED_POSITIONS = {"course": None, "context": slice(1, None)}
GRADED_VARIANT = "context"
THRESHOLD = 0.75       # validation accuracy must be strictly greater
READS_AHEAD_LIMIT = 0.02  # share of earlier-step predictions cutting later steps may change (float noise at ties)
PARAM_LIMIT = 2000     # "do not increase the model size drastically": the reference has 666

ID = "sequence-memory"


def make_data(seed, variant="context"):
    """Train/validation tensors (int64) for one seed, drawn from a secret Stream (not the global RNG)."""
    g = Stream(seed, f"{ID}/data")
    start = g.randint(0, N_VALUES, (N_SEQUENCES, 1))
    if variant == "course":
        step = torch.ones(N_SEQUENCES, 1, dtype=torch.int64)
    elif variant == "context":
        choices = torch.tensor(STEPS)
        step = choices[g.randint(0, len(STEPS), (N_SEQUENCES, 1))]
    else:
        raise ValueError(f"unknown variant {variant!r}")
    seq = (start + step * torch.arange(SEQ_LEN)) % N_VALUES
    order = g.randperm(N_SEQUENCES)
    n_train = int(TRAIN_FRACTION * N_SEQUENCES)
    tr, val = order[:n_train], order[n_train:]
    x, y = seq[:, :-1], seq[:, 1:]
    return {"x_train": x[tr], "y_train": y[tr], "x_val": x[val], "y_val": y[val],
            "step": step[:, 0]}


def run(session, seed, class_name="RNNPredictor", variant=GRADED_VARIANT):
    """Build Class(8, 16, 10) in the session and train it by the protocol; the judge scores it."""
    data = make_data(seed, variant)
    info = session.new_model(class_name, MODEL_ARGS, {}, sub_seed(seed, "init"))
    outcome = train(session, data, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, seed=seed,
                    num_classes=N_VALUES, positions=SCORED_POSITIONS[variant], causal=True)
    outcome.model = info
    return outcome


RULE = f"val acc > {THRESHOLD}, parameters <= {PARAM_LIMIT:,}, reads ahead <= {READS_AHEAD_LIMIT:.0%}"  # what passes() says, for reports


def passes(outcome):
    """The graded rule: strict threshold, the parameter limit, and no reading ahead."""
    return (outcome.val_acc > THRESHOLD and outcome.model.get("n_params", 0) <= PARAM_LIMIT
            and outcome.reads_ahead <= READS_AHEAD_LIMIT)


# Grading and calibration seeds come from the secret grading key: protocol.GRADING_SEEDS and
# protocol.CALIBRATION_SEEDS, derived on first use (autograder/judge/grading_key.py).
__getattr__ = grading_key.seed_attributes(ID)

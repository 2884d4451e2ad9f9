"""rnn-pipeline: the grader's data, protocol, seeds and threshold for q4 (training check).

Data: 1000 sequences x 10 time steps x 5 features, 3 classes. Each sequence is Gaussian noise
(std NOISE) plus a bump of +BUMP on every feature for 2 consecutive steps; the class says which
third of the sequence holds the bump (start step 0, 3 or 6, plus a random shift of 0 or 1). Every
class adds the same total to the sequence, so its mean over time carries no class: only a model
that uses the order of the steps can classify it.
Protocol: a random 800/200 split, SequenceClassifier(5, 8, 3), batch 32, Adam lr 0.01, 5 epochs,
last weights scored; pass iff validation accuracy >= THRESHOLD.
"""
import torch

from autograder.authoring.stream import Stream
from autograder.authoring.training import sub_seed, train
from autograder.judge import grading_key

N_SEQUENCES, SEQ_LEN, N_FEATURES, N_CLASSES = 1000, 10, 5, 3
N_TRAIN = 800
BUMP_STARTS = (0, 3, 6)      # first bump step of each class, before the random shift
BUMP_LEN, BUMP, NOISE = 2, 1.0, 0.5
BATCH_SIZE, EPOCHS, LR = 32, 5, 0.01
MODEL_ARGS = [5, 8, 3]
THRESHOLD = 0.85             # validation accuracy must be >= this

ID = "rnn-pipeline"


def make_data(seed):
    """Train/validation tensors for one seed, drawn from a secret Stream (not the global RNG)."""
    g = Stream(seed, f"{ID}/data")
    y = g.randint(0, N_CLASSES, (N_SEQUENCES,))
    start = torch.tensor(BUMP_STARTS)[y] + g.randint(0, 2, (N_SEQUENCES,))
    steps = torch.arange(SEQ_LEN)
    in_bump = (steps >= start[:, None]) & (steps < start[:, None] + BUMP_LEN)   # (N, T)
    x = NOISE * g.randn(N_SEQUENCES, SEQ_LEN, N_FEATURES)
    x += BUMP * in_bump[:, :, None].float()
    order = g.randperm(N_SEQUENCES)
    tr, val = order[:N_TRAIN], order[N_TRAIN:]
    return {"x_train": x[tr], "y_train": y[tr], "x_val": x[val], "y_val": y[val]}


def run(session, seed, class_name="SequenceClassifier"):
    data = make_data(seed)
    info = session.new_model(class_name, MODEL_ARGS, {}, sub_seed(seed, "init"))
    outcome = train(session, data, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, seed=seed,
                    num_classes=N_CLASSES)
    outcome.model = info
    return outcome


RULE = f"val acc >= {THRESHOLD}"  # what passes() says, for reports


def passes(outcome):
    return outcome.val_acc >= THRESHOLD


# Grading and calibration seeds come from the secret grading key: protocol.GRADING_SEEDS and
# protocol.CALIBRATION_SEEDS, derived on first use (autograder/judge/grading_key.py).
__getattr__ = grading_key.seed_attributes(ID)

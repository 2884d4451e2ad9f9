"""Judge-side training loops over a TrainingSession (in the worker, or in-process for calibration).

The judge keeps the validation labels: the session only ever sees validation inputs and returns
predictions, and the accuracies are computed here. Every seed the session gets is a hash of the
grading seed, itself derived from the secret grading key, so one (model, seed) pair always gives
the same numbers and no seed the worker sees can be traced back.
"""
import hashlib
import time
from dataclasses import dataclass, field

import torch

from .assignment import UnreadableAnswer


@dataclass
class TrainingOutcome:
    val_acc: float
    train_acc: float             # against the labels the model was trained on
    epochs_run: int
    curve: list                  # one {epoch, loss, val_acc, train_acc} per epoch
    cpu_seconds: float | None    # this process's CPU time: None unless the session runs in-process
    wall_seconds: float = 0.0
    model: dict = field(default_factory=dict)   # what session.new_model returned
    stopped_early: bool = False
    best_epoch: int = 0
    reads_ahead: float = 0.0     # causal scoring: share of earlier-step predictions that changed when later steps were cut


def sub_seed(seed, tag):
    """A seed for one use (init, shuffling, dropout, ...) derived from the grading seed, stable
    across processes and Python versions. A hash (SHA-256, 63 bits): the worker sees these seeds,
    and from a secret grading seed (autograder/judge/grading_key.py) nothing leads back to it."""
    return int.from_bytes(hashlib.sha256(f"rnnkit-sub-seed:{seed}:{tag}".encode()).digest()[:8], "little") >> 1


def accuracy(pred, labels, positions=None):
    """Fraction of predictions equal to the labels; `positions` selects steps of (N, T) labels."""
    pred = torch.as_tensor(pred)
    if tuple(pred.shape) != tuple(labels.shape):
        raise UnreadableAnswer(f"predictions have shape {tuple(pred.shape)}, "
                         f"labels {tuple(labels.shape)}")
    if positions is not None:
        pred, labels = pred[:, positions], labels[:, positions]
    return (pred == labels).double().mean().item()


def _in_process(session):
    # A proxy to a worker would forward unknown attributes; only the real class sets this to True.
    return getattr(type(session), "IN_PROCESS", False) is True


def train(session, data, *, epochs, batch_size, lr, seed, num_classes, weight_decay=0.0,
          patience=None, positions=None, causal=False):
    """Train the session's current model on data["x_train"], data["y_train"].

    patience=None: a fixed number of epochs, the last weights are scored.
    causal=True (one label per step): each validation step is predicted from the prefix that ends
    there, so no model, whatever it does, sees the numbers that follow (the next one is the target).

    patience=k: stop once validation accuracy has not improved for k epochs in a row; when it
    stops that way, the best epoch's scores stand (the scores of the weights early stopping
    restores). When the epoch budget runs out first, the last epoch's scores stand, as without
    early stopping (an exhausted budget is not an early stop: this is what makes a config with
    patience >= epochs "no early stopping").

    The best epoch is kept here, never in the worker: a snapshot taken only when validation
    accuracy improves would tell the student's code, one bit per epoch, how its predictions
    fared against the hidden validation labels (an oracle a submission used to read them out).
    The worker sees the same calls every epoch; only when training stops shows.
    """
    cpu0, wall0 = time.process_time(), time.perf_counter()
    x_tr, y_tr, x_val, y_val = data["x_train"], data["y_train"], data["x_val"], data["y_val"]
    session.new_optimizer(lr, weight_decay)

    ahead = []

    def scores():
        if causal:
            p_val, changed = _causal_predictions(session, x_val, num_classes)
            ahead.append(changed)
        else:
            p_val = session.predict(x_val, list(y_val.shape), num_classes)
        p_tr = session.predict(x_tr, list(y_tr.shape), num_classes)
        return accuracy(p_val, y_val, positions), accuracy(p_tr, y_tr, positions)

    curve, best, since_best, stopped = [], None, 0, False
    for epoch in range(1, epochs + 1):
        loss = session.train_epoch(x_tr, y_tr, batch_size, sub_seed(seed, f"epoch{epoch}"),
                                   num_classes)
        val_acc, train_acc = scores()
        curve.append({"epoch": epoch, "loss": loss, "val_acc": val_acc, "train_acc": train_acc,
                      "reads_ahead": ahead[-1] if ahead else 0.0})
        if patience is None:
            continue
        if best is None or val_acc > best["val_acc"]:
            best, since_best = curve[-1], 0
        else:
            since_best += 1
            if since_best >= patience:
                stopped = True
                break
    final = best if stopped else curve[-1]
    val_acc, train_acc = final["val_acc"], final["train_acc"]
    cpu = time.process_time() - cpu0 if _in_process(session) else None
    return TrainingOutcome(val_acc=val_acc, train_acc=train_acc, epochs_run=len(curve),
                           curve=curve, cpu_seconds=cpu,
                           wall_seconds=time.perf_counter() - wall0,
                           stopped_early=stopped, best_epoch=final["epoch"], reads_ahead=final["reads_ahead"])


def _causal_predictions(session, x, num_classes):
    """((N, T) predictions where step t comes from the model run on x[:, :t + 1] alone, the share of
    earlier-step predictions that changed when later steps were cut). A model that reads ahead (a
    bidirectional layer) gains nothing: what follows a step is not in its input. And since every
    call is a prediction on the validation data, of one length or another, no model can tell a
    probe from a scored call: the second number is its look-ahead, measured where it is used."""
    preds = []
    for t in range(x.shape[1]):
        pred = session.predict(x[:, :t + 1], [x.shape[0], t + 1], num_classes)
        if not isinstance(pred, torch.Tensor) or tuple(pred.shape) != (x.shape[0], t + 1):
            raise UnreadableAnswer(f"predictions of shape {tuple(getattr(pred, 'shape', ()))} for a prefix of "
                                   f"{t + 1} steps")
        preds.append(pred)
    full = preds[-1]
    changed = sum(int((p != full[:, :p.shape[1]]).sum()) for p in preds[:-1])
    compared = sum(p.numel() for p in preds[:-1])
    return torch.stack([p[:, -1] for p in preds], dim=1), changed / compared if compared else 0.0

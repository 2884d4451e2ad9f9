"""Judge-side training loops over a TrainingSession (in the worker, or in-process for calibration).

The judge keeps the validation labels: the session only ever sees validation inputs and returns
predictions, and the accuracies are computed here. Every seed the session gets is derived from the
grading seed, so one (model, seed) pair always gives the same numbers.
"""
import time
import zlib
from dataclasses import dataclass, field

import torch

from .assignment import UnreadableReply


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


def sub_seed(seed, tag):
    """A seed for one use (init, shuffling, ...) derived from the grading seed, stable across
    processes and Python versions (unlike hash())."""
    return zlib.crc32(f"{seed}:{tag}".encode())


def accuracy(pred, labels, positions=None):
    """Fraction of predictions equal to the labels; `positions` selects steps of (N, T) labels."""
    if not isinstance(pred, torch.Tensor) or tuple(pred.shape) != tuple(labels.shape):
        # the session checks the shape before it answers: only a changed worker sends this
        raise UnreadableReply(f"predictions of shape {tuple(getattr(pred, 'shape', ()))} for labels of "
                              f"shape {tuple(labels.shape)}")
    if positions is not None:
        pred, labels = pred[:, positions], labels[:, positions]
    return (pred == labels).double().mean().item()


def _in_process(session):
    # A proxy to a worker would forward unknown attributes; only the real class sets this to True.
    return getattr(type(session), "IN_PROCESS", False) is True


def train(session, data, *, epochs, batch_size, lr, seed, num_classes, weight_decay=0.0,
          patience=None, positions=None):
    """Train the session's current model on data["x_train"], data["y_train"].

    patience=None: a fixed number of epochs, the last weights are scored.
    patience=k: stop once validation accuracy has not improved for k epochs in a row; when it
    stops that way, the best weights are restored and scored. When the epoch budget runs out
    first, the last weights stand, as without early stopping (an exhausted budget is not an
    early stop: this is what makes a config with patience >= epochs "no early stopping").
    """
    cpu0, wall0 = time.process_time(), time.perf_counter()
    x_tr, y_tr, x_val, y_val = data["x_train"], data["y_train"], data["x_val"], data["y_val"]
    session.new_optimizer(lr, weight_decay)

    def scores():
        p_val = session.predict(x_val, list(y_val.shape), num_classes)
        p_tr = session.predict(x_tr, list(y_tr.shape), num_classes)
        return accuracy(p_val, y_val, positions), accuracy(p_tr, y_tr, positions)

    curve, best, since_best, stopped = [], None, 0, False
    for epoch in range(1, epochs + 1):
        loss = session.train_epoch(x_tr, y_tr, batch_size, sub_seed(seed, f"epoch{epoch}"),
                                   num_classes)
        val_acc, train_acc = scores()
        curve.append({"epoch": epoch, "loss": loss, "val_acc": val_acc, "train_acc": train_acc})
        if patience is None:
            continue
        if best is None or val_acc > best["val_acc"]:
            best, since_best = curve[-1], 0
            session.snapshot()
        else:
            since_best += 1
            if since_best >= patience:
                stopped = True
                break
    if stopped:
        session.restore()
        val_acc, train_acc = scores()  # score the restored model itself, not the remembered numbers
    final = best if stopped else curve[-1]
    cpu = time.process_time() - cpu0 if _in_process(session) else None
    return TrainingOutcome(val_acc=val_acc, train_acc=train_acc, epochs_run=len(curve),
                           curve=curve, cpu_seconds=cpu,
                           wall_seconds=time.perf_counter() - wall0,
                           stopped_early=stopped, best_epoch=final["epoch"])

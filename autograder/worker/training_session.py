"""Worker-side training primitives for the grader's training checks.

This file is copied into the sandbox that runs student code, so it imports only torch and the
standard library. The judge process owns the protocol (data, seeds, epochs, early stopping) and
the validation labels; it drives a `TrainingSession` one primitive at a time: build the student's
model, make an optimizer, train one epoch on the training data it sends, return predictions.
Accuracy is never computed here.

Every argument and return value is plain data (tensors, numbers, str, lists, dicts) because calls
cross a process boundary. Bad student models raise ordinary exceptions with a message meant for
the student; the judge turns them into feedback.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def module_settings(module):
    """The constructor settings the judge's structure checks look at, as plain data."""
    if isinstance(module, nn.RNNBase):  # nn.RNN, nn.LSTM, nn.GRU
        return {"input_size": module.input_size, "hidden_size": module.hidden_size,
                "num_layers": module.num_layers, "dropout": float(module.dropout),
                "batch_first": bool(module.batch_first),
                "bidirectional": bool(module.bidirectional), "bias": bool(module.bias),
                "nonlinearity": str(getattr(module, "nonlinearity", ""))}
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return {"p": float(module.p)}
    if isinstance(module, nn.Linear):
        return {"in_features": module.in_features, "out_features": module.out_features}
    if isinstance(module, nn.Embedding):
        return {"num_embeddings": module.num_embeddings, "embedding_dim": module.embedding_dim}
    return {}


def describe_module(module):
    """A module's structure as plain data: [name, class name, settings] per submodule."""
    return {"n_params": int(sum(p.numel() for p in module.parameters())),
            "training": bool(module.training),
            "modules": [[name, type(m).__name__, module_settings(m)] for name, m in module.named_modules()]}


def _shape(t):
    return "(" + ", ".join(str(d) for d in t) + ")"


class TrainingSession:
    """One student model and its optimizer. No copy of the best weights: early stopping is
    decided and scored in the judge, so nothing here learns which epochs improved."""

    # The judge's loops read this to know that this process's CPU time is the training's cost;
    # a proxy to a worker process does not define it.
    IN_PROCESS = True

    def __init__(self, namespace):
        self.namespace = namespace
        self.model = None
        self.optimizer = None
        # Calibration measured everything with one thread; more threads may change the floats.
        torch.set_num_threads(1)

    def new_model(self, class_name, args, kwargs, seed):
        cls = self.namespace.get(class_name)
        if cls is None:
            raise NameError(f"{class_name} is not defined: run the cell that defines the class")
        if not isinstance(cls, type):
            raise TypeError(f"{class_name} should be a class, found {type(cls).__name__}")
        torch.manual_seed(seed)  # the same seed gives the same initial weights
        model = cls(*args, **kwargs)
        if not isinstance(model, nn.Module):
            raise TypeError(f"{class_name} must subclass nn.Module")
        self.model, self.optimizer = model, None
        return describe_module(model)

    def new_optimizer(self, lr, weight_decay=0.0):
        self._need_model()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=float(lr),
                                          weight_decay=float(weight_decay))

    def train_epoch(self, x, y, batch_size, seed, num_classes=None):
        """One pass over (x, y) in an order fixed by `seed`; returns the mean batch loss."""
        self._need_model()
        if self.optimizer is None:
            raise RuntimeError("new_optimizer must be called before train_epoch")
        self.model.train()
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
        torch.manual_seed(seed)  # dropout masks come from the global generator
        losses = []
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            xb, yb = x[idx], y[idx]
            self.optimizer.zero_grad()
            logits = self._logits(xb, tuple(yb.shape), num_classes)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return float(sum(losses) / len(losses))

    def forward_shape(self, x):
        """The output's shape as a list, or the type name of whatever forward returned instead."""
        self._need_model()
        self.model.eval()
        with torch.no_grad():
            out = self.model(x)
        if not isinstance(out, torch.Tensor):
            return type(out).__name__
        return list(out.shape)

    def outputs(self, x, mode, seeds):
        """The model's output on x once per seed (the global generator, which dropout draws from,
        seeded first), in mode "eval", "train", "train-outside-recurrent" (training mode except the
        nn.RNN/LSTM/GRU layers, so that only dropout outside them can act) or "train-recurrent-only"
        (only those layers in training mode, so that only their dropout between layers acts). Each
        output is a tensor, or the type name of what forward returned instead."""
        self._need_model()
        if mode not in ("eval", "train", "train-outside-recurrent", "train-recurrent-only"):
            raise ValueError(f"unknown mode {mode!r}")
        self.model.train(mode in ("train", "train-outside-recurrent"))
        for module in self.model.modules():
            if isinstance(module, nn.RNNBase) and mode != "eval":
                module.train(mode != "train-outside-recurrent")
        outs = []
        with torch.no_grad():
            for seed in seeds:
                torch.manual_seed(int(seed))
                out = self.model(x)
                outs.append(out if isinstance(out, torch.Tensor) else type(out).__name__)
        self.model.eval()
        return outs

    def predict(self, x, label_shape=None, num_classes=None):
        """Argmax class per example (or per step), int64; shape checked when the judge gives it."""
        self._need_model()
        self.model.eval()
        with torch.no_grad():
            if label_shape is None:
                logits = self.model(x)
            else:
                logits = self._logits(x, tuple(label_shape), num_classes)
        return logits.argmax(dim=-1).to(torch.int64)

    def _need_model(self):
        if self.model is None:
            raise RuntimeError("new_model must be called first")

    def _logits(self, x, label_shape, num_classes):
        """Run the model and check it returned one logit vector per label."""
        out = self.model(x)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"forward must return one tensor of logits, returned "
                            f"{type(out).__name__}")
        if num_classes is not None:
            expected = label_shape + (num_classes,)
            if tuple(out.shape) != expected:
                raise ValueError(f"model returned shape {_shape(out.shape)} but the protocol "
                                 f"needs {_shape(expected)}")
        elif tuple(out.shape[:-1]) != label_shape:
            raise ValueError(f"model returned shape {_shape(out.shape)} but the protocol needs "
                             f"{_shape(label_shape + ('num_classes',))}")
        if not out.is_floating_point():
            raise TypeError(f"forward must return float logits, returned {out.dtype}")
        return out

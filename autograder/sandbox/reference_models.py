"""Models the grader builds itself and hands to a student's function (e.g. predict_next).

The judge trains them in its own process and sends their weights; the worker rebuilds them
from this same file. Imports only torch: this file is copied into the sandbox.
"""
import torch
from torch import nn


class NextNumberModel(nn.Module):
    """Embedding -> RNN -> a linear head per step: logits (batch, seq_len, n_values)."""

    def __init__(self, n_values=10, embedding_dim=8, hidden_size=16):
        super().__init__()
        self.init_kwargs = {"n_values": n_values, "embedding_dim": embedding_dim, "hidden_size": hidden_size}
        self.embedding = nn.Embedding(n_values, embedding_dim)
        self.rnn = nn.RNN(embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_values)

    def forward(self, x):
        out, _ = self.rnn(self.embedding(x))
        return self.head(out)


BUILDERS = {"NextNumberModel": NextNumberModel}

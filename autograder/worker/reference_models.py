"""Models the grader builds itself and hands to a student's function (e.g. predict_next).

The judge trains them in its own process and sends their weights; the worker rebuilds them
from this same file. Imports only torch: this file is copied into the sandbox.
"""
import torch
from torch import nn


class NextNumberModel(nn.Module):
    """Embedding -> RNN -> a linear head per step: logits (batch, seq_len, output_size)."""

    def __init__(self, input_size=8, hidden_size=16, output_size=10):  # RNNPredictor's interface
        super().__init__()
        self.init_kwargs = {"input_size": input_size, "hidden_size": hidden_size, "output_size": output_size}
        self.embedding = nn.Embedding(output_size, input_size)
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.rnn(self.embedding(x))
        return self.head(out)


BUILDERS = {"NextNumberModel": NextNumberModel}

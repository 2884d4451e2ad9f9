"""Common mistakes for rnn-pipeline, as edits of the reference solution (see variants.py)."""
from ...variants import Mistake

MISTAKES = [
    Mistake("q4-first-step-instead-of-last", "return self.fc(h_n[-1])  # logits (batch, num_classes)",
            "return self.fc(out[:, 0])", {"q4"}, "last time step"),
    Mistake("q2-returns-h-n", "output, _ = model.rnn(x)", "_, output = model.rnn(x)", {"q2"}, "h_n"),
    Mistake("q3-softmax-over-batch", "return torch.softmax(logits, dim=1)", "return torch.softmax(logits, dim=0)",
            {"q3"}, "sum to 1"),
]

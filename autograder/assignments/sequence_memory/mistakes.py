"""Common mistakes for sequence-memory, as edits of the reference solution (see variants.py)."""
from ...variants import Mistake

MISTAKES = [
    Mistake("q1-50k-parameters",
            "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)\n        self.fc = nn.Linear(hidden_size, output_size)",
            "self.rnn = nn.RNN(input_size, 220, batch_first=True)\n        self.fc = nn.Linear(220, output_size)",
            {"q1"}, "parameters", partial=True),
    Mistake("q1-no-memory-between-steps",
            "out, _ = self.rnn(x)   # (batch, seq_len, hidden_size): the hidden state after each step",
            "out = self.rnn(x.reshape(-1, 1, x.shape[-1]))[0].reshape(x.shape[0], x.shape[1], -1)",
            {"q1"}, "only the previous numbers reveal", partial=True),
    Mistake("q3-nested-list", "return scores[0].argmax(dim=-1).tolist()", "return scores.argmax(dim=-1).tolist()",
            {"q3"}, "nested list"),
]

"""Common mistakes for sequence-memory, as edits of the reference solution, and what calibration
trains: the reference classes, the notebook's feedforward baseline and the oversized mistake."""
from ...authoring import Mistake
from ...authoring.calibration import Calibrated, Candidate

MISTAKES = [
    Mistake("q1-50k-parameters",
            "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)\n        self.fc = nn.Linear(hidden_size, output_size)",
            "self.rnn = nn.RNN(input_size, 220, batch_first=True)\n        self.fc = nn.Linear(220, output_size)",
            {"q1"}, "parameters", partial=True),  # about 52,000 parameters
    Mistake("q1-no-memory-between-steps",
            "out, _ = self.rnn(x)   # (batch, seq_len, hidden_size): the hidden state after each step",
            "out = self.rnn(x.reshape(-1, 1, x.shape[-1]))[0].reshape(x.shape[0], x.shape[1], -1)",
            {"q1"}, "only the previous numbers reveal", partial=True),
    Mistake("q3-nested-list", "return scores[0].argmax(dim=-1).tolist()", "return scores.argmax(dim=-1).tolist()",
            {"q3"}, "nested list"),
]

_FF_NOTE = "the notebook's feedforward baseline submitted as the answer"
CALIBRATION = (
    Calibrated("sequence-memory q1/q2: context variant", True, (
        Candidate("RNNPredictor (reference)", "reference", "RNNPredictor", True),
        Candidate("LSTMPredictor (bonus reference)", "reference", "LSTMPredictor", True),
        Candidate("per-token feedforward", "baseline", "FeedForwardPredictor", False, note=_FF_NOTE),
        Candidate("RNNPredictor, 52k parameters", "wrong answer", "RNNPredictor", False,
                  mistake="q1-50k-parameters", note="fails the 2,000-parameter limit"),
    ), {"variant": "context"}, "k in {1, 2, 3} per sequence; target positions 2-4 scored"),
    Calibrated("sequence-memory: course data (reported, not graded)", False, (
        Candidate("RNNPredictor (reference)", "reference", "RNNPredictor", True),
        Candidate("LSTMPredictor (bonus reference)", "reference", "LSTMPredictor", True),
        Candidate("per-token feedforward", "reported", "FeedForwardPredictor", None,
                  note="passes too: next = current + 1 needs no memory"),
    ), {"variant": "course"}, "the course experiment unchanged: all positions scored"),
)

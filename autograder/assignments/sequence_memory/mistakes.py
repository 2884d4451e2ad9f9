"""Common mistakes for sequence-memory, as edits of the reference solution, and what calibration
trains: the reference classes, the notebook's feedforward baseline and the oversized mistake."""
from ...authoring import Alternative, Mistake
from ...authoring.calibration import Calibrated, Candidate

MISTAKES = [
    Mistake("q1-50k-parameters",
            "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)\n        self.fc = nn.Linear(hidden_size, output_size)",
            "self.rnn = nn.RNN(input_size, 220, batch_first=True)\n        self.fc = nn.Linear(220, output_size)",
            {"q1"}, "parameters", partial=True),  # about 52,000 parameters
    Mistake("q1-no-memory-between-steps",
            "out, _ = self.rnn(x)   # (batch, seq_len, hidden_size): the hidden state after each step",
            "out = self.rnn(x.reshape(-1, 1, x.shape[-1]))[0].reshape(x.shape[0], x.shape[1], -1)",
            {"q1"}, "the model has no memory", partial=True),
    Mistake("q3-nested-list", "return scores[0].argmax(dim=-1).tolist()", "return scores.argmax(dim=-1).tolist()",
            {"q3"}, "nested list"),
    # reads the next number, which is the target: full accuracy, and no memory needed
    Mistake("q1-bidirectional-looks-ahead",
            "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)\n        self.fc = nn.Linear(hidden_size, output_size)",
            "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True, bidirectional=True)\n"
            "        self.fc = nn.Linear(2 * hidden_size, output_size)",
            {"q1"}, "reads ahead", partial=True),
    # the question promises a plain list as well as a tensor
    Mistake("q3-tensor-only", "x = torch.as_tensor(sequence, dtype=torch.long).unsqueeze(0)",
            "x = sequence.long().unsqueeze(0)", {"q3"}, "raised AttributeError"),
]

ALTERNATIVES = [
    Alternative("time-first-with-transposes", (
        ("self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)", "self.rnn = nn.RNN(input_size, hidden_size)"),
        ("out, _ = self.rnn(x)   # (batch, seq_len, hidden_size)",
         "out = self.rnn(x.transpose(0, 1))[0].transpose(0, 1)  # time-first inside"))),
    Alternative("relu-rnn-without-bias", (
        ("self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)",
         "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True, nonlinearity='relu', bias=False)"),)),
]

_FF_NOTE = "the notebook's feedforward baseline submitted as the answer"
CALIBRATION = (
    Calibrated("sequence-memory q1/q2: context variant", True, (
        Candidate("RNNPredictor (reference)", "reference", "RNNPredictor", True),
        Candidate("LSTMPredictor (bonus reference)", "reference", "LSTMPredictor", True),
        Candidate("per-token feedforward", "baseline", "FeedForwardPredictor", False, note=_FF_NOTE),
        Candidate("RNNPredictor, 52k parameters", "wrong answer", "RNNPredictor", False,
                  mistake="q1-50k-parameters", note="fails the 2,000-parameter limit"),
        Candidate("bidirectional RNNPredictor (reads ahead)", "reported", "RNNPredictor", None,
                  mistake="q1-bidirectional-looks-ahead",
                  note="the next input is the target; q1's order check catches it"),
    ), {"variant": "context"}, "k in {1, 2, 3} per sequence; target positions 2-4 scored"),
    Calibrated("sequence-memory: course data (reported, not graded)", False, (
        Candidate("RNNPredictor (reference)", "reference", "RNNPredictor", True),
        Candidate("LSTMPredictor (bonus reference)", "reference", "LSTMPredictor", True),
        Candidate("per-token feedforward", "reported", "FeedForwardPredictor", None,
                  note="passes too: next = current + 1 needs no memory"),
    ), {"variant": "course"}, "the course experiment unchanged: all positions scored"),
)

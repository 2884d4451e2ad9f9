"""The models calibration trains, as Python source exactly as a student would write it.

For each training check: the reference solution (must pass every calibration seed), the
documented baseline (must fail every seed) and common wrong answers. Calibration execs each
source into a fresh namespace and runs the assignment's protocol on it, so these are also the
grader's ground truth for "what a correct / a wrong submission scores".
"""
from dataclasses import dataclass, field

_IMPORTS = "import torch\nimport torch.nn as nn\n\n"

RNN_PREDICTOR = _IMPORTS + '''
class RNNPredictor(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(10, input_size)
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.embedding(x)   # (batch, seq_len, input_size)
        out, _ = self.rnn(x)    # (batch, seq_len, hidden_size)
        return self.fc(out)     # (batch, seq_len, output_size)
'''

LSTM_PREDICTOR = _IMPORTS + '''
class LSTMPredictor(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(10, input_size)
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.lstm(self.embedding(x))
        return self.fc(out)
'''

# The notebook's starting point: each position is predicted from the current number alone.
FEEDFORWARD_PREDICTOR = _IMPORTS + '''
class FeedForwardPredictor(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(10, input_size)
        self.net = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU(),
                                 nn.Linear(hidden_size, output_size))

    def forward(self, x):
        return self.net(self.embedding(x))   # applied to every position independently
'''

# "Do not increase the model size drastically": a 2-layer RNN 8x wider, about 52,000 parameters.
BIG_RNN_PREDICTOR = _IMPORTS + '''
class RNNPredictor(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(10, input_size)
        self.rnn = nn.RNN(input_size, hidden_size * 8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden_size * 8, output_size)

    def forward(self, x):
        out, _ = self.rnn(self.embedding(x))
        return self.fc(out)
'''

SEQUENCE_CLASSIFIER = _IMPORTS + '''
class SequenceClassifier(nn.Module):
    def __init__(self, input_size=5, hidden_size=8, num_classes=3):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, h_n = self.rnn(x)      # h_n: (1, batch, hidden_size)
        return self.fc(h_n[-1])     # logits (batch, num_classes)
'''

# Order-free control: averaging over time throws the order of the steps away.
MEAN_OVER_TIME_CLASSIFIER = _IMPORTS + '''
class MeanOverTimeClassifier(nn.Module):
    def __init__(self, input_size=5, hidden_size=8, num_classes=3):
        super().__init__()
        self.fc = nn.Linear(input_size, num_classes)

    def forward(self, x):
        return self.fc(x.mean(dim=1))
'''

# A common slip: out[:, 0, :] is the hidden state after the FIRST step, not the last.
FIRST_STEP_CLASSIFIER = _IMPORTS + '''
class SequenceClassifier(nn.Module):
    def __init__(self, input_size=5, hidden_size=8, num_classes=3):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, 0, :])
'''

SIMPLE_RNN = _IMPORTS + '''
class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size, dropout=0.3):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers=2, batch_first=True,
                          dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.rnn(x)
        out = self.dropout(out[:, -1, :])   # the last step's output
        return self.fc(out)
'''

# The notebook's starting model: the same network without any dropout.
SIMPLE_RNN_NO_DROPOUT = _IMPORTS + '''
class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size, dropout=0.3):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])
'''

# The course's fix: small model, low learning rate, early stopping with patience 3.
REFERENCE_CONFIG = {"hidden_size": 32, "lr": 0.001, "epochs": 30, "patience": 3,
                    "batch_size": 32, "weight_decay": 0.0}
# The notebook's starting configuration: twice the width, 5x the learning rate, and a patience
# as long as the training, so early stopping never fires. It memorises the noisy training labels
# within 40 epochs (train 1.00) at about 2 s of CPU per run.
OVERFITTING_CONFIG = {"hidden_size": 64, "lr": 0.005, "epochs": 40, "patience": 40,
                      "batch_size": 32, "weight_decay": 0.0}


@dataclass(frozen=True)
class Candidate:
    label: str
    role: str                 # reference | baseline | wrong answer | reported
    source: str
    class_name: str
    expect_pass: bool | None  # None: measured and reported, not a calibration gate
    config: dict | None = None
    note: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    assignment: str           # package under autograder.assignments
    graded: bool              # only graded checks gate calibration
    candidates: tuple
    run_kwargs: dict = field(default_factory=dict)
    note: str = ""


_FF_NOTE = "the notebook's feedforward baseline submitted as the answer"

CHECKS = (
    Check("sequence-memory q1/q2: context variant", "sequence_memory", True, (
        Candidate("RNNPredictor (reference)", "reference", RNN_PREDICTOR, "RNNPredictor", True),
        Candidate("LSTMPredictor (bonus reference)", "reference", LSTM_PREDICTOR,
                  "LSTMPredictor", True),
        Candidate("per-token feedforward", "baseline", FEEDFORWARD_PREDICTOR,
                  "FeedForwardPredictor", False, note=_FF_NOTE),
        Candidate("RNNPredictor, 52k parameters", "wrong answer", BIG_RNN_PREDICTOR,
                  "RNNPredictor", False, note="fails the 2,000-parameter limit"),
    ), {"variant": "context"}, "k in {1, 2, 3} per sequence; target positions 2-4 scored"),
    Check("sequence-memory: course data (reported, not graded)", "sequence_memory", False, (
        Candidate("RNNPredictor (reference)", "reference", RNN_PREDICTOR, "RNNPredictor", True),
        Candidate("LSTMPredictor (bonus reference)", "reference", LSTM_PREDICTOR,
                  "LSTMPredictor", True),
        Candidate("per-token feedforward", "reported", FEEDFORWARD_PREDICTOR,
                  "FeedForwardPredictor", None,
                  note="passes too: next = current + 1 needs no memory"),
    ), {"variant": "course"}, "the course experiment unchanged: all positions scored"),
    Check("rnn-pipeline q4", "rnn_pipeline", True, (
        Candidate("SequenceClassifier (reference)", "reference", SEQUENCE_CLASSIFIER,
                  "SequenceClassifier", True),
        Candidate("mean over time -> linear", "baseline", MEAN_OVER_TIME_CLASSIFIER,
                  "MeanOverTimeClassifier", False, note="order-free control"),
        Candidate("reads the first step", "wrong answer", FIRST_STEP_CLASSIFIER,
                  "SequenceClassifier", False, note="out[:, 0, :] instead of the last step"),
    )),
    Check("overfitting q3", "overfitting", True, (
        Candidate("SimpleRNN + reference config", "reference", SIMPLE_RNN, "SimpleRNN", True,
                  REFERENCE_CONFIG),
        Candidate("documented overfitting configuration", "baseline", SIMPLE_RNN_NO_DROPOUT,
                  "SimpleRNN", False, OVERFITTING_CONFIG,
                  note="no dropout, wider, lr 0.005, patience = epochs"),
        Candidate("dropout, no early stopping", "wrong answer", SIMPLE_RNN, "SimpleRNN", False,
                  OVERFITTING_CONFIG, note="reference model with the overfitting config"),
        Candidate("early stopping, no dropout", "reported", SIMPLE_RNN_NO_DROPOUT, "SimpleRNN",
                  None, REFERENCE_CONFIG,
                  note="passes on accuracy; q1's structure check (2 layers, dropout) catches it"),
    )),
)

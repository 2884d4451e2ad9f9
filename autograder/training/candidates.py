"""The models calibration trains, as Python source exactly as a student would write it.

References, the notebooks' baselines and configs come from the published reference solution
notebooks (written once, in the master notebooks); the wrong answers are written here.

For each training check: the reference solution (must pass every calibration seed), the
documented baseline (must fail every seed) and common wrong answers. Calibration execs each
source into a fresh namespace and runs the assignment's protocol on it, so these are also the
grader's ground truth for "what a correct / a wrong submission scores".
"""
from dataclasses import dataclass, field

from ..assign import solution_path
from ..assign.definitions import class_source, literal_value

_IMPORTS = "import torch\nimport torch.nn as nn\n\n"


# References, the notebooks' own baselines and the reference configs: read from the reference
# solution notebooks, so each is written once, in its master notebook.
RNN_PREDICTOR = _IMPORTS + class_source(solution_path("sequence-memory"), "RNNPredictor")
LSTM_PREDICTOR = _IMPORTS + class_source(solution_path("sequence-memory"), "LSTMPredictor")
# The notebook's starting point: each position is predicted from the current number alone.
FEEDFORWARD_PREDICTOR = _IMPORTS + class_source(solution_path("sequence-memory"), "FeedForwardPredictor")
SEQUENCE_CLASSIFIER = _IMPORTS + class_source(solution_path("rnn-pipeline"), "SequenceClassifier")
# Order-free control: averaging over time throws the order of the steps away.
MEAN_OVER_TIME_CLASSIFIER = _IMPORTS + class_source(solution_path("rnn-pipeline"), "MeanOverTimeClassifier")
SIMPLE_RNN = _IMPORTS + class_source(solution_path("overfitting"), "SimpleRNN")
# The notebook's starting model: the same network without any dropout.
OVERFITTING_RNN = _IMPORTS + class_source(solution_path("overfitting"), "OverfittingRNN")
# The course's fix: small model, low learning rate, early stopping with patience 3.
REFERENCE_CONFIG = literal_value(solution_path("overfitting"), "config")
# The notebook's starting configuration: twice the width, 5x the learning rate, and a patience
# as long as the training, so early stopping never fires; it memorises the noisy labels.
OVERFITTING_CONFIG = literal_value(solution_path("overfitting"), "starting_config")

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
        Candidate("documented overfitting configuration", "baseline", OVERFITTING_RNN,
                  "OverfittingRNN", False, OVERFITTING_CONFIG,
                  note="no dropout, wider, lr 0.005, patience = epochs"),
        Candidate("dropout, no early stopping", "wrong answer", SIMPLE_RNN, "SimpleRNN", False,
                  OVERFITTING_CONFIG, note="reference model with the overfitting config"),
        Candidate("early stopping, no dropout", "reported", OVERFITTING_RNN, "OverfittingRNN",
                  None, REFERENCE_CONFIG,
                  note="passes on accuracy; q1's structure check (2 layers, dropout) catches it"),
    )),
)

"""Common mistakes for overfitting, as edits of the reference solution, correct answers in other
forms that keep full marks, and what calibration trains: the course's fix, the notebook's starting
configuration and the half-fixes.

Early stopping alone passes the accuracy check (see the calibration report), so the missing
dropout is caught by q1's checks only: the RNN's form (two layers, dropout=dropout) and the
dropout on the way to the output, checked by behaviour.
"""
from ...authoring import Alternative, Mistake
from ...authoring.calibration import Calibrated, Candidate

LAST_STEP = "out = self.dropout(out[:, -1, :])   # the last step's output"

MISTAKES = [
    Mistake("q1-no-dropout", "batch_first=True,\n                          dropout=dropout)", "batch_first=True)",
            {"q1"}, "no dropout between", partial=True),
    Mistake("q3-the-overfitting-configuration",
            'config = {"hidden_size": 32, "lr": 0.001, "epochs": 30, "patience": 3, "batch_size": 32, "weight_decay": 0.0}',
            'config = {"hidden_size": 64, "lr": 0.005, "epochs": 40, "patience": 40, "batch_size": 32, "weight_decay": 0.0}',
            {"q2", "q3"}, "course's recipe", partial=True),  # q2: not the recipe the question gives; q3: it memorises
    Mistake("q1-dropout-stays-on-in-eval", "out = self.dropout(out[:, -1, :])",
            "out = nn.functional.dropout(out[:, -1, :], p=0.3, training=True)", {"q1"}, "eval() mode", partial=True),
    # a dropout module defined in __init__ and never called: the RNN's own dropout still varies the output
    Mistake("q1-dropout-defined-not-applied", LAST_STEP, "out = out[:, -1, :]", {"q1"}, "not applied", partial=True),
    # the first step's output: the grader's data holds no class there, so training fails too
    Mistake("q1-reads-the-first-step", LAST_STEP, "out = self.dropout(out[:, 0, :])", {"q1", "q3"},
            "Changing the last time step does not change the logits", partial=True),
    Mistake("q1-dropout-not-from-the-argument", "self.dropout = nn.Dropout(dropout)", "self.dropout = nn.Dropout(0.3)",
            {"q1"}, "dropout=0.0", partial=True),
]

ALTERNATIVES = [
    Alternative("functional-dropout", ((LAST_STEP, "out = F.dropout(out[:, -1, :], self.p, training=self.training)"),
                                       ("self.dropout = nn.Dropout(dropout)", "self.p = dropout"))),
    Alternative("time-first-with-transposes", (
        ("self.rnn = nn.RNN(input_size, hidden_size, num_layers=2, batch_first=True,",
         "self.rnn = nn.RNN(input_size, hidden_size, num_layers=2,"),
        ("out, _ = self.rnn(x)                 # (batch, seq_len, hidden_size)",
         "out = self.rnn(x.transpose(0, 1))[0].transpose(0, 1)  # time-first inside"))),
]

CALIBRATION = (
    Calibrated("overfitting q3", True, (
        Candidate("SimpleRNN + reference config", "reference", "SimpleRNN", True, config="config"),
        Candidate("documented overfitting configuration", "baseline", "OverfittingRNN", False,
                  config="starting_config", note="no dropout, wider, lr 0.005, patience = epochs"),
        Candidate("dropout, no early stopping", "wrong answer", "SimpleRNN", False,
                  config="starting_config", note="reference model with the overfitting config"),
        Candidate("reads the first step", "wrong answer", "SimpleRNN", False, config="config",
                  mistake="q1-reads-the-first-step", note="out[:, 0] instead of the last step"),
        Candidate("early stopping, no dropout", "reported", "OverfittingRNN", None, config="config",
                  note="passes on accuracy; q1's checks (2 layers, dropout) catch it"),
        Candidate("dropout module defined, not applied", "reported", "SimpleRNN", None, config="config",
                  mistake="q1-dropout-defined-not-applied", note="q1's dropout check catches it"),
    )),
)

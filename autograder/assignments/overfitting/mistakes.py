"""Common mistakes for overfitting, as edits of the reference solution, and what calibration
trains: the course's fix, the notebook's starting configuration and the half-fixes.

Early stopping alone passes the accuracy check (see the calibration report), so the missing
dropout is caught by q1's structure checks only.
"""
from ...authoring import Mistake
from ...authoring.calibration import Calibrated, Candidate

MISTAKES = [
    Mistake("q1-no-dropout", "batch_first=True,\n                          dropout=dropout)", "batch_first=True)",
            {"q1"}, "no dropout between", partial=True),
    Mistake("q3-the-overfitting-configuration",
            'config = {"hidden_size": 32, "lr": 0.001, "epochs": 30, "patience": 3, "batch_size": 32, "weight_decay": 0.0}',
            'config = {"hidden_size": 64, "lr": 0.005, "epochs": 40, "patience": 40, "batch_size": 32, "weight_decay": 0.0}',
            {"q3"}, "memorises"),
    Mistake("q1-dropout-stays-on-in-eval", "out = self.dropout(out[:, -1, :])",
            "out = nn.functional.dropout(out[:, -1, :], p=0.3, training=True)", {"q1"}, "eval() mode", partial=True),
]

CALIBRATION = (
    Calibrated("overfitting q3", True, (
        Candidate("SimpleRNN + reference config", "reference", "SimpleRNN", True, config="config"),
        Candidate("documented overfitting configuration", "baseline", "OverfittingRNN", False,
                  config="starting_config", note="no dropout, wider, lr 0.005, patience = epochs"),
        Candidate("dropout, no early stopping", "wrong answer", "SimpleRNN", False,
                  config="starting_config", note="reference model with the overfitting config"),
        Candidate("early stopping, no dropout", "reported", "OverfittingRNN", None, config="config",
                  note="passes on accuracy; q1's structure check (2 layers, dropout) catches it"),
    )),
)

"""Common mistakes for overfitting, as edits of the reference solution (see variants.py).

Early stopping alone passes the accuracy check (see the calibration report), so the missing
dropout is caught by q1's structure checks only.
"""
from ...variants import Mistake

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

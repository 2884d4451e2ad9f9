"""Common mistakes for rnn-pipeline, as edits of the reference solution, and what calibration
trains: the reference classifier, the order-free baseline and the first-step mistake."""
from ...authoring import Mistake
from ...authoring.calibration import Calibrated, Candidate

MISTAKES = [
    Mistake("q4-first-step-instead-of-last", "return self.fc(h_n[-1])  # logits (batch, num_classes)",
            "return self.fc(out[:, 0])", {"q4"}, "last time step"),
    Mistake("q2-returns-h-n", "output, _ = model.rnn(x)", "_, output = model.rnn(x)", {"q2"}, "h_n"),
    Mistake("q3-softmax-over-batch", "return torch.softmax(logits, dim=1)", "return torch.softmax(logits, dim=0)",
            {"q3"}, "sum to 1"),
]

CALIBRATION = (
    Calibrated("rnn-pipeline q4", True, (
        Candidate("SequenceClassifier (reference)", "reference", "SequenceClassifier", True),
        Candidate("mean over time -> linear", "baseline", "MeanOverTimeClassifier", False,
                  note="order-free control"),
        Candidate("reads the first step", "wrong answer", "SequenceClassifier", False,
                  mistake="q4-first-step-instead-of-last", note="out[:, 0] instead of the last step"),
    )),
)

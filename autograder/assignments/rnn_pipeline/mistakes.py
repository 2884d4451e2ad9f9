"""Common mistakes for rnn-pipeline, as edits of the reference solution, and what calibration
trains: the reference classifier, the order-free baseline and the first-step mistake."""
from ...authoring import Alternative, Mistake
from ...authoring.calibration import Calibrated, Candidate

LOGITS = "return self.fc(h_n[-1])  # logits (batch, num_classes)"
RNN = "self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)"

MISTAKES = [
    Mistake("q4-first-step-instead-of-last", LOGITS, "return self.fc(out[:, 0])", {"q1", "q4"}, "last time step",
            partial=True),
    Mistake("q1-forward-returns-probabilities", LOGITS, "return torch.softmax(self.fc(h_n[-1]), dim=1)", {"q1"},
            "returns probabilities", partial=True),
    Mistake("q2-returns-h-n", "output, _ = model.rnn(x)", "_, output = model.rnn(x)", {"q2"}, "h_n"),
    Mistake("q3-softmax-over-batch", "return torch.softmax(logits, dim=1)", "return torch.softmax(logits, dim=0)",
            {"q3"}, "sum to 1"),
]

ALTERNATIVES = [
    # q1 leaves the RNN's nonlinearity and bias open: q2's reference is the student's own RNN
    Alternative("relu-rnn-without-bias", ((RNN, RNN[:-1] + ", nonlinearity='relu', bias=False)"),)),
    Alternative("time-first-with-transposes", (
        (RNN, "self.rnn = nn.RNN(input_size, hidden_size)"),
        ("out, h_n = self.rnn(x)   # h_n: (1, batch, hidden_size)",
         "out, h_n = self.rnn(x.transpose(0, 1))   # time-first inside"),
        ("output, _ = model.rnn(x)  # output: the hidden state after each step",
         "output = model.rnn(x.transpose(0, 1))[0].transpose(0, 1)"))),
    # log-probabilities are logits too: softmax and the cross-entropy give the same
    Alternative("log-softmax-scores", ((LOGITS, "return torch.log_softmax(self.fc(h_n[-1]), dim=1)"),)),
]

CALIBRATION = (
    Calibrated("rnn-pipeline q4", True, (
        Candidate("SequenceClassifier (reference)", "reference", "SequenceClassifier", True),
        Candidate("mean over time -> linear", "baseline", "MeanOverTimeClassifier", False,
                  note="order-free control"),
        Candidate("reads the first step", "wrong answer", "SequenceClassifier", False,
                  mistake="q4-first-step-instead-of-last", note="out[:, 0] instead of the last step"),
        Candidate("forward returns probabilities", "reported", "SequenceClassifier", None,
                  mistake="q1-forward-returns-probabilities",
                  note="passes on accuracy; q1's logits check catches it"),
    )),
)

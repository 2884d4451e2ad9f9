"""The next-number model the grader trains itself for q3 (judge side only).

It is exactly a q1 answer (RNNPredictor's architecture), so it must never be copied beside the
worker: the judge trains it and sends it to the student's predict_next as a recipe of standard
torch.nn layers (`wire_layers`) plus its weights, which the worker rebuilds generically.
"""
from torch import nn

# Trained without dropout (p=0 here); the copy sent to the worker drops 90% in training mode, so a
# predict_next that forgets model.eval() (the question asks for it) gives predictions that change
# from call to call, while in eval mode both copies compute the same.
TRAINED_DROPOUT, SENT_DROPOUT = 0.0, 0.9


class NextNumberModel(nn.Module):
    """Embedding -> RNN (its output, not the hidden state) -> dropout -> a linear head per step."""

    def __init__(self, input_size=8, hidden_size=16, output_size=10):  # RNNPredictor's interface
        super().__init__()
        self.sizes = (input_size, hidden_size, output_size)
        self.layers = nn.ModuleList([nn.Embedding(output_size, input_size),
                                     nn.RNN(input_size, hidden_size, batch_first=True),
                                     nn.Dropout(TRAINED_DROPOUT),
                                     nn.Linear(hidden_size, output_size)])

    def forward(self, x):
        embedding, rnn, dropout, head = self.layers
        out, _ = rnn(embedding(x))
        return head(dropout(out))

    def wire_layers(self):
        """[kind, constructor kwargs, index taken from a tuple output or None] per layer; the
        worker's generic builder (autograder/worker/worker.py) accepts standard torch.nn layers only."""
        input_size, hidden_size, output_size = self.sizes
        return [["Embedding", {"num_embeddings": output_size, "embedding_dim": input_size}, None],
                ["RNN", {"input_size": input_size, "hidden_size": hidden_size, "batch_first": True}, 0],
                ["Dropout", {"p": SENT_DROPOUT}, None],
                ["Linear", {"in_features": hidden_size, "out_features": output_size}, None]]

"""rnn-pipeline: sequence classification with nn.RNN, the class set by temporal order."""

"""overfitting: fixing an overfitting RNN on learnable data with training-label noise."""

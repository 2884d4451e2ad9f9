"""sequence-memory: next-number prediction (why RNNs handle sequences)."""

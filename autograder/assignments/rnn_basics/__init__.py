"""rnn-basics: fill-in blanks, shapes, comprehensions, variable-length batches (20 points)."""

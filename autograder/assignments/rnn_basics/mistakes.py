"""The contract's common mistakes for rnn-basics, as edits of the reference solution.

Each must lose its question's points with its teaching message (tests/test_grading.py) and
is graded in `make`'s example table. q1 and q2 mistakes also break q3, which runs the RNN.
"""
from ...authoring import Mistake

MISTAKES = [
    Mistake("q1-zero-layers", "num_layers=1)\n# END", "num_layers=0)\n# END", {"q1", "q3"}, "num_layers"),
    Mistake("q1-two-layers", "num_layers=1)\n# END", "num_layers=2)\n# END", {"q1", "q3"}, "one layer",
            partial=True),
    Mistake("q1-swapped-sizes", "RNN(input_size=10, hidden_size=20, num_layers=1)\n# END",
            "RNN(input_size=20, hidden_size=10, num_layers=1)\n# END", {"q1", "q3"}, "swapped", partial=True),
    Mistake("q2-swapped-batch-hidden", "hidden = torch.zeros(1, 5, 20)", "hidden = torch.zeros(1, 20, 5)",
            {"q2", "q3"}, "swapped", partial=True),
    Mistake("q2-ones", "hidden = torch.zeros(1, 5, 20)", "hidden = torch.ones(1, 5, 20)", {"q2", "q3"}, "zeros",
            partial=True),
    Mistake("q3-hidden-first", "output, hidden = rnn(input_seq, hidden)\n# END",
            "output, hidden = rnn(hidden, input_seq)\n# END", {"q3"}, "input sequence comes first"),
    Mistake("q4-wrong-operator", "if len(word) > 3}\n# END", "if len(word) < 3}\n# END", {"q4"}, "reversed"),
    Mistake("q4-at-least-3", "if len(word) > 3}\n# END", "if len(word) >= 3}\n# END", {"q4"}, "too short",
            partial=True),
    Mistake("q4-word-as-value", "{word: len(word) for word in words if len(word) > 3}",
            "{word: word for word in words if len(word) > 3}", {"q4"}, "map each word to len(word)"),
    Mistake("q5-original-case", "{word.upper(): len(word) for", "{word: len(word) for", {"q5"}, "upper case"),
    Mistake("q6-batch-first-ignored", "    if batch_first:\n        output_shape = (batch, seq_len, hidden_size)\n",
            "    if False:\n        pass\n", {"q6"}, "batch_first=True", partial=True),
    Mistake("q6-h-n-one-layer", "h_n_shape = (num_layers, batch, hidden_size)", "h_n_shape = (1, batch, hidden_size)",
            {"q6"}, "one row per layer", partial=True),
    Mistake("q6-lists", "return output_shape, h_n_shape", "return list(output_shape), list(h_n_shape)", {"q6"},
            "tuples"),
    Mistake("q7-padding-without-packing",
            "    packed = pack_padded_sequence(padded, lengths, batch_first=rnn.batch_first, enforce_sorted=False)\n    _, h_n = rnn(packed)",
            "    _, h_n = rnn(padded)", {"q7"}, "pack_padded_sequence", partial=True),
    Mistake("q7-sorted-only", "enforce_sorted=False)", "enforce_sorted=True)", {"q7"}, "raised", partial=True),
    Mistake("q8-one-wrong", '3: "C"', '3: "D"', {"q8"}, "Question 3", partial=True),
]

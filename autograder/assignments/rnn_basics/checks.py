"""Hidden checks of rnn-basics, run by the judge (see autograder/authoring/assignment.py for the API).

The hidden inputs below never reach a student's notebook; they reach the worker only as
arguments of the calls that check the student's functions. References are computed here.
"""
import random

import torch

from ...authoring import Assignment, Fail
from ...judge.probe import buildable, shape_shown

assignment = Assignment(
    id="rnn-basics", title="rnn-basics (nn.RNN basics)", cell_timeout=30, budget=180)
check = assignment.check

HIDDEN_SEED = 20261122  # hidden input generation; the inputs are fixed, so grades are repeatable


# Layers whose forward takes (input, h_0) like nn.RNN: q3 is graded with the student's own layer,
# so a q1 that built a GRU costs q1, not q3 as well.
SAME_INTERFACE = {"torch.nn.modules.rnn.RNN": torch.nn.RNN, "torch.nn.modules.rnn.GRU": torch.nn.GRU}


def _rnn_layer(w, name, kinds=("torch.nn.modules.rnn.RNN",)):
    """The student's object as an nn.RNN description (or of one of `kinds`): (described, settings)."""
    obj = w.describe(name)
    if obj.module is None or obj.type not in kinds:
        raise Fail(f"`{name}` should be a torch.nn.RNN layer, but it is a {obj.short_type}. "
                   "Build it with torch.nn.RNN(input_size=..., hidden_size=..., num_layers=...).")
    modules = obj.module["modules"]
    settings = modules[0][2] if modules and isinstance(modules[0], list) and len(modules[0]) >= 3 else None
    if not isinstance(settings, dict):
        raise Fail(f"`{name}` did not report the settings of an nn.RNN; build it with torch.nn.RNN(...).")
    if not buildable(settings, obj.type.rsplit(".", 1)[-1]):
        raise Fail(f"`{name}` reports sizes far beyond what this question needs (or sizes that are not "
                   "numbers); build it with torch.nn.RNN(input_size=10, hidden_size=20, num_layers=1).")
    return obj, settings


def _computes_as_described(w, name, obj, settings):
    """The worker's description is a claim (a tampered worker can forge it); an nn.RNN holding
    the weights the object reports must also compute what the object computes on a hidden input."""
    state = obj.module.get("state")
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise Fail(f"`{name}` did not report the weights of an nn.RNN; build it with torch.nn.RNN(...).")
    keys = ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional")
    if not all(type(settings.get(k)) in (int, bool) for k in keys) or settings["num_layers"] < 1:
        return  # settings no nn.RNN could have: the settings check says what is wrong
    if settings["num_layers"] > 1 and settings.get("dropout"):
        return  # dropout between layers makes the output random in training mode
    candidates = []
    for nonlinearity in ("tanh", "relu"):
        try:
            candidate = torch.nn.RNN(**{k: settings[k] for k in keys}, nonlinearity=nonlinearity,
                                     bias=any(k.startswith("bias") for k in state))
            candidate.load_state_dict(state)
        except (RuntimeError, ValueError, TypeError):
            raise Fail(f"`{name}` reports weights that do not fit the nn.RNN it describes.") from None
        candidates.append(candidate)
    gen = torch.Generator().manual_seed(HIDDEN_SEED + 20)
    x = torch.randn(3, 4, settings["input_size"], generator=gen)
    got = w.call(name, x)
    got = got[0] if isinstance(got, (tuple, list)) and got else got
    with torch.no_grad():
        expected = [c(x)[0] for c in candidates]
    if not any(isinstance(got, torch.Tensor) and got.shape == e.shape and torch.allclose(got.float(), e, atol=1e-5)
               for e in expected):
        raise Fail(f"`{name}` did not compute what an nn.RNN with its own weights computes; "
                   "build it with torch.nn.RNN(...) and do not change it afterwards.")


# -- q1: build nn.RNN -------------------------------------------------------------------------
@check("q1", "rnn is an nn.RNN", 1, visible=True, public=("test_rnn_is_an_nn_RNN",))
def rnn_is_rnn(w):
    obj, settings = _rnn_layer(w, "rnn")
    _computes_as_described(w, "rnn", obj, settings)


@check("q1", "input size 10, hidden size 20, one layer", 1,
       public=("test_rnn_is_an_nn_RNN", "test_rnn_input_and_hidden_size", "test_rnn_has_one_layer"))
def rnn_settings(w):
    obj, s = _rnn_layer(w, "rnn")
    _computes_as_described(w, "rnn", obj, s)
    if (s.get("input_size"), s.get("hidden_size")) == (20, 10):
        raise Fail("input_size and hidden_size are swapped: input_size is the number of features per "
                   "time step (10), hidden_size the size of the memory (20).")
    if (s.get("input_size"), s.get("hidden_size")) != (10, 20):
        raise Fail(f"Expected input_size=10 and hidden_size=20, got {s['input_size']} and {s['hidden_size']}.")
    if s.get("num_layers") != 1:
        raise Fail(f"num_layers is {s['num_layers']}: a simple RNN has one layer (num_layers=1). "
                   "Zero or negative layers are invalid; more layers stack RNNs.")


# -- q2: the initial hidden state ---------------------------------------------------------------
def _tensor(w, name):
    obj = w.describe(name)
    if not isinstance(obj.value, torch.Tensor):
        raise Fail(f"`{name}` should be a torch tensor, but it is a {obj.short_type}.")
    return obj.value


@check("q2", "hidden has shape (1, 5, 20)", 1, visible=True, public=("test_hidden_is_a_tensor", "test_hidden_shape"))
def hidden_shape(w):
    shape = tuple(_tensor(w, "hidden").shape)
    if shape == (1, 20, 5):
        raise Fail("hidden has shape (1, 20, 5): batch and hidden size are swapped. The hidden state is "
                   "(num_layers, batch, hidden_size) = (1, 5, 20).")
    if shape != (1, 5, 20):
        raise Fail(f"hidden has shape {shape}; the hidden state of a one-layer RNN is "
                   "(num_layers, batch, hidden_size) = (1, 5, 20).")


@check("q2", "hidden is all zeros", 1, public=("test_hidden_is_a_tensor", "test_hidden_is_zeros"))
def hidden_zeros(w):
    hidden = _tensor(w, "hidden")
    if hidden.numel() == 0 or bool(hidden.float().abs().max() != 0):
        raise Fail("The initial hidden state should be all zeros (torch.zeros): the RNN starts with an empty memory.")


# -- q3: run a sequence ----------------------------------------------------------------------------
def _own_rnn(obj, settings):
    """A layer built like the student's (its class, sizes, layers, nonlinearity, bias, layout) holding
    its weights: the reference for anything computed with `rnn`, whatever options q1 allowed."""
    state = obj.module.get("state")
    kwargs = {k: settings.get(k) for k in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional")}
    kwargs["bias"] = isinstance(state, dict) and any(k.startswith("bias") for k in state)
    layer = SAME_INTERFACE[obj.type]
    if layer is torch.nn.RNN:
        kwargs["nonlinearity"] = settings.get("nonlinearity") if settings.get("nonlinearity") in ("tanh", "relu") else "tanh"
    try:
        reference = layer(**kwargs)
        reference.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError, AttributeError):
        raise Fail("`rnn` is not an nn.RNN whose weights the grader can read; answer q1 with torch.nn.RNN(...) "
                   "and do not change it afterwards.") from None
    return reference.eval()


def _q3_reference(w):
    obj, settings = _rnn_layer(w, "rnn", kinds=tuple(SAME_INTERFACE))
    input_seq = _tensor(w, "input_seq")
    if tuple(input_seq.shape) != (6, 5, 10):
        raise Fail(f"input_seq should be the given tensor of shape (6, 5, 10), but has shape {tuple(input_seq.shape)}.")
    reference = _own_rnn(obj, settings)
    layers = settings["num_layers"] * (2 if settings.get("bidirectional") else 1)
    h0 = torch.zeros(layers, 5, settings["hidden_size"])
    with torch.no_grad():
        if reference.batch_first:  # the student's layer reads (batch, seq, features): transposes around it
            output, hidden = reference(input_seq.float().transpose(0, 1), h0)
            return output.transpose(0, 1), hidden
        return reference(input_seq.float(), h0)


def _q3_outputs(w):
    try:
        output = _tensor(w, "output")
    except Fail as e:
        raise Fail(str(e) + " If your cell raised an error about input_size, check the argument order: "
                   "the input sequence comes first, then the hidden state: rnn(input_seq, hidden).") from None
    return output, _tensor(w, "hidden")


@check("q3", "output (6, 5, 20) and hidden (1, 5, 20)", 1, visible=True,
       public=("test_output_shape", "test_final_hidden_shape"))
def forward_shapes(w):
    output, hidden = _q3_outputs(w)
    if tuple(output.shape) != (6, 5, 20):
        raise Fail(f"output has shape {tuple(output.shape)}; it should be (seq_len, batch, hidden_size) = (6, 5, 20).")
    if tuple(hidden.shape) != (1, 5, 20):
        raise Fail(f"hidden has shape {tuple(hidden.shape)}; after the forward pass it should be (1, 5, 20).")


@check("q3", "output and hidden equal a forward pass of rnn on input_seq", 2, public=("test_matches_a_forward_pass",))
def forward_values(w):
    output, hidden = _q3_outputs(w)
    expected_output, expected_hidden = _q3_reference(w)
    if output.shape != expected_output.shape or not torch.allclose(output.float(), expected_output, atol=1e-5):
        raise Fail("output is not what rnn(input_seq, hidden) returns with your rnn's weights and a zero hidden "
                   "state. Run the RNN on input_seq (first argument) with the zero hidden state from q2 (second).")
    if hidden.shape != expected_hidden.shape or not torch.allclose(hidden.float(), expected_hidden, atol=1e-5):
        raise Fail("hidden should be the new hidden state returned by the RNN (output, hidden = rnn(...)).")


# -- q4, q5: dict comprehensions ------------------------------------------------------------------------
Q4_TYPICAL = [["recurrent", "net", "tensor", "is", "time", "step"], ["hidden", "state", "of", "an", "rnn", "layer"]]
Q4_EDGES = [[], ["abc", "abcd", "ab"], ["tree", "tree", "sky", "tree"], ["über", "ü", "naïve"]]
Q5_TYPICAL = [["sequence", "model", "batch", "pad", "pack", "hidden"], ["Gradient", "flows", "through", "time"]]
# No list holds two words with the same upper-case form and different lengths: which length wins is
# not something the question says (a comprehension keeps the last, a loop may keep the first).
Q5_EDGES = [[], ["abcd", "abcde"], ["Apple", "apple", "APPLE"], ["Hello", "HELLO", "hello!"], ["Zürich", "crème"]]


def long_word_lengths(words):
    return {word: len(word) for word in words if len(word) > 3}


def upper_word_lengths(words):
    return {word.upper(): len(word) for word in words if len(word) > 4}


def _compare_dicts(w, name, reference, cases, rule):
    for words in cases:
        got = w.call(name, list(words))
        expected = reference(words)
        if not isinstance(got, dict):
            raise Fail(f"`{name}` should return a dict, but returned {type(got).__name__}"
                       + (" (did you forget `return`?)" if got is None else "") + ".")
        if not all(type(v) is int for v in got.values()):  # compared as plain data, never by a tensor's ==
            raise Fail(f"`{name}` should map each word to len(word), a Python int; some values are "
                       + ", ".join(sorted({type(v).__name__ for v in got.values() if type(v) is not int})[:3]) + ".")
        if got != expected:
            extra = sorted(set(got) - set(expected), key=str)
            missing = sorted(set(expected) - set(got), key=str)
            if extra and missing and all(isinstance(k, str) and len(k) <= rule for k in extra):
                raise Fail(f"`{name}` keeps the short words and drops the long ones: the comparison is reversed. "
                           f"Keep the words with more than {rule} letters.")
            if extra and all(isinstance(k, str) and len(k) <= rule for k in extra):
                raise Fail(f"`{name}` keeps words that are too short: only words with len(word) > {rule} belong in the dict.")
            if missing:
                raise Fail(f"`{name}` misses some words that should be there; keep every word with len(word) > {rule}.")
            raise Fail(f"`{name}` returns the right keys but wrong values (or extra keys): each value is len(word) "
                       "of the original word.")


@check("q4", "long_word_lengths on typical word lists", 1, visible=True,
       public=("test_long_word_lengths_returns_a_dict", "test_long_word_lengths_values_are_lengths",
               "test_long_word_lengths_keeps_words_longer_than_3"))
def q4_typical(w):
    _compare_dicts(w, "long_word_lengths", long_word_lengths, Q4_TYPICAL, 3)


@check("q4", "long_word_lengths edge cases: empty list, exactly 3 letters, duplicates", 1)
def q4_edges(w):
    _compare_dicts(w, "long_word_lengths", long_word_lengths, Q4_EDGES, 3)


@check("q5", "upper_word_lengths on typical word lists", 1, visible=True,
       public=("test_upper_word_lengths_returns_a_dict", "test_upper_word_lengths_keys_are_upper_case",
               "test_upper_word_lengths_values_and_filter"))
def q5_typical(w):
    _compare_dicts(w, "upper_word_lengths", upper_word_lengths, Q5_TYPICAL, 4)


@check("q5", "upper_word_lengths edge cases: case collisions, exactly 4 letters", 1)
def q5_edges(w):
    got = w.call("upper_word_lengths", ["Apple", "apple"])
    if isinstance(got, dict) and any(isinstance(k, str) and k != k.upper() for k in got):
        raise Fail("The keys should be the words in upper case (word.upper()).")
    _compare_dicts(w, "upper_word_lengths", upper_word_lengths, Q5_EDGES, 4)


# -- q6: shapes without running an RNN -------------------------------------------------------------------
def _shape_cases(kind):
    rng = random.Random(HIDDEN_SEED + {"default": 0, "layers": 1, "batch_first": 2}[kind])
    cases = []
    for _ in range(4):
        case = {"seq_len": rng.randint(2, 9), "batch": rng.randint(1, 7), "input_size": rng.randint(2, 9),
                "hidden_size": rng.randint(2, 12)}
        if kind in ("layers", "batch_first"):
            case["num_layers"] = rng.randint(2, 4)
        if kind == "batch_first":
            case["batch_first"] = True
        cases.append(case)
    return cases


def _real_shapes(case):
    rnn = torch.nn.RNN(case["input_size"], case["hidden_size"], num_layers=case.get("num_layers", 1),
                       batch_first=case.get("batch_first", False))
    dims = (case["batch"], case["seq_len"]) if case.get("batch_first") else (case["seq_len"], case["batch"])
    with torch.no_grad():
        output, h_n = rnn(torch.zeros(*dims, case["input_size"]))
    return tuple(output.shape), tuple(h_n.shape)


def _plain_shape(shape):
    """A shape as plain data (a tuple of ints), so comparing it never calls a tensor's ==."""
    return type(shape) is tuple and all(type(d) is int for d in shape)


def _check_shapes(w, kind, hint):
    for case in _shape_cases(kind):
        got = w.call("rnn_output_shapes", **case)
        expected = _real_shapes(case)
        if isinstance(got, (list, tuple)) and any(isinstance(s, list) for s in got):
            raise Fail("Return the shapes as tuples, e.g. ((seq_len, batch, hidden_size), (num_layers, batch, hidden_size)), not lists.")
        if got is None:
            raise Fail("`rnn_output_shapes` returned None: fill in its body and return (output_shape, h_n_shape).")
        if not isinstance(got, tuple) or len(got) != 2:
            raise Fail("`rnn_output_shapes` should return a pair (output_shape, h_n_shape).")
        if not all(_plain_shape(s) for s in got):
            raise Fail("Return each shape as a tuple of ints, e.g. (seq_len, batch, hidden_size).")
        if tuple(got) != expected:
            raise Fail(f"Wrong shapes for {hint}. {'Output' if got[0] != expected[0] else 'h_n'} shape is wrong.")


@check("q6", "rnn_output_shapes, one layer, sequence first", 1, visible=True)
def q6_default(w):
    _check_shapes(w, "default", "a one-layer RNN: output is (seq_len, batch, hidden_size), h_n is (1, batch, hidden_size)")


@check("q6", "rnn_output_shapes, several layers", 1)
def q6_layers(w):
    _check_shapes(w, "layers", "a stacked RNN: h_n has one row per layer, (num_layers, batch, hidden_size); output keeps only the last layer")


@check("q6", "rnn_output_shapes, batch_first=True", 1,
       public=("test_rnn_output_shapes_returns_two_tuples", "test_rnn_output_shapes_matches_a_real_rnn"))
def q6_batch_first(w):
    _check_shapes(w, "batch_first", "batch_first=True: output becomes (batch, seq_len, hidden_size), but h_n stays (num_layers, batch, hidden_size)")


@check("q6", "rnn_output_shapes from the settings alone (100000 of every size: too large to build or run)", 1)
def q6_without_running(w):
    """The question forbids building or running an RNN: on sizes far too large to run (10^5 of
    everything: the weights alone would be 80 GB) only arithmetic on the settings answers. These
    inputs are public (the check's name states them), so they are sent with hidden_input=False."""
    case = {"seq_len": 100_000, "batch": 100_000, "input_size": 100_000, "hidden_size": 100_000,
            "num_layers": 2, "batch_first": False}
    expected = ((100_000, 100_000, 100_000), (2, 100_000, 100_000))
    try:
        got = w.call("rnn_output_shapes", hidden_input=False, **case)
    except Fail:
        got = None
    if not (type(got) is tuple and len(got) == 2 and all(_plain_shape(s) for s in got)) or got != expected:
        raise Fail("`rnn_output_shapes` should compute the shapes from its arguments alone, without building or "
                   "running an RNN (the question asks for that): for settings far too large to run (a hundred "
                   "thousand of every size, two layers) it did not return the shapes those settings give.")


# -- q7: variable-length batches ----------------------------------------------------------------------
# The question promises any order of lengths, several layers and either layout: each is a case.
Q7_CASES = {"equal": ([5, 5, 5], 1, False), "sorted": ([7, 5, 4, 2], 1, False),
            "unsorted": ([3, 8, 1, 6, 6, 2], 1, False), "layers": ([4, 9, 2, 6], 3, False),
            "batch_first": ([2, 7, 5, 1, 4], 2, True)}


def _q7_case(kind):
    lengths, num_layers, batch_first = Q7_CASES[kind]
    gen = torch.Generator().manual_seed(HIDDEN_SEED + 10 + list(Q7_CASES).index(kind))
    input_size, hidden_size = 3 + int(torch.randint(4, (1,), generator=gen)), 4 + int(torch.randint(5, (1,), generator=gen))
    torch.manual_seed(HIDDEN_SEED)
    rnn = torch.nn.RNN(input_size, hidden_size, num_layers=num_layers, batch_first=batch_first)
    sequences = [torch.randn(n, input_size, generator=gen) for n in lengths]
    return rnn, sequences


def _q7_expected(rnn, sequences):
    """Each sequence on its own: the last layer's state after its last step."""
    with torch.no_grad():
        return torch.stack([rnn(s.unsqueeze(0 if rnn.batch_first else 1))[1][-1, 0] for s in sequences])


def _q7_padding_only(rnn, sequences):
    with torch.no_grad():
        padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=rnn.batch_first)
        return rnn(padded)[1][-1]


def _q7_first_layer(rnn, sequences):
    with torch.no_grad():
        return torch.stack([rnn(s.unsqueeze(0 if rnn.batch_first else 1))[1][0, 0] for s in sequences])


def _check_last_states(w, kind):
    rnn, sequences = _q7_case(kind)
    got = w.call("last_hidden_states", rnn, sequences)
    expected = _q7_expected(rnn, sequences)
    if not isinstance(got, torch.Tensor):
        raise Fail(f"`last_hidden_states` should return a tensor, but returned {type(got).__name__}.")
    if tuple(got.shape) != tuple(expected.shape):
        allowed = set(expected.shape) | {1}
        raise Fail(f"`last_hidden_states` returned {shape_shown(got.shape, allowed)} for a list of sequences; it "
                   "should be (batch, hidden_size): one row per sequence. h_n has a leading layer dimension: take h_n[-1].")
    if torch.allclose(got.float(), expected, atol=1e-5):
        return
    if torch.allclose(got.float(), _q7_padding_only(rnn, sequences), atol=1e-5):
        raise Fail("These are the states after running over the padding too: padding alone lets the RNN keep "
                   "updating its memory on the pad zeros. Pack the padded batch with pack_padded_sequence(padded, "
                   "lengths, enforce_sorted=False) so each sequence stops at its own length.")
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    if torch.allclose(got.float(), expected[order], atol=1e-5):
        raise Fail("The states are right but in the wrong order: return them in the order of the input list "
                   "(with enforce_sorted=False, PyTorch restores the original order of h_n for you).")
    if rnn.num_layers > 1 and torch.allclose(got.float(), _q7_first_layer(rnn, sequences), atol=1e-5):
        raise Fail("These are the first layer's final states: with several layers, h_n has one row per layer and "
                   "the last layer's state is h_n[-1].")
    if rnn.batch_first:
        raise Fail("The states are wrong for an RNN built with batch_first=True: pad and pack in the layout the RNN "
                   "expects (pad_sequence(..., batch_first=rnn.batch_first), pack_padded_sequence(..., "
                   "batch_first=rnn.batch_first, ...)).")
    raise Fail("The final hidden states differ from running each sequence through the RNN on its own.")


# the public tests that cover each case (tests/test_public_hidden_agreement.py)
Q7_CHECKS = [("equal", "equal lengths", 1, ()), ("sorted", "different lengths sorted longest first", 1, ()),
             ("unsorted", "different lengths in any order", 1, ()),
             ("layers", "an RNN with several layers", 0.5,
              ("test_last_hidden_states_shape", "test_last_hidden_states_matches_each_sequence_alone")),
             ("batch_first", "an RNN built with batch_first=True", 0.5, ())]
for _kind, _what, _weight, _public in Q7_CHECKS:
    check("q7", f"last_hidden_states, {_what}", _weight, visible=_kind == "equal", public=_public)(
        lambda w, kind=_kind: _check_last_states(w, kind))


# -- q8: practice questions -----------------------------------------------------------------------------
ANSWER_KEY = {1: "B", 2: "A", 3: "C", 4: "A", 5: "D"}
TOPICS = {1: "why RNNs suit sequences", 2: "building torch.nn.RNN", 3: "the output shape",
          4: "the input-size error", 5: "predicting the next word"}


def _answers(w):
    """The student's answers, held to the form the question and its public check ask for: the
    integer keys 1 to 5, each a string holding one capital letter."""
    answers = w.describe("answers").value
    if not isinstance(answers, dict):
        raise Fail("`answers` should be a dict like {1: 'A', 2: 'B', ...}.")
    if set(answers) == {"1", "2", "3", "4", "5"}:
        raise Fail("The keys are strings; use the integers 1 to 5 as keys, e.g. {1: ..., 2: ...}.")
    return answers


def _answer_check(number):
    def answer(w):
        given = _answers(w).get(number)
        if given not in ("A", "B", "C", "D"):
            raise Fail(f"answers[{number}] should be one of the strings 'A', 'B', 'C' or 'D' (one capital letter).")
        if given != ANSWER_KEY[number]:
            raise Fail(f"Question {number} ({TOPICS[number]}) is not right yet: reread that part of the notes.")
    return answer


for _number in ANSWER_KEY:
    check("q8", f"practice question {_number}")(_answer_check(_number))

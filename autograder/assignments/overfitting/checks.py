"""Hidden checks of overfitting, run by the judge (API: autograder/authoring/assignment.py).

Accuracy alone cannot tell the course's fix from early stopping alone (calibration shows both
pass), so q1 checks the model: two stacked RNN layers with dropout=dropout between them (the form
the question asks for), and by behaviour: dropout outside the RNN on the way to the output in
train mode (whatever form it takes: nn.Dropout, F.dropout(training=self.training), ...), built
from the dropout argument, none in eval mode, and logits that read the last step.
"""
import torch

from ...authoring import Assignment, Fail
from ...authoring.training_checks import (describe_runs, expect_shape, last_step_problem, load_session_state,
                                          modules_of, note, outputs_by_seed, reported_size, rnn_parameters,
                                          run_model, same, scores_problem, session_state, train_on_seeds,
                                          verify_structure)
from . import protocol

assignment = Assignment(
    id="overfitting", title="overfitting (fixing an overfitting RNN)", cell_timeout=90, budget=360)
check = assignment.check

ARGS = [protocol.INPUT_SIZE, 32, protocol.N_CLASSES]
SAMPLE = torch.randn(64, protocol.SEQ_LEN, protocol.INPUT_SIZE, generator=torch.Generator().manual_seed(7))
OUT = (64, protocol.N_CLASSES)
SEEDS = (101, 202, 303)  # dropout masks: a model with dropout gives a different output for each


def _build(w, sid="q1", dropout=0.5):
    return expect_shape(w, sid, "SimpleRNN", ARGS, SAMPLE, (64, protocol.N_CLASSES),
                        "one row of 2 class scores per sequence, from the last time step.", {"dropout": dropout})


@check("q1", "SimpleRNN: output (batch, 2) from a 2-layer nn.RNN with dropout=dropout between its layers", 1,
       visible=True, public=("test_simple_rnn_output_shape", "test_simple_rnn_has_two_layers_and_dropout"))
def q1_structure(w):
    info = _build(w)
    rnns = modules_of(info, "RNN")
    if not rnns:
        raise Fail("SimpleRNN should use an nn.RNN layer.")
    attrs = rnns[0][2]
    if attrs.get("num_layers") != 2:
        layers = attrs.get("num_layers")
        raise Fail(f"The RNN has {layers if type(layers) is int else 'an unreadable number of'} layer(s); the fix stacks 2 (num_layers=2) so that dropout can act between them.")
    if not isinstance(attrs.get("dropout", 0), (int, float)) or not attrs.get("dropout", 0) > 0:
        raise Fail("The RNN has no dropout between its layers: pass dropout=dropout to nn.RNN.")
    verify_structure(w, "q1", "SimpleRNN", info, "RNN")  # two layers claimed: they must compute as two
    info = expect_shape(w, "q1-args", "SimpleRNN", [protocol.INPUT_SIZE, 16, protocol.N_CLASSES], SAMPLE, OUT,
                        "build the layers from the constructor's arguments.", {"dropout": 0.5})
    sized = modules_of(info, "RNN")
    if not sized or sized[0][2].get("hidden_size") != 16:
        raise Fail(f"SimpleRNN(10, 16, 2) built an nn.RNN with hidden size "
                   f"{reported_size(sized[0][2].get('hidden_size')) if sized else '?'}: build it from the hidden_size "
                   "argument, not a fixed number.")
    if attrs.get("dropout") != 0.5:
        raise Fail(f"SimpleRNN(10, 32, 2, dropout=0.5) built an nn.RNN with dropout={attrs.get('dropout') if type(attrs.get('dropout')) in (int, float) else '?'}: pass the "
                   "dropout argument on to nn.RNN rather than a fixed number.")


@check("q1", "SimpleRNN: dropout on the way to the output besides the RNN's own, from the dropout argument, "
       "off in eval()", 2, public=("test_simple_rnn_dropout_only_in_training",))
def q1_dropout(w):
    _build(w)
    train = outputs_by_seed(w, "q1", "SimpleRNN", SAMPLE, OUT, "train-outside-recurrent", SEEDS)
    if all(same(train[0], o) for o in train[1:]):
        raise Fail("With the RNN's own dropout set aside, the model in train() mode gives the same output whatever "
                   "the random seed: the dropout on the last step's output is not applied. Apply it in forward, "
                   "out = self.dropout(out[:, -1, :]), before the linear layer (defining it in __init__ is not enough).")
    if _dropout_only_before_the_rnn(w):
        raise Fail("The dropout besides the RNN's own acts before the RNN (on its input x), not on the way to the "
                   "output: with the RNN's input-to-hidden and hidden-to-hidden weights zeroed, so that its states "
                   "ignore the input, training mode gives the same logits whatever the random draw. Apply it to the "
                   "last step's output, out = self.dropout(out[:, -1, :]), before the linear layer.")
    evals = outputs_by_seed(w, "q1", "SimpleRNN", SAMPLE, OUT, "eval", SEEDS)
    if not all(same(evals[0], o) for o in evals[1:]):
        raise Fail("In eval() mode the output still changes between calls: use nn.Dropout modules (or F.dropout with "
                   "training=self.training) so that eval() turns dropout off.")
    if any(bool(((o == 0) & (evals[0] != 0)).any()) for o in train):  # a dropped logit is exactly 0
        raise Fail("In train() mode some logits are exactly 0: the dropout acts on the linear layer's output. Apply "
                   "it to the last step's output, out[:, -1, :], before the linear layer, as the question asks.")
    _build(w, "q1-no-dropout", dropout=0.0)
    train = outputs_by_seed(w, "q1-no-dropout", "SimpleRNN", SAMPLE, OUT, "train", SEEDS)
    if not all(same(train[0], o) for o in train[1:]):
        raise Fail("SimpleRNN(10, 32, 2, dropout=0.0) still drops values in train() mode: build every dropout from "
                   "the dropout argument (nn.Dropout(dropout)), not from a fixed number.")


def _dropout_only_before_the_rnn(w):
    """True when the model's own dropout (besides the RNN's) acts only on the input: with the first
    layer's input weights and every hidden-to-hidden weight zeroed (and its biases set so the state
    is not 0), the RNN's states no longer depend on the input, so dropout on x cannot change the
    logits, while dropout on the RNN's output still does. False when it cannot be told (no bias)."""
    info, state = _build(w, "q1-dropout-place"), session_state(w, "q1-dropout-place", "SimpleRNN")
    params = rnn_parameters(state, info)
    if not any(kind == "bias" and layer == 0 for kind, _, layer, _ in params.values()):
        return False  # without a bias every state would be 0: nothing to drop
    placed = {}
    for k, v in state.items():
        kind, gate, layer, _ = params.get(k, (None, None, None, None))
        if kind == "weight" and (gate == "hh" or layer == 0):
            v = torch.zeros_like(v)
        elif kind == "bias" and layer == 0:
            v = torch.full_like(v, 0.5 if gate == "ih" else 0.0)
        placed[k] = v
    load_session_state(w, "q1-dropout-place", "SimpleRNN", placed)
    outs = outputs_by_seed(w, "q1-dropout-place", "SimpleRNN", SAMPLE, OUT, "train-outside-recurrent", SEEDS)
    return all(same(outs[0], o) for o in outs[1:])


@check("q1", "SimpleRNN: logits (not probabilities) from the last time step, each sequence on its own", 1,
       public=("test_simple_rnn_reads_the_last_step",))
def q1_last_step(w):
    info = _build(w)
    rnns = modules_of(info, "RNN")
    between_layers = rnns and type(rnns[0][2].get("dropout")) in (int, float) and rnns[0][2]["dropout"] > 0
    if between_layers:  # the RNN's own dropout acts between its layers: it must reach the output
        outs = outputs_by_seed(w, "q1", "SimpleRNN", SAMPLE, OUT, "train-recurrent-only", SEEDS)
        if all(same(outs[0], o) for o in outs[1:]):
            raise Fail("With only the RNN's own dropout on (between its two layers), the output never changes: the "
                       "logits do not come from the second layer. h_n[0] is the FIRST layer's final state; classify "
                       "the last layer's output at the last step, out[:, -1, :] (or h_n[-1]).")
    before = run_model(w, "q1", "SimpleRNN", SAMPLE, OUT)
    if not same(before, run_model(w, "q1", "SimpleRNN", SAMPLE, OUT)):  # else the checks below see noise
        raise Fail("In eval() mode the output changes from call to call, so the grader cannot tell which step it "
                   "reads: dropout must be off in eval() (nn.Dropout modules, or F.dropout with "
                   "training=self.training).")
    last = SAMPLE.clone()
    last[:, -1, :] += 1.0
    if same(before, run_model(w, "q1", "SimpleRNN", last, OUT)):
        raise Fail("Changing the last time step does not change the logits, so the model classifies an earlier step: "
                   "out[:, 0, :] is the first step; use out[:, -1, :].")
    other = SAMPLE.clone()
    other[0] += 1.0
    if not same(before[1:], run_model(w, "q1", "SimpleRNN", other, OUT)[1:]):
        raise Fail("Changing one sequence of the batch changed the logits of the others: the RNN reads the batch "
                   "dimension as time. The data is (batch, seq_len, features): build it with batch_first=True (or "
                   "transpose to time-first before it and back after it).")
    problem = (last_step_problem(w, "q1-last-step", "SimpleRNN", _build(w, "q1-last-step"), SAMPLE, OUT)
               or scores_problem(w, "q1-scores", "SimpleRNN", _build(w, "q1-scores"), SAMPLE, OUT))
    if problem:
        raise Fail(problem)


def _config(w):
    config = w.describe("config").value
    if not isinstance(config, dict):
        raise Fail("`config` should be a dict with the keys " + ", ".join(protocol.CONFIG_RANGES) + ".")
    return config


@check("q2", "config has every key, each with a number", 1, visible=True,
       public=("test_config_has_every_key", "test_config_values_are_in_range"))
def q2_keys(w):
    config = _config(w)
    missing = [k for k in protocol.CONFIG_RANGES if k not in config]
    if missing:
        raise Fail(f"`config` is missing {', '.join(missing)}.")
    blank = [k for k in protocol.CONFIG_RANGES if isinstance(config[k], bool) or not isinstance(config[k], (int, float))]
    if blank:
        raise Fail(f"Give a number for {', '.join(blank)} (a blank `...` is still there, or a value is not a number).")


@check("q2", "config values are in sane ranges", 1, public=("test_config_values_are_in_range",))
def q2_ranges(w):
    problems = protocol.config_problems(_config(w))
    if problems:
        raise Fail("; ".join(problems) + ".")


@check("q2", "config follows the course's recipe: hidden size 32, lr 0.001, patience 3 < epochs", 2,
       public=("test_config_follows_the_course_recipe",))
def q2_recipe(w):
    config = _config(w)
    wrong = [f"{key} {value}" for key, value in protocol.RECIPE.items()
             if type(config.get(key)) not in (int, float) or config.get(key) != value]
    if wrong:
        raise Fail(f"The question gives the course's recipe for this model: {', '.join(wrong)}. Keep those three "
                   "and choose epochs, batch size and weight decay yourself.")
    epochs = config.get("epochs")
    if type(epochs) not in (int, float) or not epochs > protocol.RECIPE["patience"]:
        raise Fail("epochs must be larger than the patience (3): otherwise the epochs run out before early "
                   "stopping can fire.")


@check("q3", f"trained with config and early stopping: validation >= {protocol.VAL_THRESHOLD:.0%} and training < {protocol.TRAIN_ACC_LIMIT:.0%}", 6, timeout=200,
       public=("test_model_builds_from_config", "test_local_run_meets_both_targets"))
def q3_training(w):
    config = _config(w)
    problems = protocol.config_problems(config)
    if problems:
        raise Fail("The grader cannot train with this config: " + "; ".join(problems) + ".")
    expect_shape(w, "q3", "SimpleRNN", [protocol.INPUT_SIZE, int(config["hidden_size"]), protocol.N_CLASSES],
                 SAMPLE, (64, protocol.N_CLASSES), "one row of 2 class scores per sequence.")
    run = lambda session, seed: protocol.run(session, seed, config)
    outcomes = train_on_seeds(w, "q3", run, protocol.GRADING_SEEDS, "`SimpleRNN`")
    if all(protocol.passes(o) for o in outcomes):
        return
    val, train = describe_runs(outcomes), describe_runs(outcomes, "train_acc")
    if any(o.train_acc >= protocol.TRAIN_ACC_LIMIT for o in outcomes):
        advice = ("Training accuracy this high on noisy labels means the model memorises them: add dropout, "
                  "shrink the model, lower the learning rate, or stop earlier (smaller patience).")
    else:
        advice = ("The model does not generalise enough yet: check that early stopping keeps the best "
                  "epoch, and that the model is not too small or the learning rate too low to learn the rule.")
    raise Fail(f"Validation accuracy {val} and training accuracy {train} on the grader's data (one run per "
               f"hidden seed); the fix needs validation >= {protocol.VAL_THRESHOLD:.0%} and training < "
               f"{protocol.TRAIN_ACC_LIMIT:.0%}. {advice}" + note(outcomes))

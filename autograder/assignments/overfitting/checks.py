"""Hidden checks of overfitting, run by the judge (API: autograder/authoring/assignment.py).

Accuracy alone cannot tell the course's fix from early stopping alone (calibration shows both
pass), so q1 checks the structure: two stacked RNN layers with dropout between them, dropout on
the last step's output, and no dropout in eval mode.
"""
import torch

from ...authoring import Assignment, Fail
from ...authoring.training_checks import describe_runs, expect_shape, modules_of, note, train_on_seeds, verify_structure
from ...judge.probe import SessionModel
from . import protocol

assignment = Assignment(
    id="overfitting", title="overfitting (fixing an overfitting RNN)", cell_timeout=90, budget=360)
check = assignment.check

ARGS = [protocol.INPUT_SIZE, 32, protocol.N_CLASSES]
SAMPLE = torch.randn(64, protocol.SEQ_LEN, protocol.INPUT_SIZE, generator=torch.Generator().manual_seed(7))


def _build(w):
    return expect_shape(w, "q1", "SimpleRNN", ARGS, SAMPLE, (64, protocol.N_CLASSES),
                        "one row of 2 class scores per sequence, from the last time step.", {"dropout": 0.3})


@check("q1", "SimpleRNN: output (batch, 2) from a 2-layer nn.RNN with dropout between layers", 1, visible=True)
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


@check("q1", "SimpleRNN: dropout on the last step's output, active in train(), off in eval()", 1)
def q1_dropout(w):
    info = _build(w)
    if not any(isinstance(m[2].get("p"), (int, float)) and m[2]["p"] > 0 for m in modules_of(info, "Dropout")):
        raise Fail("Add an nn.Dropout(dropout) on the last time step's output, before the linear layer.")
    model = SessionModel("q1", "SimpleRNN")
    w.call(model, method="train")
    first, second = w.call(model, SAMPLE), w.call(model, SAMPLE)
    if torch.equal(first, second):
        raise Fail("In train() mode two forward passes gave the same output: dropout is not applied.")
    w.call(model, method="eval")
    first, second = w.call(model, SAMPLE), w.call(model, SAMPLE)
    if not torch.equal(first, second):
        raise Fail("In eval() mode the output still changes between calls: use nn.Dropout modules (not "
                   "F.dropout with training=True) so that eval() turns dropout off.")


def _config(w):
    config = w.describe("config").value
    if not isinstance(config, dict):
        raise Fail("`config` should be a dict with the keys " + ", ".join(protocol.CONFIG_RANGES) + ".")
    return config


@check("q2", "config has every key, each with a number", 1, visible=True)
def q2_keys(w):
    config = _config(w)
    missing = [k for k in protocol.CONFIG_RANGES if k not in config]
    if missing:
        raise Fail(f"`config` is missing {', '.join(missing)}.")
    blank = [k for k in protocol.CONFIG_RANGES if isinstance(config[k], bool) or not isinstance(config[k], (int, float))]
    if blank:
        raise Fail(f"Give a number for {', '.join(blank)} (a blank `...` is still there, or a value is not a number).")


@check("q2", "config values are in sane ranges", 1)
def q2_ranges(w):
    problems = protocol.config_problems(_config(w))
    if problems:
        raise Fail("; ".join(problems) + ".")


@check("q3", f"trained with config and early stopping: validation >= {protocol.VAL_THRESHOLD:.0%} and training < {protocol.TRAIN_ACC_LIMIT:.0%}", 6, timeout=200)
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

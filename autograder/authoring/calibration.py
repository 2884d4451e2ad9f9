"""What calibration trains for a training check, declared by the assignment beside its mistakes.

Each candidate is a class the reference solution notebook defines, optionally after one of the
assignment's common mistakes (`mistakes.py`) is applied to it, optionally trained with a config
dict the notebook defines. So the references, the notebook's baselines and the wrong answers are
each written once: in the master notebook or as a Mistake. `rnnkit calibrate` trains every
candidate on every calibration seed with the grading protocol (autograder/tools/calibrate.py).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    label: str
    role: str                 # reference | baseline | wrong answer | reported
    class_name: str           # a class of the reference solution notebook (after `mistake`)
    expect_pass: bool | None  # None: measured and reported, not a calibration gate
    mistake: str = ""         # name of a Mistake of mistakes.py, applied to the reference first
    config: str = ""          # name of a config dict the notebook defines, passed to protocol.run
    note: str = ""


@dataclass(frozen=True)
class Calibrated:
    name: str
    graded: bool              # only graded checks gate calibration
    candidates: tuple
    run_kwargs: dict = field(default_factory=dict)
    note: str = ""

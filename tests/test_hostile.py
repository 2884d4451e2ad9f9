"""The hostile corpus (autograder/hostile.py) against every published assignment.

One test per (assignment, entry). Whatever the entry does, grading must end within its budget,
write a valid results.json holding no more than the score of the same submission without the
attack (graded once per assignment and base), show no hidden check line, reference line, seed or
grader input to the student, change no file outside the scratch directory, leave no process of
the worker behind, and tell an honest student what went wrong (the entry's message fragment).

On a busy machine an honest cell runs slower while a sleeping or looping attack does not, so the
corpus's small wall-clock limits (cell timeout, budget, the slack past the budget) are multiplied by
a factor measured on the machine just before each grading (conftest.time_scale: 1 when idle), and
so is the time the worker's processes get to disappear after grading (a fork bomb's thousands take
longer to end on a busy machine). The
entries whose expected outcome is their own sleeping or computing outlasting the budget keep their
limits: load only lowers their score, as they expect.

To stay fast, entries of one `group` are inserted together into one notebook and graded once;
entries marked `once` (expensive, or independent of the assignment) run on one assignment only,
the quickest to grade (`training` ones on the quickest with a training protocol). `make test` grades each
other group on one assignment (the groups take the assignments in turn); `make test-all` on every
assignment it applies to. Broken files that no
notebook can express are in tests/test_bad_files.py. `rnnkit hostile` grades every
entry on its own for every assignment and prints the table.
"""
import json
import subprocess

import pytest

from autograder import assignments
from autograder.tools import hostile
from autograder.tools.hostile.measure import SLACK
from conftest import scale_limits, time_scale

IDS = hostile.published_ids()
FIXED_LIMITS = {"slow-training-steps", "model-too-large-to-train"}  # must outlast their budget: not scaled
TRAINING = [aid for aid in IDS if hostile.is_training(aid)]
BY_NAME = {a.name: a for a in hostile.CORPUS}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(hostile.preconditions()), reason=f"unsafe here: {hostile.preconditions()}")]


def home(attack):
    """The assignment a `once` entry runs on: the one with the smallest budget (the quickest to
    grade) among those it applies to; None: no such assignment is published."""
    pool = TRAINING if attack.training else IDS
    return min(pool, key=lambda aid: (assignments.load(aid).budget, aid)) if pool else None


def sample_home(attack):
    """The one assignment `make test` grades an entry on (the whole corpus runs it on every
    applicable assignment under `make test-all`): the groups take the assignments in turn, so the
    sample spreads over all of them and each group is still graded once."""
    groups = list(dict.fromkeys(a.group or a.name for a in hostile.CORPUS if not a.once))
    where = [aid for aid in IDS if attack in hostile.applicable(aid)]
    turn = IDS[groups.index(attack.group or attack.name) % len(IDS)] if IDS else None
    return turn if turn in where else (where[0] if where else None)


def cases():
    params = []
    for attack in hostile.CORPUS:
        marks = [pytest.mark.xfail(strict=True, reason=f"known gap: {attack.gap}")] if attack.gap else []
        if attack.once:
            where = [home(attack)]
        else:
            where = [aid for aid in IDS if attack in hostile.applicable(aid)]
        for aid in where:
            full = [pytest.mark.full] if not attack.once and aid != sample_home(attack) else []
            if aid is None:
                marks = [pytest.mark.skip(reason="no published assignment with a training protocol")]
            params.append(pytest.param(aid, attack.name, marks=marks + full, id=f"{aid or 'none'}:{attack.name}"))
    return params


class Corpus:
    """Grades each (assignment, group) once and each honest base once; remembers the outcomes and
    the time scale each was graded with."""

    def __init__(self, ctx):
        self.ctx, self.outcomes, self.honest, self.material, self.notebooks = ctx, {}, {}, {}, {}
        self.scales = {}

    def _measure(self, key, submission, scalable=True):
        scale = time_scale()
        if scalable:
            submission.options = scale_limits(submission.options, scale)
        self.scales[key] = scale
        return hostile.measure(submission, self.ctx, self.material[key[0]], leftover_wait=3.0 * scale)

    def slack(self, key):
        return SLACK * self.scales.get(key, 1.0)

    def _prepare(self, aid):
        if aid not in self.notebooks:
            self.notebooks[aid] = hostile.published_notebooks(aid)
            self.material[aid] = hostile.hidden_material(aid, self.notebooks[aid])

    def honest_run(self, aid, base):
        self._prepare(aid)
        if (aid, base) not in self.honest:
            submission = hostile.assemble(aid, [], self.ctx, self.notebooks[aid], base)
            self.honest[aid, base] = self._measure((aid, base), submission)
        return self.honest[aid, base]

    def outcome(self, aid, attack):
        self._prepare(aid)
        key = (aid, attack.group or attack.name)
        if key not in self.outcomes:
            members = [a for a in hostile.applicable(aid) if attack.group and a.group == attack.group] or [attack]
            submission = hostile.assemble(aid, members, self.ctx, self.notebooks[aid])
            self.outcomes[key] = self._measure(key, submission, not any(m.name in FIXED_LIMITS for m in members))
        return self.outcomes[key]


@pytest.fixture(scope="module")
def corpus():
    ctx = hostile.Context.create()
    try:
        yield Corpus(ctx)
    finally:
        ctx.remove()


@pytest.mark.parametrize("aid", IDS)
def test_every_entry_builds_from_the_published_notebooks(aid):
    ctx = hostile.Context.create()
    try:
        built = hostile.build_corpus(aid, ctx)
    finally:
        ctx.remove()
    assert [s.attacks[0].name for s in built] == [a.name for a in hostile.applicable(aid)]
    for submission in built:
        attack = submission.attacks[0]
        if attack.files is None:
            inserted = [c for c in submission.notebook.cells if c.metadata.get("rnnkit_attack") == attack.name]
            assert inserted and submission.first_cells[attack.name] >= 1
            assert all(compile(c.source, attack.name, "exec") for c in inserted)
        else:
            assert submission.files


@pytest.mark.parametrize("aid,base", [(aid, base) for aid in IDS for base in ("blank", "reference")])
def test_honest_bases_are_clean(aid, base, corpus):
    """The yardstick itself: graded without an attack, nothing leaks, changes or stays behind."""
    outcome = corpus.honest_run(aid, base)
    assert not outcome.error and not outcome.leaks and not outcome.changed and not outcome.leftover, outcome
    assert (outcome.score == 0) == (base == "blank")


@pytest.mark.parametrize("aid,name", cases())
def test_hostile_entry_is_contained(aid, name, corpus):
    attack = BY_NAME[name]
    honest = corpus.honest_run(aid, attack.base).results
    outcome = corpus.outcome(aid, attack)
    key = (aid, attack.group or attack.name)
    found = hostile.problems(outcome, attack, honest, slack=corpus.slack(key))
    detail = json.dumps(outcome.results, indent=1)[:3000] if outcome.results else outcome.error
    assert not found, (f"{aid} {name} ({outcome.submission.name}, {outcome.seconds:.0f} s, limits x"
                       f"{corpus.scales[key]:.1f}): {found}\n{detail}")


def test_the_detectors_see_what_they_must():
    """The checks above can fail: a process with the marker, a hidden line, a seed, a decoy write."""
    ctx = hostile.Context.create()
    try:
        sleeper = subprocess.Popen(["/bin/sh", "-c", f"sleep 30; : {ctx.marker}"])
        try:
            assert hostile.Watch().leftovers(ctx.marker, wait=0)
        finally:
            sleeper.kill()
            sleeper.wait()
        assert not hostile.Watch().leftovers(ctx.marker, wait=1)
        aid = IDS[0]
        lines, seeds, _ = material = hostile.hidden_material(aid)
        line, seed = sorted(lines)[0], sorted(seeds)[0]
        assert len(hostile.find_leaks(f"x {line} y, seed={seed}", material, "")) == 2
        assert hostile.find_leaks("nothing to see", material, "") == []
        before = hostile.tree_state(ctx)
        with open(ctx.decoys[0], "a") as f:
            f.write("forged")
        assert hostile.changed_files(before, hostile.tree_state(ctx), ctx, aid)[0] == [ctx.decoys[0]]
    finally:
        ctx.remove()


def test_a_string_the_worker_reported_first_is_not_a_grader_input():
    """The judge sends a model's own parameter names back in a state_dict: not hidden. A hidden
    input that the worker echoes after receiving it stays one."""
    watch = hostile.Watch()
    watch.sent += [("describe", {}), ("call", {"args": [{"$dict": [["rnn.weight_hh_l0", 1]]}, "secretword"]}),
                   ("call", {"args": ["secretword"]})]
    watch.first_reported.update({"rnn.weight_hh_l0": 0, "secretword": 1})  # reported in the replies to 0 and 1
    assert watch.sent_values() == ["secretword"]

"""Hostile and broken submissions for every published assignment, and how each one is judged.

The corpus is data: each `Attack` says which notebook it starts from (the blank student notebook
or the reference solution), which cells it inserts where (after the setup cell, before or after
the check cells, after the cell that defines the first checked class or function) or which files
it submits instead, the message fragment an honest student must see, and whether it must cost
points. `build_corpus(id)` turns it into submissions from the published notebooks, so the
corpus follows the templates as they change. `measure()` grades one submission and checks what
must hold whatever the student did: grading ends within the budget, results.json is valid and
holds no more than the honest score, nothing hidden (check code, protocol, reference solution,
seeds, hidden inputs) reaches a message, no file outside the scratch directory changes and no
process of the worker survives.

    rnnkit hostile [-o dist/hostile.md] [--assignment ID] [--entry NAME]

grades the whole corpus (each entry on its own) for every published assignment, prints the
table and exits 1 when an entry is not contained (known gaps aside); tests/test_hostile.py runs the
same entries, grouped to save time. It refuses to run where the worker is not confined.

Layout: attacks.py (the cells' sources), corpus.py (the entries and their expectations),
build.py (submissions from the published notebooks), detect.py (leaks, changed files, leftover
processes), measure.py (grade one and judge it), command.py (`rnnkit hostile`).
"""
from .build import Context, Submission, assemble, build_corpus, published_notebooks, secret_files
from .corpus import CORPUS, Attack, applicable, is_training, published_ids
from .detect import Watch, changed_files, find_leaks, hidden_material, tree_state, visible_text
from .measure import Outcome, measure, preconditions, problems

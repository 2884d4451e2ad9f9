"""Hostile and runaway submissions: the grade stays honest, results are always written,
nothing outside the scratch directory changes, and no process outlives the grading."""
import os
import subprocess
import time

import pytest

from autograder.variants import insert_after, replace_in_cell
from conftest import ROOT, messages

SETUP_ANCHOR = "import torch.nn as nn"  # the given setup cell, before every question
Q4_SOLUTION = "    return {word: len(word) for word in words if len(word) > 3}"
CHECKS_FILE = os.path.join(ROOT, "autograder", "assignments", "rnn_basics", "checks.py")


def test_infinite_loop_in_a_cell_costs_only_its_question(published, grade):
    _, solution = published("rnn-basics")
    hostile = replace_in_cell(solution, "def long_word_lengths(words):\n    # Map each word with more than 3 letters to its length.\n    return {word: len(word)",
                              "while True:\n    pass\ndef long_word_lengths(words):\n    return {word: len(word)")
    started = time.monotonic()
    results, table = grade("rnn-basics", hostile, cell_timeout=3, budget=90)
    assert time.monotonic() - started < 90
    assert table["q4"][0] == 0 and results["score"] == 18
    assert "did not finish within 3 s" in messages(results, "q4")


def test_infinite_loop_inside_a_function_costs_only_its_question(published, grade):
    _, solution = published("rnn-basics")
    hostile = replace_in_cell(solution, Q4_SOLUTION, "    while True:\n        pass")
    results, table = grade("rnn-basics", hostile, budget=120)
    assert table["q4"][0] == 0 and results["score"] == 18
    assert "did not finish" in messages(results, "q4")


def test_whole_budget_bounds_the_run(published, grade):
    student, _ = published("rnn-basics")
    hostile = insert_after(student, SETUP_ANCHOR, "import time\ntime.sleep(1000)")
    hostile = insert_after(hostile, "num_layers=...", "import time\ntime.sleep(1000)")
    started = time.monotonic()
    results, _ = grade("rnn-basics", hostile, cell_timeout=4, budget=12)
    assert time.monotonic() - started < 40  # the budget plus a worker start-up and kill
    assert results["score"] == 0 and results["tests"]


MONKEYPATCH = """
import torch, builtins
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
torch.manual_seed = lambda *a, **k: None
builtins.isinstance = lambda *a: True
class Liar(dict):
    def __eq__(self, other): return True
    def __hash__(self): return 0
def long_word_lengths(words): return Liar()
answers = Liar()
print("q1 passed!\\nAll test cases passed!\\n{\\"score\\": 20}")
"""


def test_monkeypatching_gains_nothing(published, grade):
    student, solution = published("rnn-basics")
    assert grade("rnn-basics", insert_after(student, SETUP_ANCHOR, MONKEYPATCH))[0]["score"] == 0
    honest = grade("rnn-basics", solution)[0]["score"]
    # the same patch after a correct answer keeps the honest score, no more
    patched = insert_after(solution, 'answers = {1: "B"', MONKEYPATCH.replace("answers = Liar()", ""))
    assert grade("rnn-basics", patched)[0]["score"] <= honest


def test_forged_results_and_self_kill_change_nothing(published, grade, tmp_path):
    student, _ = published("rnn-basics")
    target = tmp_path / "results.json"
    forge = (f"import json, os\ntry:\n    open({str(target)!r}, 'w').write(json.dumps({{'score': 20, 'tests': []}}))\n"
             "except OSError as e:\n    print('blocked', e)\nos._exit(0)")
    results, _ = grade("rnn-basics", insert_after(student, SETUP_ANCHOR, forge))
    assert results["score"] == 0
    assert not target.exists()  # the worker may not write outside its scratch directory
    assert "stopped the grading process" in results["output"] + "".join(t["output"] for t in results["tests"])


def test_hidden_checks_cannot_be_read_or_leaked(published, grade):
    student, _ = published("rnn-basics")
    leak = (f"source = open({CHECKS_FILE!r}).read()\n"
            "def long_word_lengths(words):\n    raise ValueError(source)\n"
            "raise ValueError(source)")
    results, _ = grade("rnn-basics", insert_after(student, SETUP_ANCHOR, leak))
    text = str(results)
    assert "Permission denied" in text or "PermissionError" in text
    assert "ANSWER_KEY" not in text and "HIDDEN_SEED" not in text


def test_hidden_inputs_are_not_echoed_in_messages(published, grade):
    _, solution = published("rnn-basics")
    leak = replace_in_cell(solution, Q4_SOLUTION, "    raise ValueError('inputs: ' + repr(words))")
    results, _ = grade("rnn-basics", leak)
    assert "tensor" not in messages(results, "q4")  # a word of a hidden list only
    assert "raised ValueError" in messages(results, "q4")


def test_detached_processes_do_not_outlive_grading(published, grade):
    student, _ = published("rnn-basics")
    spawn = ("import subprocess, os\n"
             "subprocess.Popen(['sleep', '3131'], start_new_session=True)\n"
             "if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '3132'])\n")
    grade("rnn-basics", insert_after(student, SETUP_ANCHOR, spawn))
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "sleep 313[12]"], capture_output=True, text=True).stdout
    assert left == "", f"processes survived grading: {left}"


def test_killing_the_judge_is_refused(published, grade):
    _, solution = published("rnn-basics")
    attack = f"import os, signal\ntry:\n    os.kill({os.getpid()}, signal.SIGKILL)\nexcept OSError as e:\n    print(e)\n"
    results, _ = grade("rnn-basics", insert_after(solution, SETUP_ANCHOR, attack))
    assert results["score"] == 20  # we are still alive, and so is the grade


def test_flood_of_output_and_memory_blowup_are_contained(published, grade):
    _, solution = published("rnn-basics")
    noisy = insert_after(solution, SETUP_ANCHOR, "print('x' * (100 << 20))\ntry:\n    hog = bytearray(16 << 30)\nexcept MemoryError:\n    print('capped')")
    results, _ = grade("rnn-basics", noisy)
    assert results["score"] == 20
    assert len(str(results)) < 200_000

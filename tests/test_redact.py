"""Hidden inputs are struck from messages (autograder/checks.py: plain_values, redact).

The end-to-end case, code that stashes the inputs it is called with and raises them in a later
cell, is the corpus entry `stash-inputs-leak-later` (tests/test_hostile.py); the engine leaves
alone only the words of the kit's own messages (checks.kit_words), which the student cannot add to.
"""
from autograder import assignments
from autograder.judge.probe import shape_shown, student_error_message
from autograder.judge.redaction import HIDDEN_MARK, kit_words, plain_values, redact
from autograder.judge.worker_client import StudentError


def test_plain_values_are_strings_of_four_and_integers_of_four_digits():
    found = plain_values([("apple", "abc", 7, 123456, True), {"naïve": [2026, -4096]}, (1.5,)], set())
    assert found == {"apple", "123456", "naïve", "2026", "-4096"}


def test_redact_strikes_every_copy_in_any_letter_case():
    text = "grader inputs: APPLE apple 123456 pineapple"
    assert redact(text, {"apple", "123456"}) == f"grader inputs: {HIDDEN_MARK} {HIDDEN_MARK} {HIDDEN_MARK} pine{HIDDEN_MARK}"


def test_the_longest_secret_is_struck_first_and_nothing_else_changes():
    assert redact("hello! and hello", {"hello", "hello!"}) == f"{HIDDEN_MARK} and {HIDDEN_MARK}"
    assert redact("nothing hidden here", {"apple"}) == "nothing hidden here"
    assert redact("unchanged", set()) == "unchanged"


def test_only_the_kit_own_words_are_exempt_never_the_hidden_inputs_themselves():
    from autograder.assignments.rnn_basics import checks
    words = kit_words(assignments.load("rnn-basics"))
    assert {"hidden", "state", "time"} <= words  # the kit writes its messages with them
    assert not {"recurrent", "gradient", "straße", "naïve", "apple"} & words  # inputs only
    assert all(w.lower() not in words for w in ("Gradient", "flows", "straße"))
    assert "Q4_TYPICAL" in dir(checks)


def test_on_a_hidden_input_the_message_is_kit_text():
    named = StudentError({"type": "E7265637572", "message": "recurrent net", "builtin": False,
                          "where": {"cell": 3, "line": 2, "code": "raise E(words)"}})
    message = student_error_message("`f`", named.info, hidden_input=True)
    assert message == "`f` raised an exception class defined in your notebook at line 2 of cell 3 on one of the grader's inputs."
    builtin = StudentError({"type": "ValueError", "message": "recurrent", "builtin": True, "where": None})
    assert student_error_message("`f`", builtin.info, hidden_input=True) == "`f` raised ValueError on one of the grader's inputs."
    forged = StudentError({"type": "ValueError", "message": "x", "where": None})  # builtin not claimed
    assert "ValueError" not in student_error_message("`f`", forged.info, hidden_input=True)
    shown = student_error_message("`f`", builtin.info, hidden_input=False, secrets={"recurrent"})
    assert "recurrent" not in shown and HIDDEN_MARK in shown


def test_student_error_fields_of_every_wrong_type_are_checked_once():
    for info in (5, None, [], {"type": ["a"], "message": {"b": 1}, "where": "line 3"},
                 {"type": "x" * 500, "message": "\ud800", "where": {"cell": "1", "line": 2}}):
        e = StudentError(info)
        assert isinstance(e.info["type"], str) and isinstance(e.info["message"], str)
        assert e.info["where"] is None and e.info["builtin"] is False
        e.info["message"].encode("utf-8")


def test_shapes_are_shown_only_from_the_input_sizes():
    assert shape_shown((3, 4, 10), {3, 4, 10, 1}) == "shape (3, 4, 10)"
    assert "(" not in shape_shown((3, 4, 1234), {3, 4, 10, 1})
    assert "(" not in shape_shown((1,) * 6, {1})

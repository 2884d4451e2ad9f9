"""Hidden inputs are struck from messages (autograder/checks.py: plain_values, redact).

The end-to-end case, code that stashes the inputs it is called with and raises them in a later
cell, is the corpus entry `stash-inputs-leak-later` (tests/test_hostile.py); the engine leaves
alone the words the submission itself contains, which tests/test_grading.py's messages need.
"""
from autograder.judge.redaction import HIDDEN_MARK, plain_values, redact


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

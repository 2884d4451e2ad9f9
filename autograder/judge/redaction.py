"""What never reaches the student: hidden inputs struck from every message the judge writes.

Messages on hidden inputs are kit text by construction (autograder/judge/probe.py); striking
verbatim copies is the second line, for text the student's code wrote in other calls.
"""
import ast
import functools
import importlib
import os
import re

HIDDEN_MARK = "<hidden>"


def plain_values(value, found):
    """Add to `found` the strings (4+ characters) and integers (4+ digits) inside `value`: the
    parts of a judge-chosen input that student code could copy into a message verbatim."""
    if isinstance(value, str):
        if len(value) >= 4:
            found.add(value)
    elif type(value) is int:
        if abs(value) >= 1000:
            found.add(str(value))
    elif isinstance(value, dict):
        for k, v in value.items():
            plain_values(k, found)
            plain_values(v, found)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            plain_values(v, found)
    return found


def redact(text, secrets):
    """`text` with every verbatim copy of a secret (any letter case) replaced by HIDDEN_MARK.

    Student code sees the hidden inputs it is called with; whatever it writes into an exception,
    a return value or its type names reaches the student through the messages. Copies are struck
    out; an encoded copy (reversed, base64) is not caught: hidden inputs are not a defence on
    their own (README, "What is not protected")."""
    if not secrets or not text:
        return text
    pattern = "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))
    return re.sub(pattern, HIDDEN_MARK, text, flags=re.IGNORECASE)


_JUDGE_MODULES = ("autograder.judge.engine", "autograder.judge.probe", "autograder.authoring.training_checks")


@functools.lru_cache(maxsize=None)
def _module_words(module_name):
    """Lower-case words of the messages written in a module: its string literals that read like a
    sentence (a space in them), leaving out module-level collections of constants (hidden inputs)
    and docstrings."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not os.path.exists(spec.origin):
        return frozenset()
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    inputs = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple, ast.Dict, ast.Set)):
            inputs.update(id(n) for n in ast.walk(node.value))
    # docstrings (a bare string statement) are not messages: they may name an input in passing
    inputs.update(id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value \
                and id(node) not in inputs:
            words.update(re.findall(r"\w+", node.value.lower()))
    return frozenset(words)


def kit_words(assignment):
    """Words the kit's own messages for `assignment` are written with. A hidden input that is one of
    them ("hidden", "state", "time") cannot be struck from messages without striking the kit's text;
    it is left alone. The student cannot add to this set (unlike the text of their notebook)."""
    modules = list(_JUDGE_MODULES)
    for check in assignment.checks:
        modules.append(check.fn.__module__)
    return frozenset().union(*(_module_words(m) for m in dict.fromkeys(modules)))

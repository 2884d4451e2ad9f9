"""What never reaches the student: hidden inputs struck from every message the judge writes."""
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

"""Suspicious pairs: submissions whose answer cells are near-identical once names and layout are
normalised. For human review only, never an automatic penalty.

Answer cells are the code cells that differ from the blank student notebook. Each is tokenized
with Python's tokenize: comments, blank lines and bare string statements are dropped, and every
identifier that is not a keyword, a builtin, an attribute (`x.shape`) or a keyword argument
(`hidden_size=`) becomes a placeholder numbered by first use in its cell, so renaming variables
changes nothing. A submission is the token sequence of its answer cells.

Pairs are compared on their *distinctive* shingles (runs of K tokens) only: shingles of the blank
notebook, of the reference solution and of more than half the class are removed, so two students
who both wrote the expected answer (or made the same common one-token mistake) are not flagged.
A pair is reported when its Jaccard index on distinctive shingles and the difflib ratio of its
full token sequences are both high. Candidate pairs are those sharing a shingle that few others
have (an inverted index), so thousands of submissions do not cost a full all-pairs comparison.
"""
import builtins
import csv
import difflib
import io
import keyword
import re
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass

from ...judge.plan import cell_source, check_calls

K = 5  # tokens per shingle
_KEEP = set(keyword.kwlist) | set(getattr(keyword, "softkwlist", [])) | set(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass
class Pair:
    a: str
    b: str
    ratio: float  # difflib ratio of the normalised answer token sequences
    jaccard: float  # Jaccard index of the distinctive shingles
    shared: int  # distinctive shingles in common
    cells: str  # answer cells (a's numbering) whose normalised code b also has, and the reference has not


def _lines_without_magics(source):
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def normalise(source, names=None):
    """The normalised token list of one cell's source."""
    names = {} if names is None else names
    source = _lines_without_magics(source) + "\n"
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type not in _SKIP]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.findall(r"\w+|[^\w\s]", re.sub(r"#.*", "", source))
    out, depth, skip = [], 0, set()
    for i, tok in enumerate(tokens):
        previous = tokens[i - 1] if i else None
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if i in skip:
            continue
        at_start = previous is None or previous.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) \
            or previous.string == ";"
        if tok.type == tokenize.STRING and at_start and (following is None or following.type == tokenize.NEWLINE
                                                         or following.string == ";"):
            if following is not None and following.string == ";":
                skip.add(i + 1)  # a bare string statement (docstring, prompt text): a comment in effect
            continue
        if tok.type == tokenize.OP:
            depth += tok.string in "([{"
            depth -= tok.string in ")]}" and depth > 0
        if tok.type == tokenize.NAME and tok.string not in _KEEP \
                and not (previous is not None and previous.string == ".") \
                and not (depth > 0 and following is not None and following.string == "="):
            out.append(names.setdefault(tok.string, f"v{len(names)}"))
        elif tok.type == tokenize.NEWLINE:
            if out and out[-1] not in ("NEWLINE", "INDENT"):
                out.append("NEWLINE")
        elif tok.type in (tokenize.INDENT, tokenize.DEDENT):
            out.append(tokenize.tok_name[tok.type])
        else:
            out.append(tok.string)
    return out


def _code_cells(notebook):
    return [(i, cell_source(c) or "") for i, c in enumerate(notebook.get("cells") or [], start=1)
            if isinstance(c, dict) and c.get("cell_type") == "code"]


def answer_cells(notebook, blank_sources):
    """[(cell number, tokens)] of the code cells that differ from the blank notebook's."""
    cells = []
    for index, source in _code_cells(notebook):
        if source.strip() and source.strip() not in blank_sources and not check_calls(source)[1]:
            cells.append((index, normalise(source)))  # placeholders per cell: one cell's names never shift another's
    return cells


def _shingles(tokens):
    return {hash(tuple(tokens[i:i + K])) for i in range(max(len(tokens) - K + 1, 1 if tokens else 0))}


def find_pairs(items, blank, reference=None, min_ratio=0.9, min_jaccard=0.6, min_shingles=15, common=0.5):
    """Suspicious pairs among items = [(id, notebook dict)], most similar first."""
    blank_sources = {s.strip() for _, s in _code_cells(blank)}
    expected = set()
    for _, source in _code_cells(blank):
        expected |= _shingles(normalise(source))
    reference_tokens, reference_cells = None, set()
    if reference is not None:
        cells = answer_cells(reference, blank_sources)
        reference_tokens = [t for _, toks in cells for t in toks]
        reference_cells = {tuple(toks) for _, toks in cells}
        expected |= _shingles(reference_tokens)
    docs = {}
    for sid, notebook in items:
        cells = answer_cells(notebook, blank_sources)
        tokens = [t for _, toks in cells for t in toks]
        docs[sid] = (cells, tokens, _shingles(tokens) - expected)
    frequency = Counter(s for _, _, shingles in docs.values() for s in shingles)
    if len(docs) >= 8:  # shingles most of the class shares say nothing about copying
        expected = {s for s, n in frequency.items() if n > common * len(docs)}
        docs = {sid: (c, t, s - expected) for sid, (c, t, s) in docs.items()}
    index = defaultdict(list)
    for sid, (_, _, shingles) in docs.items():
        if len(shingles) >= min_shingles:
            for s in shingles:
                index[s].append(sid)
    candidates, rare = set(), max(20, len(docs) // 20)  # pairs sharing a shingle few others have
    for holders in index.values():
        if len(holders) <= rare:
            candidates.update((a, b) if a < b else (b, a) for i, a in enumerate(holders) for b in holders[i + 1:])
    pairs = []
    for a, b in candidates:
        (cells_a, tok_a, sh_a), (cells_b, tok_b, sh_b) = docs[a], docs[b]
        shared = len(sh_a & sh_b)
        jaccard = shared / len(sh_a | sh_b)
        if jaccard < min_jaccard or (reference_tokens is not None and tok_a == tok_b == reference_tokens):
            continue
        ratio = difflib.SequenceMatcher(None, tok_a, tok_b, autojunk=False).ratio()
        if ratio >= min_ratio:
            in_b = {tuple(t) for _, t in cells_b} - reference_cells
            same = [str(i) for i, t in cells_a if tuple(t) in in_b]
            pairs.append(Pair(a, b, round(ratio, 3), round(jaccard, 3), shared, " ".join(same)))
    return sorted(pairs, key=lambda p: (-p.ratio, -p.jaccard, p.a, p.b))


FIELDS = ["submission_a", "submission_b", "similarity", "distinctive_jaccard", "shared_shingles",
          "identical_cells_unlike_reference"]


def write_csv(pairs, path):
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for p in pairs:
            writer.writerow([p.a, p.b, f"{p.ratio:.3f}", f"{p.jaccard:.3f}", p.shared, p.cells])

"""Building submissions from the published notebooks: the attacks' cells inserted at their places
(after the setup cell, before the check cells, after the first checked definition), the `$names`
filled in for this machine, or the attack's files instead of a notebook.
"""
import ast
import copy
import os
import re
import shutil
import socket
import string
import tempfile
import uuid
from dataclasses import dataclass

import nbformat

from ... import assignments
from ...judge.plan import cell_source, check_calls, notebook_text
from ...paths import ROOT, master_path, package_name, solution_path, student_path
from .corpus import applicable

DEFAULT_OPTIONS = {"cell_timeout": 10, "budget": 60}  # small limits keep the corpus fast
KIT_FILES = ("engine.py", "__init__.py", "results.py")  # under <kit>/autograder/: opened for writing

_DEFINES = re.compile(r"^(class|def)\s+(\w+)", re.M)


@dataclass
class Submission:
    assignment: str
    attacks: list
    base: str
    notebook: object = None         # nbformat notebook, or None when `files` are submitted
    files: dict = None              # {name: bytes}: one file is graded as is, several as a directory
    first_cells: dict = None        # attack name -> 1-based number of its first inserted cell
    options: dict = None
    text: str = ""                  # every cell source the student submitted (their own words)

    @property
    def name(self):
        return "+".join(a.name for a in self.attacks) or f"honest-{self.base}"

    def upload(self):
        """The files a student would upload: {name: bytes}."""
        if self.notebook is not None:
            return {f"{self.assignment}.ipynb": nbformat.writes(self.notebook).encode()}
        return dict(self.files)

    def write(self, directory):
        """Write the submission under `directory`; returns the path to grade."""
        if self.notebook is not None:
            path = os.path.join(directory, f"{self.assignment}.ipynb")
            nbformat.write(self.notebook, path)
            return path
        for name, data in self.files.items():
            path = os.path.join(directory, "submission", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if hasattr(data, "target"):  # corpus.Link: a symbolic link, not a file
                os.symlink(solution_path(self.assignment) if data.target == "$solution" else data.target, path)
                continue
            with open(path, "wb") as f:
                f.write(data)
        if len(self.files) == 1:
            return os.path.join(directory, "submission", next(iter(self.files)))
        return os.path.join(directory, "submission")


def _code(cell):
    return cell.get("cell_type") == "code"


def _positions(notebook):
    """Where attack cells go: {where: [(base cell index, "before"|"after"), ...]}."""
    cells = notebook.cells
    code = [i for i, c in enumerate(cells) if _code(c)]
    checks = [i for i in code if check_calls(cell_source(cells[i]))[0]]
    init = next((i for i in code if "otter.Notebook(" in cell_source(cells[i])), -1)
    setup = next(i for i in code if i > init and re.search(r"^\s*(import|from) torch", cell_source(cells[i]), re.M))
    answer_cells = {max(j for j in code if j < i) for i in checks if any(j < i for j in code)}  # just before a check
    defining = [(i, m) for i in sorted(answer_cells) for m in _DEFINES.findall(cell_source(cells[i]))]
    target = next(((i, m) for i, m in defining if m[0] == "class"), None) or next(((i, m) for i, m in defining), None)
    where = {"setup": [(setup, "after")], "checks": [(i, "before") for i in checks],
             "last-check": [(checks[-1], "before")]}
    if target:
        where["target"] = [(target[0], "after")]
    return where, (target[1][1], "class" if target[1][0] == "class" else "function") if target else (None, None)


def answer_names(notebook):
    """Names the question cells define (assignments, functions, classes), per question in order."""
    per_question, current = [], set()
    for cell in notebook.cells:
        if not _code(cell):
            continue
        source = cell_source(cell)
        if check_calls(source)[0]:
            per_question.append(sorted(current))
            current = set()
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            current.update(m[1] for m in _DEFINES.findall(source))
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                current.add(node.name)
            elif isinstance(node, ast.Assign):
                current.update(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
    if per_question:  # otter and the imports are not answers
        per_question[0] = [n for n in per_question[0] if n not in ("torch", "nn", "F", "grader")]
    return per_question


@dataclass
class Context:
    """What the attacks aim at on this machine: decoys, a marker for their processes, the judge."""
    marker: str
    decoy_dir: str
    judge_pid: int
    results_paths: tuple = ()  # the real results.json of a Gradescope run (the decoys stand in elsewhere)
    kit: str = ROOT  # the grader's code as it is installed (on Gradescope: /autograder/source)
    udp_port: int = 0  # the judge's listeners on the loopback: nothing the worker sends may arrive
    tcp_port: int = 0
    ipc_key: int = 0  # the SysV key the attacks store under: nothing may stay behind
    checkout: bool = True  # aim at this checkout's hidden files as well as at the kit's

    @classmethod
    def create(cls, results_paths=(), kit=ROOT, checkout=True):
        marker = f"rnnkit-hostile-{uuid.uuid4().hex[:10]}"
        listeners = _listen(marker)
        decoy_dir = tempfile.mkdtemp(prefix=f"{marker}-decoy-")
        os.chmod(decoy_dir, 0o777)  # world-writable: only the sandbox keeps the worker out
        for name in ("results.json", "checks.py"):
            with open(os.path.join(decoy_dir, name), "w") as f:
                f.write('{"score": 0, "decoy": true}\n')
            os.chmod(os.path.join(decoy_dir, name), 0o666)
        return cls(marker, decoy_dir, os.getpid(), tuple(results_paths), kit, *listeners,
                   ipc_key=0x5EED0000 + int(marker[-4:], 16), checkout=checkout)

    @property
    def decoys(self):
        return [os.path.join(self.decoy_dir, n) for n in ("results.json", "checks.py")]

    def kit_files(self):
        return [os.path.join(self.kit, "autograder", n) for n in KIT_FILES]

    def secrets(self, assignment_id):
        """The hidden files of an assignment: as installed, and in this checkout."""
        return sorted(set(secret_files(assignment_id, self.kit) + (secret_files(assignment_id) if self.checkout else [])))

    def outside_paths(self):
        """Files the attacks try to create outside the scratch directory: none may exist after."""
        return [f"/tmp/{self.marker}", f"/dev/shm/{self.marker}", f"/tmp/{self.marker}-state",
                f"/dev/shm/{self.marker}-state", f"/var/tmp/{self.marker}-state"]

    def received(self):
        """What reached the listeners since the last call (datagrams, connections)."""
        got = []
        for kind, sock in _LISTENERS.get(self.marker, []):
            while True:
                try:
                    if kind == "udp":
                        data, peer = sock.recvfrom(4096)
                        got.append(f"udp from {peer[0]}: {data[:60]!r}")
                    else:
                        conn, peer = sock.accept()
                        conn.close()
                        got.append(f"tcp connection from {peer[0]}")
                except (BlockingIOError, OSError):
                    break
        return got

    def remove(self):
        shutil.rmtree(self.decoy_dir, ignore_errors=True)
        for _, sock in _LISTENERS.pop(self.marker, []):
            sock.close()


_LISTENERS = {}  # marker -> [(kind, socket)]


def _listen(marker):
    """UDP sockets (127.0.0.1 and, where possible, ::1, one port) and a TCP listener, loopback only."""
    socks = []
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    try:
        udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        udp6.bind(("::1", port))
        udp6.setblocking(False)
        socks.append(("udp", udp6))
    except OSError:
        pass
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(16)
    for kind, sock in (("udp", udp), ("tcp", tcp)):
        sock.setblocking(False)
        socks.append((kind, sock))
    _LISTENERS[marker] = socks
    return port, tcp.getsockname()[1]


def secret_files(assignment_id, root=ROOT):
    """The package of hidden checks and protocol, the reference solution, the master notebook and
    the grading key."""
    package = os.path.join(root, "autograder", "assignments", package_name(assignment_id))
    files = sorted(os.path.join(package, n) for n in os.listdir(package) if n.endswith(".py")) \
        if os.path.isdir(package) else []
    notebooks = (solution_path(assignment_id, root), master_path(assignment_id, root))
    key = os.path.join(root, ".rnnkit", "secret")  # the grading key (autograder/judge/grading_key.py)
    return files + [p for p in (*notebooks, key) if os.path.exists(p)]


def input_words(assignment_id):
    """The strings of the module-level lists of an assignment's hidden checks and protocol: what a
    student who guesses every word would put in a notebook."""
    words = set()
    for path in secret_files(assignment_id):
        if path.endswith(".py"):
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in tree.body:
                if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
                    words.update(n.value for n in ast.walk(node.value)
                                 if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return " ".join(sorted(w for w in words if '"' not in w and "$" not in w))


def _values(assignment_id, ctx, target, answers):
    return {"input_words": input_words(assignment_id), "secrets": repr(ctx.secrets(assignment_id)), "decoys": repr(ctx.decoys), "marker": ctx.marker,
            "judge_pid": str(ctx.judge_pid), "kit": repr(ctx.kit), "target": target or "undefined_target",
            "results_paths": repr(list(ctx.results_paths)), "answers": repr(sorted({n for q in answers for n in q})),
            "kit_files": repr(ctx.kit_files()), "udp_port": str(ctx.udp_port), "tcp_port": str(ctx.tcp_port),
            "ipc_key": str(ctx.ipc_key)}


def published_notebooks(assignment_id):
    return {"blank": nbformat.read(student_path(assignment_id), as_version=4),
            "reference": nbformat.read(solution_path(assignment_id), as_version=4)}


def assemble(assignment_id, attacks, ctx, notebooks=None, base="blank"):
    """One submission holding every given attack (all of one base). No attacks: the honest `base`."""
    notebooks = notebooks or published_notebooks(assignment_id)
    base = attacks[0].base if attacks else base
    options = {**DEFAULT_OPTIONS, **(attacks[0].options if attacks else {})}
    if attacks and attacks[0].files is not None:
        texts = [nbformat.writes(notebooks[k]) for k in ("blank", "reference")]
        return Submission(assignment_id, attacks, base, files=attacks[0].files(*texts), first_cells={}, options=options,
                          text=notebook_text(notebooks[base]))
    notebook = notebooks[base]
    where, (target, kind) = _positions(notebook)
    values = _values(assignment_id, ctx, target, answer_names(notebooks["reference"]))
    inserts = {}
    for attack in attacks:
        for position, source in attack.cells:
            if isinstance(source, dict):
                source = source.get(kind)
            if source is None or position not in where:
                raise ValueError(f"{attack.name}: no {position!r} in {assignment_id} for a {kind}")
            text = string.Template(source).substitute(values)
            for spot in where[position]:
                cell = nbformat.v4.new_code_cell(text)
                cell.metadata["rnnkit_attack"] = attack.name
                inserts.setdefault(spot, []).append(cell)
    cells = []
    for i, cell in enumerate(notebook.cells):
        cells += inserts.get((i, "before"), []) + [cell] + inserts.get((i, "after"), [])
    built = copy.deepcopy(notebook)
    built.cells = cells
    first = {}
    for number, cell in enumerate(cells, start=1):
        first.setdefault(cell.metadata.get("rnnkit_attack"), number)
    # what the student is taken to know already: the published notebook they started from, not the
    # attack's own cells (an attack that writes every word into its notebook knows no hidden input)
    return Submission(assignment_id, list(attacks), base, notebook=built, first_cells=first, options=options,
                      text=notebook_text(notebook))


def build_corpus(assignment_id, ctx=None, notebooks=None):
    """One submission per applicable attack of the corpus, built from the published notebooks."""
    ctx = ctx or Context.create()
    notebooks = notebooks or published_notebooks(assignment_id)
    return [assemble(assignment_id, [a], ctx, notebooks) for a in applicable(assignment_id)]

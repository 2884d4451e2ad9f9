"""The README and the contract stand alone: their relative links resolve in the checkout, and the
contract's points are the master notebooks' (and the hidden checks') points."""
import json
import os
import re

import yaml

import pytest

from conftest import ROOT

DOCS = ("README.md", "ASSIGNMENTS.md")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)


def _prose(text):
    """Markdown without fenced code blocks and inline code spans (their brackets are not links)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.M | re.S)
    return re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", lambda m: "x" if "](" in m.group(0) else m.group(0), text, flags=re.S)


def links(text):
    """Every link target of a Markdown text: inline, reference-style and HTML href/src."""
    prose = _prose(text)
    return LINK.findall(prose) + REFERENCE.findall(prose) + HTML.findall(prose)


def slugs(text):
    """GitHub's anchors for the headings of a Markdown text."""
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", _prose(text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def broken_links(path, root=ROOT):
    """The relative links of the Markdown file `path` whose target (or #anchor) is not in `root`."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # http(s), mailto: not a file of the checkout
        file_part, _, anchor = target.partition("#")
        resolved = os.path.realpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        inside = os.path.commonpath([resolved, os.path.realpath(root)]) == os.path.realpath(root)
        if not inside or not os.path.exists(resolved):
            broken.append(target)
        elif anchor and resolved.endswith(".md"):
            with open(resolved, encoding="utf-8") as f:
                if anchor.lower() not in slugs(f.read()):
                    broken.append(target)
    return broken


@pytest.mark.parametrize("name", DOCS)
def test_relative_links_resolve_in_the_checkout(name):
    path = os.path.join(ROOT, name)
    assert os.path.isfile(path), f"{name} is missing from the repository"
    assert broken_links(path) == []


def test_readme_links_the_contract_in_the_repository():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        targets = links(f.read())
    assert "ASSIGNMENTS.md" in targets
    assert not [t for t in targets if t.startswith("..")], "the README points outside the repository"


def test_the_link_checker_sees_broken_links(tmp_path):
    (tmp_path / "there.md").write_text("# A heading, with `code`\n")
    (tmp_path / "doc.md").write_text(
        "[ok](there.md) [anchor](there.md#a-heading-with-code) [web](https://example.org/x) "
        "![pic](missing.png) [bad anchor](there.md#nope) [out](../outside.md)\n"
        "`[not a link](nowhere.md)`\n```\n[nor this](nowhere.md)\n```\n"
        "[ref]: gone/ <a href=\"absent.html\">x</a>\n")
    assert sorted(broken_links(str(tmp_path / "doc.md"), root=str(tmp_path))) == sorted(
        ["missing.png", "there.md#nope", "../outside.md", "gone/", "absent.html"])


# -- points ------------------------------------------------------------------------------------
def contract_points():
    """{assignment id: ({question: points}, the heading's total)} from ASSIGNMENTS.md."""
    with open(os.path.join(ROOT, "ASSIGNMENTS.md"), encoding="utf-8") as f:
        text = f.read()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    found = {}
    for section in sections:
        head = re.match(r"([a-z0-9-]+) \(.*\) — (\d+(?:\.\d+)?) points\s*$", section.splitlines()[0])
        assert head, f"unexpected assignment heading: {section.splitlines()[0]!r}"
        rows = re.findall(r"^\| (q\d+) \((\d+(?:\.\d+)?)\) \|", section, re.M)
        assert rows, f"no question rows under {head.group(1)}"
        found[head.group(1)] = ({q: float(p) for q, p in rows}, float(head.group(2)))
    return found


def master_points(assignment_id, root=ROOT):
    """{question: points (float)} of solutions/<id>/master.ipynb, read by the kit's own reader."""
    from autograder.assignments import master_points as read
    from autograder.paths import master_path
    return {q: float(p) for q, p in read(master_path(assignment_id, root)).items()}


def test_contract_points_equal_the_master_notebooks():
    contract = contract_points()
    masters = sorted(d for d in os.listdir(os.path.join(ROOT, "solutions"))
                     if os.path.isfile(os.path.join(ROOT, "solutions", d, "master.ipynb")))
    assert sorted(contract) == masters
    for aid, (questions, total) in contract.items():
        assert master_points(aid) == questions, aid
        assert sum(questions.values()) == total, f"{aid}: the questions add up to {sum(questions.values())}"


def test_contract_points_equal_the_hidden_checks():
    from autograder import assignments
    for aid, (questions, _) in contract_points().items():
        assert {q: float(p) for q, p in assignments.load(aid).questions.items()} == questions, aid


def test_the_points_comparison_can_fail(tmp_path):
    """A master notebook whose points drift from the contract is caught."""
    with open(os.path.join(ROOT, "solutions", "rnn-basics", "master.ipynb"), encoding="utf-8") as f:
        notebook = json.load(f)
    q8 = [c for c in notebook["cells"] if c["cell_type"] == "raw" and "name: q8" in "".join(c["source"])]
    assert len(q8) == 1
    q8[0]["source"] = "# BEGIN QUESTION\nname: q8\npoints: 3"
    (tmp_path / "solutions" / "rnn-basics").mkdir(parents=True)
    (tmp_path / "solutions" / "rnn-basics" / "master.ipynb").write_text(json.dumps(notebook))
    drifted = master_points("rnn-basics", root=str(tmp_path))
    assert drifted["q8"] == 3.0 and drifted != contract_points()["rnn-basics"][0]


def test_readme_cluster_recipes_are_ready():
    """The README's sbatch script and Kubernetes Job: valid, sharded with --shard auto, and the Job's
    RNNKIT_SHARD_COUNT equal to its completions (Kubernetes does not export that number)."""
    import subprocess
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        blocks = re.findall(r"^```(\w+)\n(.*?)^```", f.read(), re.M | re.S)
    (script,) = [body for lang, body in blocks if lang == "bash" and "#SBATCH" in body]
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert re.search(r"^#SBATCH --array=\d+-\d+", script, re.M)
    assert "--shard auto" in script and '-o "graded/shard-$SLURM_ARRAY_TASK_ID"' in script
    (job,) = [yaml.safe_load(body) for lang, body in blocks if lang == "yaml" and "kind: Job" in body]
    spec = job["spec"]
    assert job["apiVersion"] == "batch/v1" and spec["completionMode"] == "Indexed"
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["RNNKIT_SHARD_COUNT"] == str(spec["completions"])
    command = " ".join(container["command"] + container["args"])
    assert "--shard auto" in command and "shard-$JOB_COMPLETION_INDEX" in command
    assert spec["template"]["spec"]["restartPolicy"] == "Never"

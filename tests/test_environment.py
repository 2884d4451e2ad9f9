"""CPU torch everywhere: the venv's torch, the requirements' pins per platform, what pip can select
from them, and a `make setup` that cannot hang on an unreachable index."""
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from conftest import ROOT

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PLATFORMS = {"linux": {"sys_platform": "linux", "platform_system": "Linux"},
             "darwin": {"sys_platform": "darwin", "platform_system": "Darwin"},
             "win32": {"sys_platform": "win32", "platform_system": "Windows"}}


def requirement_lines():
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        return [line.split(" #", 1)[0].strip() for line in f if line.strip() and not line.startswith("#")]


def torch_pins(platform):
    """The torch requirements of requirements.txt that apply on `platform`."""
    pins = []
    for line in requirement_lines():
        if line.startswith("-"):
            continue
        req = Requirement(line)
        if req.name == "torch" and (req.marker is None or req.marker.evaluate(PLATFORMS[platform])):
            pins.append(req)
    return pins


def test_the_venv_has_the_cpu_build_of_the_pinned_torch():
    import torch
    assert torch.version.cuda is None, f"torch {torch.__version__} is a CUDA build"
    assert not torch.cuda.is_available()
    platform = "darwin" if sys.platform == "darwin" else "linux"
    (pin,) = torch_pins(platform)
    assert torch.__version__ == str(pin.specifier)[2:], (torch.__version__, str(pin))


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_platform_gets_exactly_one_exact_cpu_pin(platform):
    (pin,) = torch_pins(platform)
    (spec,) = pin.specifier
    assert spec.operator == "=="
    if platform == "darwin":  # PyPI's macOS wheels are CPU builds, without a local label
        assert re.fullmatch(r"\d+\.\d+\.\d+", spec.version)
    else:  # a local version: PyPI never hosts one, so no CUDA build can satisfy it
        assert re.fullmatch(r"\d+\.\d+\.\d+\+cpu", spec.version)
    assert f"--extra-index-url {CPU_INDEX}" in requirement_lines()


def test_make_setup_bounds_pip_and_probes_the_cpu_index():
    with open(os.path.join(ROOT, "Makefile")) as f:
        makefile = f.read()
    recipe = makefile.split(".venv/.installed: requirements.txt pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    pips = [line for line in recipe.splitlines() if re.search(r"\bpip install\b", line)]
    assert len(pips) == 3 and all("$(PIP_NET)" in line for line in pips), pips  # pip, requirements, the kit
    net = re.search(r"^PIP_NET := (.*)$", makefile, re.M).group(1)
    timeout, retries = (int(re.search(rf"--{k} (\d+)", net).group(1)) for k in ("timeout", "retries"))
    assert timeout <= 60 and retries <= 3
    assert "urlopen(sys.argv[1], timeout=10)" in recipe and "$(TORCH_CPU_INDEX)/torch/" in recipe
    assert f"TORCH_CPU_INDEX := {CPU_INDEX}" in makefile
    assert "grep -v -e '^--extra-index-url' requirements.txt" in recipe  # unreachable: the file without it
    assert "torch.version.cuda is None" in recipe


# -- what pip may select ------------------------------------------------------------------------
def fake_wheel(folder, name, version, requires=()):
    """A minimal pure-Python wheel; pip reads its metadata to resolve (dry runs install nothing)."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = os.path.join(folder, f"{dist}-py3-none-any.whl")
    metadata = "".join([f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                        *[f"Requires-Dist: {r}\n" for r in requires]])
    files = {f"{name.replace('-', '_')}/__init__.py": "",
             f"{dist}.dist-info/METADATA": metadata,
             f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{n},,\n" for n in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for n, data in {**files, f"{dist}.dist-info/RECORD": record}.items():
            z.writestr(n, data)


def selected(requirement, links, tmp_path):
    """{name: version} pip would install for `requirement` from the folder `links` alone."""
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed",
                          "--no-index", "--find-links", str(links), "--quiet", "--report", str(report), requirement],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    if run.returncode:
        assert "No matching distribution found" in run.stderr, run.stderr
        return None
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}


def test_pip_can_select_no_cuda_build_for_the_linux_pin(tmp_path):
    """A stand-in PyPI holds only a CUDA-style torch of the pinned version (pulling nvidia-* and
    triton): the kit's Linux pin finds nothing there, where a plain pin takes the CUDA build. With
    the CPU wheel beside it (PyTorch's CPU index, or pip's find-links here), the pin takes that."""
    (pin,) = torch_pins("linux")
    version = str(pin.specifier)[2:]
    public = str(version).split("+")[0]
    pypi = tmp_path / "pypi"
    pypi.mkdir()
    fake_wheel(pypi, "torch", public, ["nvidia-cublas", "triton"])
    fake_wheel(pypi, "nvidia-cublas", "13.0")
    fake_wheel(pypi, "triton", "3.7.1")
    assert selected(f"torch=={public}", pypi, tmp_path) == {"torch": public, "nvidia-cublas": "13.0",
                                                            "triton": "3.7.1"}
    assert selected(str(pin), pypi, tmp_path) is None
    fake_wheel(pypi, "torch", version)
    assert selected(str(pin), pypi, tmp_path) == {"torch": version}

"""pyproject.toml and environment.yml describe the same runtime; the CLI entry points exist."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_lists_the_same_runtime_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    py_deps = {_name(d): d.replace(" ", "") for d in project["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_deps = {_name(d): d.replace(" ", "") for d in pip if not d.startswith("-e")}
    assert py_deps == env_deps


def test_console_script_and_module_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["slmlab"] == "slmlab.cli:main"
    out = subprocess.run([sys.executable, "-m", "slmlab", "--version"], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    assert out.stdout.startswith("slmlab ")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make quickstart" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_moshi_imports_and_builds_mimi():
    # moshi is installed with --no-deps (it pins torch<2.10); its Mimi code must still work.
    from moshi.models import loaders

    mimi = loaders.get_mimi(None, device="cpu")
    assert loaders.SAMPLE_RATE == 24000 and loaders.FRAME_RATE == 12.5
    assert sum(p.numel() for p in mimi.parameters()) > 50_000_000

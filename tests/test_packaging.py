"""pyproject.toml and environment.yml list the same packages with the same lower bounds."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(>=\s*[0-9][^,;\s]*)?")
# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI: dict[str, str] = {}


def _parse(spec: str) -> tuple[str, str | None]:
    m = _REQ.match(spec)
    assert m, f"cannot parse requirement {spec!r}"
    name = m.group(1).lower().replace("_", "-")
    lower = m.group(2).replace(" ", "")[2:] if m.group(2) else None
    return name, lower


def pyproject_requirements() -> dict[str, str | None]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    specs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        specs += extra
    return dict(_parse(s) for s in specs)


def environment_requirements() -> dict[str, str | None]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    out = {}
    for d in env["dependencies"]:
        if not isinstance(d, str):
            continue  # the `pip:` block installs the package itself
        name, lower = _parse(d)
        if name in ("python", "pip"):
            continue
        out[CONDA_TO_PYPI.get(name, name)] = lower
    return out


def test_same_packages_and_lower_bounds():
    py, env = pyproject_requirements(), environment_requirements()
    assert sorted(set(py) - set(env)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(env) - set(py)) == [], "in environment.yml but not pyproject.toml"
    diff = {k: (py[k], env[k]) for k in py if py[k] != env[k]}
    assert diff == {}, f"lower bounds differ (pyproject, environment): {diff}"


def test_every_requirement_has_a_lower_bound():
    missing = [k for k, v in pyproject_requirements().items() if v is None]
    assert missing == [], f"give these a >= lower bound: {missing}"


def test_python_version_agrees():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert py.replace("python", "").strip() == data["project"]["requires-python"].strip()


def test_console_script_declared():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["scripts"]["survey"] == "survey.cli:main"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_distribution_name_is_unique_and_used_everywhere():
    """"survey" on the public index is an unrelated project: the distribution has its own name
    (the import name stays ``survey``), and the version lookup, environment.yml and README agree."""
    import survey

    name = _pyproject()["project"]["name"]
    assert name == "kexie-survey"
    assert survey._DISTRIBUTION == name
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == name
    assert f"`{name}`" in (ROOT / "README.md").read_text(encoding="utf-8")
    init = (ROOT / "survey" / "__init__.py").read_text(encoding="utf-8")
    assert '_version("survey")' not in init


def test_license_is_an_spdx_string_with_its_files():
    """A TOML table license makes setuptools ≥ 77 print a BuildBackendWarning on every build
    (four copies during ``make setup``); PEP 639 wants an SPDX string plus license-files."""
    data = _pyproject()
    lic = data["project"]["license"]
    assert isinstance(lic, str) and "MIT" in lic
    files = data["project"]["license-files"]
    assert files and all((ROOT / f).is_file() for f in files)
    req = data["build-system"]["requires"]
    st = next(r for r in req if r.startswith("setuptools"))
    assert int(st.split(">=")[1].split(".")[0]) >= 77  # the first setuptools reading SPDX strings

"""Fixtures shared by several test modules."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# Property tests draw their examples from a seed derived from each test's own source in the
# default run (`make test`, CI): the same examples on every machine and every run, so a red CI
# is a change's doing, never the luck of the draw.  `make explore` draws fresh random examples
# (and keeps failures in .hypothesis/ to replay); a failure it finds becomes a fixed test.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("SURVEY_HYPOTHESIS", "fixed"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every Hypothesis test ``property`` (``make explore`` runs them)."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


@pytest.fixture
def demo_inputs() -> dict[str, str]:
    """The city demo's 2024 wave as report parameters (skipped when the demo data is absent;
    `make test` generates it)."""
    d = ROOT / "data" / "demo" / "demo-2024"
    raw = next(d.glob("*.sav"), None)
    if raw is None:
        pytest.skip("demo data absent (make test generates it)")
    return {"wave": "demo-2024", "questionnaire": str(d / "questionnaire.yml"), "data": str(raw),
            "population": str(d / "population.yml"), "stations": str(d / "stations.csv")}

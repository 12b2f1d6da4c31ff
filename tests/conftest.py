"""Fixtures shared by several test modules."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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

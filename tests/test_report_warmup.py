"""survey.report.warmup: the wave (and the earlier waves) prepared once before the reports run."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.report.content.data import prepare_previous
from survey.report.warmup import warm_cache


@pytest.fixture
def demo_params(demo_inputs):
    return {**demo_inputs, "previous_waves": ["demo-2023"]}


def test_earlier_waves_prepared_in_a_second_process_equal_the_ones_prepared_here(demo_params, tmp_path,
                                                                                capsys):
    """With jobs > 1 the earlier wave is prepared beside the current one (one core is idle
    otherwise); what the reports then load is the same as a preparation in this process."""
    beside = warm_cache({**demo_params, "work_dir": str(tmp_path / "beside")}, True, jobs=2)
    err = capsys.readouterr().err
    assert "prepared earlier wave(s) demo-2023 in a second process" in err, err
    assert "prepare_previous/beside" in beside
    here = warm_cache({**demo_params, "work_dir": str(tmp_path / "here")}, True, jobs=1)
    err = capsys.readouterr().err
    assert "second process" not in err and "prepared earlier wave(s) demo-2023 in" in err, err
    assert "prepare_previous/beside" not in here
    a = prepare_previous({**demo_params, "work_dir": str(tmp_path / "beside")})["demo-2023"]
    b = prepare_previous({**demo_params, "work_dir": str(tmp_path / "here")})["demo-2023"]
    assert a.from_cache  # this process loaded what the second process prepared
    pd.testing.assert_frame_equal(a.design.data, b.design.data)
    np.testing.assert_array_equal(a.design.weights, b.design.weights)


def test_a_failing_earlier_wave_is_reported_as_before(demo_params, tmp_path, capsys):
    """The second process swallows nothing: the parent prepares the wave itself and says why it
    failed (here: no such earlier wave)."""
    p = {**demo_params, "previous_waves": ["demo-1999"], "work_dir": str(tmp_path / "w")}
    out = warm_cache(p, True, jobs=2)
    err = capsys.readouterr().err
    assert "preparing the earlier waves failed" in err and "demo-1999" in err, err
    assert "prepare" in out

"""Harmonisation across waves and wave-to-wave change (trends).

Three pieces, each a plain function on plain objects, one module each:

1. :class:`Harmonization` (``harmonization.py``) — ``questionnaires/harmonization.yml`` says which question of each wave
   is the same as which, how answer codes map onto common (harmonised) categories (rename,
   merge, split with declared shares, "not comparable"), and which indicators are built from
   them.  :meth:`Harmonization.load` checks the map against every wave's questionnaire and
   raises one :class:`~survey.errors.HarmonizationError` listing each problem with the wave,
   the question and the codes.
2. :func:`stack_waves` (``stack.py``) — one long frame of harmonised indicators with a ``wave`` column and one
   stacked :class:`~survey.SurveyDesign` in which every wave keeps its own design: strata are
   ``wave × stratum`` and PSUs ``wave × station``, except PSUs declared as a panel
   (``panel_psus``), which are shared across waves inside their (common) stratum.
3. :func:`change` / :func:`trend_table` (``changes.py``) — difference of means or proportions between two waves
   (overall or by domain) with the SE of the difference, a t test on the design degrees of
   freedom and a significance flag; :func:`trend_table` does it for every comparable indicator.

How the SE of a change is computed
----------------------------------
For wave ``w`` and domain ``d`` the estimate is the ratio ``m_wd = Σ w y I_d / Σ w I_d``; its
linearised influence values ``w I_d (y − m_wd) / N_wd`` are residualised by the wave's own
calibrations (each wave is weighted to its own margins, so its calibration residualises only its
own rows) and handed, divided by the weights, to the stacked design's variance engine
(``survey.variance.vcov_totals``).  The engine returns the full covariance of all
(wave, domain) estimates (one :class:`~survey.estimates.Estimates`), and a change is the contrast
``m_b − m_a`` (``Estimates.contrast``), so ``Var(m_b − m_a) = V_aa + V_bb − 2 V_ab``.  With
independent waves the strata are disjoint and ``V_ab = 0`` (the sum of variances, as R's
``svycontrast`` on two designs); with panel PSUs the shared PSU totals carry the covariance
exactly as R's stacked ``svydesign(ids = ~psu, strata = ~stratum)`` + ``svycontrast``.
Only the first sampling stage is used in the stacked design (with-replacement variance, no fpc).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from survey import SurveyDesign
>>> from survey.trends import change
>>> rng = np.random.default_rng(1)
>>> def wave(mu):
...     return SurveyDesign(pd.DataFrame({"y": rng.normal(mu, 1, 40), "st": np.repeat([1, 2], 20),
...                                       "psu": np.repeat(np.arange(8), 5)}), strata="st", psu="psu")
>>> r = change({"2023": wave(0.0), "2024": wave(1.0)}, "y")
>>> bool(r["significant"].iloc[0]), r["wave_a"].iloc[0], r["wave_b"].iloc[0]
(True, '2023', '2024')
"""
from __future__ import annotations

from .changes import change, trend_table, wave_estimates
from .harmonization import Harmonization, HarmonizedQuestion, Indicator, load_for_waves, not_comparable
from .stack import StackedWaves, calibrate_wave, demo_designs, stack_waves

__all__ = ["Harmonization", "HarmonizedQuestion", "Indicator", "StackedWaves", "stack_waves",
           "change", "trend_table", "wave_estimates", "not_comparable", "calibrate_wave",
           "demo_designs", "load_for_waves"]

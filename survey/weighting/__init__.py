"""Weighting: population targets, base weights, nonresponse adjustment, post-stratification,
raking, calibration (linear / raking / logit with bounds, R ``calibrate`` semantics), trimming,
diagnostics, and replicate weights that include the weighting.

Every function takes a :class:`~survey.SurveyDesign` and returns a new one carrying a
:class:`WeightingReport` (``design.weighting_report``); the design methods ``d.rake(...)``,
``d.poststratify(...)``, ``d.calibrate(...)``, ``d.trim(...)`` delegate here.  The variance
accounts for the calibration exactly as R's ``survey`` does (residualisation of the influence
values; see :mod:`survey.weighting.calobj`), and on a replicate design every replicate column is
re-weighted.  The population file format is described in :mod:`survey.weighting.targets`.

Examples
--------
>>> import pandas as pd
>>> from survey import SurveyDesign
>>> from survey import weighting
>>> df = pd.DataFrame({"sex": list("mmmf"), "age": list("yoyo"), "w": [1.0, 1, 1, 1]})
>>> d2 = weighting.rake(SurveyDesign(df, weights="w"), {"sex": {"m": 50, "f": 50}, "age": {"y": 40, "o": 60}})
>>> d2.weighting_report.max_rel_error < 1e-10
True
"""
from __future__ import annotations

from .api import (base_weights, calibrate, nonresponse_adjust, poststratify, rake, rake_weights,
                  trim)
from .replicates import (StreamedReplicates, export_replicate_weights, mean_statistic,
                         replicate_blocks, replicate_weighting, stream_replicate_estimates)
from .report import WeightingReport, kish_deff
from .targets import Targets, load_targets

__all__ = ["rake", "rake_weights", "poststratify", "calibrate", "trim", "nonresponse_adjust", "base_weights",
           "replicate_weighting", "export_replicate_weights", "replicate_blocks",
           "stream_replicate_estimates", "mean_statistic", "StreamedReplicates", "WeightingReport", "kish_deff",
           "Targets", "load_targets"]

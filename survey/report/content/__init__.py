"""The content of the report sections (``report.section_*`` delegates here).

* :mod:`.data` — from report parameters to a prepared wave (read → clean → weight, cached);
* :mod:`.quality` — cleaning and weighting diagnostics for analysts (quality notebook);
* :mod:`.indicators` — key indicators, subgroup comparisons and methods (survey_report).
"""

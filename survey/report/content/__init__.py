"""The content of the report sections (``report.section_*`` delegates here).

* :mod:`.data` — from report parameters to a prepared wave (read → clean → weight, cached);
* :mod:`.quality` — cleaning and weighting diagnostics for analysts (quality notebook);
* :mod:`.indicators` — key indicators, subgroup comparisons and methods (survey_report);
* :mod:`.painpoints` — the 急难愁盼 page: a :class:`~survey.painpoints.PolicyBrief`'s tables,
  charts and HTML (:class:`.painpoints.BriefReport`, :func:`.painpoints.brief_for_report`);
* :mod:`.trends` — the trends page: the stacked waves, headline table, small multiples.
"""

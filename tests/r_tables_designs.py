"""The four designs of tests/fixtures/r_tables/make_reference.R, rebuilt from the CSVs it wrote
(R's apistrat/apiclus1 and the JK1 replicate weights R used), shared by test_tables and
test_models."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from survey.design import SurveyDesign

FIX = Path(__file__).parent / "fixtures" / "r_tables"
CATS = ["stype", "sch_wide", "comp_imp", "both", "awards", "yr_rnd", "meals_cat", "acs_cat"]


def load(name: str) -> pd.DataFrame:
    """One of R's api data sets with its factors as categoricals."""
    df = pd.read_csv(FIX / f"{name}.csv")
    for c in CATS:
        df[c] = pd.Categorical(df[c])
    return df


def r_designs() -> dict[str, SurveyDesign]:
    """strat, clus1, stratclus and jk1: the designs the R script calls dstrat, dclus1, ..."""
    strat, clus1 = load("apistrat"), load("apiclus1")
    rw = pd.read_csv(FIX / "apiclus1_jk1.csv")
    meta = pd.read_csv(FIX / "apiclus1_jk1_meta.csv")
    reps = clus1.assign(**{c: rw[c] for c in rw.columns if c.startswith("rep")})
    return {
        "strat": SurveyDesign(strat, weights="pw", strata="stype", fpc="fpc"),
        "clus1": SurveyDesign(clus1, weights="pw", psu="dnum", fpc="fpc"),
        "stratclus": SurveyDesign(strat, weights="pw", strata="stype", psu="dnum", nest=True),
        "jk1": SurveyDesign(reps, weights="pw", repweights="^rep", rep_type="jk1",
                            scale=float(meta["scale"].iloc[0])),
    }

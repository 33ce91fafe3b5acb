"""Observables at a reference week (``evaltools.data.covariates``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data import COVARIATES_AT, build_spells, covariates_at, decimal_year, weeks_on_public_support
from evaltools.exceptions import DataValidationError
from evaltools.synth import MUNICIPALITIES, generate


@pytest.fixture(scope="module")
def panel():
    return generate(seed=3, n_persons=1_500, years=3, att=False).panel


@pytest.fixture(scope="module")
def ref(panel) -> pd.DataFrame:
    """Reference weeks inside benefit spells: the spell's first week and a week 10 weeks in (if inside)."""
    sp = build_spells(panel, benefit=["kontanthjaelp", "integrationsydelse"])
    rows = pd.concat([sp.assign(week=sp["start_week"]), sp.assign(week=sp["start_week"] + 10)])
    rows = rows[rows["week"] <= rows["end_week"]].sample(400, random_state=0)
    return rows.set_axis(np.arange(1000, 1000 + len(rows)))  # not a RangeIndex: the result must keep it


def _covering(events: pd.DataFrame, person: int, week: int) -> pd.Series | None:
    """The first event of ``person`` with week <= ``week`` <= end_week (a loop over the definition)."""
    ev = events[(events["person_id"] == person) & (events["week"] <= week) & (events["end_week"] >= week)]
    return None if ev.empty else ev.iloc[0]


def test_columns_follow_their_definitions(panel, ref: pd.DataFrame) -> None:
    before = ref.copy()
    unemp = {m[0]: m[1] for m in MUNICIPALITIES}
    X = covariates_at(panel, ref, local_unemployment=unemp)
    pd.testing.assert_frame_equal(ref, before)  # the caller's frame is not modified
    assert list(X.columns) == list(COVARIATES_AT)
    assert X.index.equals(ref.index)
    assert not X.isna().any().any()
    persons = panel.persons.set_index("person_id")
    ass, act = panel.events["assessment"], panel.events["activation"]
    hist = weeks_on_public_support(panel, ref[["person_id", "week"]], lookback=260, partial="observed")
    for i, r in ref.iloc[::8].iterrows():
        p = persons.loc[r.person_id]
        x = X.loc[i]
        assert x["age"] == pytest.approx(decimal_year(r.week) - p["birth_year"], abs=1e-12)
        assert x["female"] == float(p["sex"] == "F")
        assert x["origin_non_western"] == float(p["origin"] == "non_western")
        assert x["edu_higher"] == float(p["education"] == "higher")
        assert x["insured"] == float(p["insured"])
        assert x["local_unemployment"] == unemp[str(p["municipality"])]
        assert x["integration_benefit"] == float(r.benefit == "integrationsydelse")
        rec = _covering(ass, r.person_id, r.week)
        readiness = p["readiness"] if rec is None else rec["readiness"]
        start = r.start_week if rec is None else rec["spell_start_week"]
        assert (x["match2"], x["match3"]) == (float(readiness == "match2"), float(readiness == "match3"))
        assert x["elapsed_years"] == pytest.approx((r.week - start) / 52, abs=1e-12)
        assert x["log_elapsed_weeks"] == pytest.approx(np.log1p(r.week - start), abs=1e-12)
        assert x["support_years_last5"] == pytest.approx(hist.loc[i] / 52)
        assert x["support_years_before_window"] == pytest.approx(p["support_weeks_prior5y"] / 52)
        mine = act[act["person_id"] == r.person_id]
        n_prior = int(((mine["week"] >= r.start_week) & (mine["week"] < r.week)).sum())
        assert x["prior_programmes"] == n_prior
    # the rows ten weeks into a spell have the elapsed time of the spell's true start
    assert (X["elapsed_years"] >= 0).all()
    assert X["prior_programmes"].max() > 0


def test_without_unemployment_the_column_is_left_out(panel, ref: pd.DataFrame) -> None:
    X = covariates_at(panel, ref)
    assert "local_unemployment" not in X
    assert list(X.columns) == [c for c in COVARIATES_AT if c != "local_unemployment"]


def test_errors_name_the_problem(panel, ref: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="start_week"):
        covariates_at(panel, ref.drop(columns="start_week"))
    stranger = ref.head(2).assign(person_id=[-1, -2])
    with pytest.raises(DataValidationError, match="2 rows of frame .* not in panel.persons.*person_id=-1"):
        covariates_at(panel, stranger)
    with pytest.raises(DataValidationError, match="no rate for .* municipalities of the frame"):
        covariates_at(panel, ref, local_unemployment={"Nowhere": 5.0})

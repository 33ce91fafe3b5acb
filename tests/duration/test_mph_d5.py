"""TimingOfEvents on the durmod ``datagen`` design (5,000 persons, two hazards, exact timing).

References in ``tests/reference/duration/toe_durmod_d5`` (see PROVENANCE.md there): R Poisson GLMs for
the one-point model, and the NPMLE path log-likelihoods of the earlier L-BFGS-B implementation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.duration.mph import TimingOfEvents

REF = Path(__file__).parents[1] / "reference" / "duration" / "toe_durmod_d5"


@pytest.fixture(scope="module")
def d5_model() -> TimingOfEvents:
    d = pd.read_csv(REF / "d5.csv.gz")
    d["event"] = d["d"].where(d["d"] != "none")
    d["treated"] = d["alpha"].astype(int)
    return TimingOfEvents(d, id="id", duration="duration", event="event", treated="treated",
                          exit_covariates=["x1", "x2"], treatment_covariates=["x1", "x2"], timing="exact")


@pytest.fixture(scope="module")
def path4(d5_model: TimingOfEvents):
    return d5_model.fit(max_points=4, seed=1)


def test_d5_data_and_one_point_fit_match_r_poisson_glms(d5_model, path4):
    exp = json.loads((REF / "expected_glm.json").read_text())
    assert (d5_model.n_rows, d5_model.n_persons) == (exp["n_rows"], exp["n_persons"])
    res = path4[1]
    ref = exp["one_point_exact"]
    np.testing.assert_allclose(res.llf, ref["loglike"], rtol=1e-8)
    names = list(ref["params"])
    assert set(names) == set(res.params.index)
    np.testing.assert_allclose(res.params[names], [ref["params"][k][0] for k in names], rtol=1e-7)
    # canonical-link Poisson: observed information = R's expected information
    np.testing.assert_allclose(res.bse[names], [ref["params"][k][1] for k in names], rtol=1e-6)


def test_d5_path_is_at_least_as_good_as_the_stored_path(path4):
    prev = json.loads((REF / "expected_path.json").read_text())["previous_lbfgsb_path"]["loglike"]
    ll = path4.path["llf"].to_numpy()
    assert len(ll) == 4
    assert np.all(ll >= np.asarray(prev[:4]) - 1e-6)
    assert np.all(path4.path["converged"])


@pytest.mark.slow
def test_d5_full_path_reaches_the_npmle():
    exp = json.loads((REF / "expected_path.json").read_text())
    d = pd.read_csv(REF / "d5.csv.gz")
    d["event"] = d["d"].where(d["d"] != "none")
    d["treated"] = d["alpha"].astype(int)
    model = TimingOfEvents(d, id="id", duration="duration", event="event", treated="treated",
                           exit_covariates=["x1", "x2"], treatment_covariates=["x1", "x2"], timing="exact")
    path = model.fit(max_points=20, seed=1)
    assert "NPMLE reached" in path.stop_reason
    assert path.path["llf"].iloc[-1] >= exp["previous_lbfgsb_path"]["loglike"][-1] - 1e-6
    np.testing.assert_allclose(path.path["llf"].iloc[-1], exp["newton_path"]["loglike"][-1], atol=1e-3)

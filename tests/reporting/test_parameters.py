import pandas as pd
import pytest

from evaltools.data import RegisterPanel, isoweek_to_index
from evaltools.exceptions import ParameterError, SpecificationError
from evaltools.reporting import RunParameters, check_parameters
from evaltools.reporting.parameters import PARAMETERS_MIME

W08 = int(isoweek_to_index(2008, 1))
W12 = int(isoweek_to_index(2012, 52))


@pytest.fixture(scope="module")
def panel() -> RegisterPanel:
    persons = pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "obs_start": [W08, W08, W08 + 100],
            "obs_end": [W12, W12 - 10, W12],
            "municipality": ["Odense", "Køge", "Aalborg"],
        }
    )
    states = pd.DataFrame({"person_id": [1, 1, 2, 3], "week": [W08, W08 + 1, W08 + 5, W08 + 120],
                           "state": ["701", "701", "111", "702"]})
    return RegisterPanel(states=states, persons=persons)


def test_valid_parameters_give_the_window_and_a_table(panel):
    run = check_parameters(panel, municipality="Odense", period=(2009, 2010), benefits=["kontanthjaelp"],
                           programme="virksomhedscenter", show={"seed": 1})
    assert isinstance(run, RunParameters)
    assert run.municipalities == ("Odense",)
    assert run.window == (int(isoweek_to_index(2009, 1)), int(isoweek_to_index(2011, 1)) - 1)
    html = run._repr_html_()
    assert "Odense" in html and "2009-2010" in html and "seed" in html and "2008-W01..2012-W52" in html
    assert PARAMETERS_MIME in run._repr_mimebundle_()
    assert "municipality" in str(run)


def test_misspelled_municipality_suggests_the_close_name(panel):
    with pytest.raises(ParameterError, match=r"municipality='Odence' is not a municipality of the panel; "
                                             r"did you mean 'Odense'\?") as err:
        check_parameters(panel, municipality="Odence")
    assert "Aalborg, Køge, Odense" in str(err.value)  # the valid names are listed
    assert isinstance(err.value, SpecificationError) and isinstance(err.value, ValueError)


def test_danish_letters_and_case_are_matched(panel):
    with pytest.raises(ParameterError, match="did you mean 'Køge'"):
        check_parameters(panel, municipality="koege")


def test_period_outside_the_window(panel):
    with pytest.raises(ParameterError, match=r"period=\(1990, 1991\) is outside the panel's observation "
                                             r"window 2008-W01..2012-W52 \(years 2008-2012\)"):
        check_parameters(panel, period=(1990, 1991))
    with pytest.raises(ParameterError, match="first year is after the last"):
        check_parameters(panel, period=(2011, 2009))
    with pytest.raises(ParameterError, match="must be \\(first_year, last_year\\)"):
        check_parameters(panel, period="2010")


def test_unknown_and_empty_benefits(panel):
    with pytest.raises(ParameterError, match="benefits='kontanthjalp' is not a benefit of the panel; did you "
                                             "mean 'kontanthjaelp'"):
        check_parameters(panel, benefits=["kontanthjalp"])
    with pytest.raises(ParameterError, match="'starthjaelp' is in the code table but has no coded week"):
        check_parameters(panel, benefits="starthjaelp")
    with pytest.raises(ParameterError, match="did you mean 'virksomhedscenter'"):
        check_parameters(panel, programme="virksomhedscentre")


def test_every_problem_in_one_message(panel):
    with pytest.raises(ParameterError) as err:
        check_parameters(panel, municipality="Odence", period=(1990, 1991), benefits="nope",
                         years={"baseline_year": 2012, "target_year": 2011}, periods={"q": "2011-Q5"})
    msg = str(err.value)
    assert msg.startswith("5 parameters do not fit the data (3 persons, weeks 2008-W01..2012-W52)")
    for part in ("Odence", "1990", "'nope'", "target_year=2011 is before baseline_year=2012", "'2011-Q5'"):
        assert part in msg, part


def test_named_municipality_lists_and_period_labels(panel):
    run = check_parameters(panel, municipalities={"project": ["Odense", "Aalborg"]}, periods={"q": "2011-Q4"})
    assert run.values["project"] == ["Odense", "Aalborg"] and run.municipalities is None
    with pytest.raises(ParameterError, match="project='Vejle' is not a municipality"):
        check_parameters(panel, municipalities={"project": ["Odense", "Vejle"]})
    with pytest.raises(ParameterError, match="q='2015-Q1' is outside"):
        check_parameters(panel, periods={"q": "2015-Q1"})

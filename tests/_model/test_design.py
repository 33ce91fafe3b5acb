"""The data container: column roles, one missing-value policy, the design and its rebuild on new data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaltools._model.design import Design, ModelData
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
            "t": [0, 1, 0, 1, 0, 1],
            "age": [30.0, 41.0, 25.0, np.nan, 52.0, 38.0],
            "region": ["north", "south", "east", "south", None, "north"],
            "w": [1.0, 2.0, 1.0, 1.0, 3.0, 1.0],
            "pid": [7, 7, 8, 9, 9, 10],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def test_roles_and_missing_values_are_counted_once(frame):
    before = frame.copy()
    with pytest.warns(MissingValueWarning) as rec:
        roles = {"outcome": "y", "treatment": "t", "weights": "w", "id": "pid", "cluster": None}
        md = ModelData(frame, roles, covariates=["age"], where="M")
    assert len(rec) == 1
    assert str(rec[0].message) == (
        "M: dropped 2 of 6 rows with missing values ('y': 1) in the outcome; ('age': 1) in the covariates."
    )
    assert md.n_total == 6 and md.n_dropped == 2 and md.nobs == 4
    assert md.dropped_columns == {"y": 1, "age": 1}
    assert md.roles == {"outcome": ["y"], "treatment": ["t"], "weights": ["w"], "id": ["pid"]}
    assert md.index.tolist() == [10, 11, 14, 15]
    np.testing.assert_array_equal(md.X[:, 0], [30.0, 41.0, 52.0, 38.0])
    np.testing.assert_array_equal(md.column("outcome"), [1.0, 2.0, 5.0, 6.0])
    np.testing.assert_array_equal(md.weights(), [1.0, 2.0, 3.0, 1.0])
    np.testing.assert_array_equal(md.codes("id"), [0, 0, 1, 2])
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified
    md.frame.loc[10, "y"] = -1.0
    assert frame.loc[10, "y"] == 1.0  # the container holds a copy


def test_missing_raise_names_the_roles(frame):
    msg = r"M: missing values \('y': 1\) in the outcome; .*index \['12', '13'"
    with pytest.raises(DataValidationError, match=msg):
        ModelData(frame, {"outcome": "y"}, covariates=["age"], missing="raise", where="M")
    with pytest.raises(SpecificationError, match="'missing' parameter of M"):
        ModelData(frame, {"outcome": "y"}, missing="omit", where="M")


def test_missing_category_in_a_formula_is_missing_not_the_reference_level(frame):
    msg = r"dropped 3 of 6 rows .*\('age': 1, 'region': 1\) in the covariates"
    with pytest.warns(MissingValueWarning, match=msg):
        md = ModelData(frame, {"outcome": "y"}, formula="~ age + C(region)", where="M")
    assert md.exog_names == ["age", "C(region)[T.north]", "C(region)[T.south]"]
    assert md.index.tolist() == [10, 11, 15]
    np.testing.assert_array_equal(md.X, [[30.0, 1.0, 0.0], [41.0, 0.0, 1.0], [38.0, 1.0, 0.0]])
    assert md.lhs == ""


def test_transformation_left_undefined_counts_as_missing():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 0.0, np.e]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) = -inf is finite-checked below
        lhs, design = Design.from_formula(d.assign(x=[1.0, -1.0, np.e]), "y ~ np.log(x)", "M")
    assert lhs == "y" and np.isnan(design.X[1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(MissingValueWarning, match=r"\('np.log\(x\)': 1\) in the covariates"):
            md = ModelData(d.assign(x=[1.0, -1.0, np.e]), {"outcome": "y"}, formula="~ np.log(x)", where="M")
    np.testing.assert_allclose(md.X[:, 0], [0.0, 1.0])


def test_formula_design_is_rebuilt_on_new_data_with_the_same_levels(frame):
    lhs, design = Design.from_formula(frame, "y ~ age + C(region) + I(age**2)", "M")
    assert lhs == "y"
    new = pd.DataFrame({"age": [40.0, 20.0, np.nan], "region": ["south", "south", "north"]}, index=[5, 6, 7])
    X = design.transform(new, "predict")  # "east" and "north" are absent from new: same columns
    assert design.names == ["age", "C(region)[T.north]", "C(region)[T.south]", "I(age ** 2)"]
    np.testing.assert_array_equal(X[:2], [[40.0, 0.0, 1.0, 1600.0], [20.0, 0.0, 1.0, 400.0]])
    assert np.isnan(X[2]).all()  # a missing variable stays missing, the rows stay aligned
    assert design.transform_frame(new, "predict").index.tolist() == [5, 6, 7]
    assert design.transform({"age": 30.0, "region": "east"}, "predict").tolist() == [[30.0, 0.0, 0.0, 900.0]]
    with pytest.raises(DataValidationError, match="not found"):
        design.transform(new.drop(columns="region"), "predict")
    with pytest.raises(SpecificationError, match="levels seen"):
        design.transform(pd.DataFrame({"age": [1.0], "region": ["west"]}), "predict")


def test_columns_and_matrix_designs(frame):
    d = Design.from_columns(frame, "age", "M")
    assert d.names == d.columns == d.sources == ["age"]
    np.testing.assert_array_equal(d.transform(frame.iloc[:2], "p")[:, 0], [30.0, 41.0])
    with pytest.raises(SpecificationError, match="'region' is not numeric"):
        Design.from_columns(frame, ["age", "region"], "M")
    m = Design.from_matrix(np.arange(6.0), frame, "M")
    assert m.names == ["x0"] and m.sources == []
    assert m.transform([[1.0]], "p").shape == (1, 1)
    with pytest.raises(SpecificationError, match="one row per row"):
        Design.from_matrix(np.ones((3, 2)), frame, "M")
    with pytest.raises(SpecificationError, match="give one of"):
        ModelData(frame, {}, covariates=["age"], exog=np.ones(6), where="M")


def test_formula_errors(frame):
    with pytest.raises(SpecificationError, match="cannot parse"):
        Design.from_formula(frame, "y ~ age +", "M")
    with pytest.raises(DataValidationError, match=r"\['income'\].*not found"):
        Design.from_formula(frame, "~ income", "M")
    with pytest.raises(SpecificationError, match="must look like"):
        Design.from_formula(frame, "age + t", "M")


def test_weights_are_checked(frame):
    md = ModelData(frame.assign(w=[1.0, 0.0, 1.0, 1.0, 1.0, 1.0]), {"weights": "w"}, where="M")
    with pytest.raises(DataValidationError, match=r"weights column 'w' must be finite and > 0; 1 rows"):
        md.weights()
    assert ModelData(frame, {"outcome": "t"}, where="M").weights().tolist() == [1.0] * 6
    with pytest.raises(SpecificationError, match="no 'cluster' column"):
        md.codes("cluster")


def test_duplicate_index_is_kept_by_position():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0], "g": ["a", "b", "a"]}, index=[0, 0, 1])
    md = ModelData(d, {"outcome": "y"}, formula="~ C(g)", where="M")
    np.testing.assert_array_equal(md.X[:, 0], [0.0, 1.0, 0.0])


def test_a_prebuilt_design_must_match_the_data(frame):
    _, design = Design.from_formula(frame, "~ age", "M")
    with pytest.warns(MissingValueWarning, match="dropped 1 of 6 rows"):
        md = ModelData(frame, {"treatment": "t"}, design=design, where="M")
    assert md.design is design and md.exog_names == ["age"]
    with pytest.raises(SpecificationError, match="the design has 6 rows; the data have 3"):
        ModelData(frame.iloc[:3], {"treatment": "t"}, design=design, where="M")

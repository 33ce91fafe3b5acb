"""The known truth behind a synthetic panel (:class:`Truth`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, check_option
from evaltools.exceptions import DataValidationError
from evaltools.synth.config import PROGRAMMES, SynthConfig

__all__ = ["Truth", "structural_effects", "att_for_sample", "ESTIMAND", "TREATMENTS", "HORIZONS"]

#: Treatments with a true ATT: the five programmes and mentor support.
TREATMENTS: tuple[str, ...] = (*PROGRAMMES, "mentor")
HORIZONS: tuple[int, ...] = (52, 156)
#: Definition of the simulated ATT, stored with every truth.
ESTIMAND = (
    "ATT of starting treatment k at week s (the person's first start of k in the window) versus never "
    "being placed in k, on weeks self-supporting (no benefit code, or SU/education) in [s, s + horizon); "
    "treated persons with the full horizon inside the window; counterfactual paths re-simulated from the "
    "same random numbers with k switched off for the person (a mentor attached to a start of k goes with "
    "it; other programmes, sanctions and mentors can still occur; censoring is identical in both worlds)."
)


def structural_effects(config: SynthConfig) -> pd.DataFrame:
    """Structural hazard ratios of a configuration, one row per effect.

    Parameters
    ----------
    config : SynthConfig
        Generator parameters.

    Returns
    -------
    DataFrame
        Columns ``effect`` (``"lockin"``, ``"post"``, ``"sanction"``, ``"mentor"``),
        ``treatment``, ``weeks_from`` / ``weeks_to`` (for the sanction bands, weeks
        since the sanction; the sanction week is week 0), ``hazard`` (the exit
        hazard multiplied: ``"self_support"`` or ``"education"``) and ``ratio``.
    """
    rows: list[dict[str, Any]] = []
    for k in PROGRAMMES:
        rows.append(
            dict(
                effect="lockin",
                treatment=k,
                weeks_from=np.nan,
                weeks_to=np.nan,
                hazard="self_support",
                ratio=float(config.lockin[k]),
            )
        )
    for k in PROGRAMMES:
        rows.append(
            dict(
                effect="post",
                treatment=k,
                weeks_from=np.nan,
                weeks_to=np.nan,
                hazard="self_support",
                ratio=float(config.post[k]),
            )
        )
    lo = 0
    for upper, mult in config.sanction_effect:
        rows.append(
            dict(
                effect="sanction",
                treatment="sanction",
                weeks_from=lo,
                weeks_to=upper - 1,
                hazard="self_support",
                ratio=float(mult),
            )
        )
        lo = upper
    rows.append(
        dict(
            effect="sanction",
            treatment="sanction",
            weeks_from=lo,
            weeks_to=np.inf,
            hazard="self_support",
            ratio=1.0,
        )
    )
    rows.append(
        dict(
            effect="mentor",
            treatment="mentor",
            weeks_from=np.nan,
            weeks_to=np.nan,
            hazard="self_support",
            ratio=float(config.mentor_job_effect),
        )
    )
    rows.append(
        dict(
            effect="mentor",
            treatment="mentor",
            weeks_from=np.nan,
            weeks_to=np.nan,
            hazard="education",
            ratio=float(config.mentor_edu_effect),
        )
    )
    return pd.DataFrame(rows)


class Truth:
    """True effects of a synthetic panel: structural hazard ratios and simulated ATTs.

    Parameters
    ----------
    hazard_ratios : DataFrame
        Output of :func:`structural_effects`.
    att : DataFrame
        One row per treatment and horizon: ``treatment``, ``horizon_weeks``,
        ``att`` (mean over the treated of weeks self-supporting in the ``horizon``
        weeks from the first start, actual minus counterfactual), ``se`` (its
        standard error across treated persons), ``n_treated``, ``mean_treated``,
        ``mean_counterfactual``.
    meta : mapping, optional
        Seed, sizes, window and the estimand definition.

    Notes
    -----
    **Estimand.**  For treatment *k*, the treated are the persons whose *first*
    start of *k* in the window is at week *s* and who are followed for the whole
    horizon (``s + horizon`` inside the window).  The counterfactual path of each
    treated person is re-simulated from the same random numbers with *k* switched
    off for that person (starts of *k* do not happen; every other programme,
    sanction or mentor can still occur); censoring is the same in both worlds.
    Outcome: weeks self-supporting (no benefit code, or SU/education) in
    ``[s, s + horizon)``.  This is the ATT of "starting *k* at *s* versus never
    being placed in *k*" (the static evaluation question of matching studies).
    """

    def __init__(self, hazard_ratios: pd.DataFrame, att: pd.DataFrame, meta: Mapping[str, Any] | None = None):
        self._hr = hazard_ratios.reset_index(drop=True).copy()
        self._att = att.reset_index(drop=True).copy()
        self._meta = dict(meta or {})

    @property
    def hazard_ratios(self) -> pd.DataFrame:
        """Structural hazard ratios (a copy)."""
        return self._hr.copy()

    @property
    def att(self) -> pd.DataFrame:
        """Simulated ATTs by treatment and horizon (a copy)."""
        return self._att.copy()

    @property
    def meta(self) -> dict[str, Any]:
        """Provenance of the truth (seed, sizes, estimand)."""
        return dict(self._meta)

    def att_of(self, treatment: str, horizon: int = 52) -> float:
        """True ATT (weeks self-supporting) of ``treatment`` within ``horizon`` weeks.

        Parameters
        ----------
        treatment : str
            One of the programmes in :data:`PROGRAMMES` or ``"mentor"``.
        horizon : int, default=52
            52 (one year) or 156 (three years).

        Returns
        -------
        float
        """
        check_option("treatment", treatment, TREATMENTS, "Truth.att_of")
        check_option("horizon", horizon, HORIZONS, "Truth.att_of")
        row = self._att[(self._att["treatment"] == treatment) & (self._att["horizon_weeks"] == horizon)]
        return float(row["att"].iloc[0]) if len(row) else float("nan")

    def hazard_ratio(self, effect: str, treatment: str, *, weeks_since: int | None = None) -> float:
        """Structural hazard ratio, e.g. ``hazard_ratio("lockin", "loentilskud")``.

        Parameters
        ----------
        effect : str
            ``"lockin"``, ``"post"``, ``"sanction"`` or ``"mentor"``.
        treatment : str
            Programme name (``"sanction"`` / ``"mentor"`` for those effects).
        weeks_since : int, optional
            For ``"sanction"``: weeks since the sanction (default 0).

        Returns
        -------
        float
            The multiplier of the exit-to-self-support hazard.
        """
        check_option("effect", effect, ("lockin", "post", "sanction", "mentor"), "Truth.hazard_ratio")
        hr = self._hr[(self._hr["effect"] == effect) & (self._hr["hazard"] == "self_support")]
        if effect == "sanction":
            w = 0 if weeks_since is None else weeks_since
            row = hr[(hr["weeks_from"] <= w) & (hr["weeks_to"] >= w)]
            return float(row["ratio"].iloc[0])
        check_option("treatment", treatment, tuple(hr["treatment"]), "Truth.hazard_ratio")
        return float(hr.loc[hr["treatment"] == treatment, "ratio"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """One long table of every true quantity: ``kind``, ``treatment``, ``detail``, ``value``."""
        hr = self._hr
        detail = np.where(
            hr["effect"] == "sanction",
            "weeks "
            + hr["weeks_from"].astype("Int64").astype(str)
            + "-"
            + hr["weeks_to"].replace(np.inf, np.nan).astype("Int64").astype(str).replace("<NA>", "inf"),
            "hazard of exit to " + hr["hazard"],
        )
        a = pd.DataFrame(
            {
                "kind": "hazard_ratio_" + hr["effect"],
                "treatment": hr["treatment"],
                "detail": detail,
                "value": hr["ratio"],
            }
        )
        b = pd.DataFrame(
            {
                "kind": "att_weeks_self_supporting",
                "treatment": self._att["treatment"],
                "detail": "within "
                + self._att["horizon_weeks"].astype(str)
                + " weeks of first start (n="
                + self._att["n_treated"].astype(str)
                + ")",
                "value": self._att["att"],
            }
        )
        return pd.concat([a, b], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable representation (``from_dict`` inverts it)."""
        hr = self._hr.astype(object).where(self._hr.notna(), None)
        hr["weeks_to"] = [None if v is None else (str(v) if v == np.inf else v) for v in hr["weeks_to"]]
        return {
            "hazard_ratios": hr.to_dict(orient="records"),
            "att": self._att.to_dict(orient="records"),
            "meta": self._meta,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Truth:
        """Rebuild a :class:`Truth` from :meth:`to_dict` output."""
        hr = pd.DataFrame(d["hazard_ratios"])
        hr["weeks_to"] = [
            np.inf if v == "inf" else (np.nan if v is None else float(v)) for v in hr["weeks_to"]
        ]
        hr["weeks_from"] = pd.to_numeric(hr["weeks_from"])
        return cls(hr, pd.DataFrame(d["att"]), d.get("meta", {}))

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (full float precision)."""
        out = Path(path)
        out.write_text(json.dumps(self.to_dict(), indent=2, default=_jsonable))
        return out

    @classmethod
    def read_json(cls, path: str | Path) -> Truth:
        """Read a file written by :meth:`to_json`."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        return f"<Truth: {len(self._hr)} hazard ratios, {len(self._att)} ATTs>"

    def __str__(self) -> str:
        with pd.option_context("display.width", 110, "display.max_rows", 100):
            return "True effects of the synthetic panel\n" + self.to_frame().to_string(index=False)


def att_for_sample(
    potential: pd.DataFrame, treated: pd.DataFrame, treatment: str, horizon: int = 52
) -> pd.Series:
    """True ATT for exactly the treated persons of an estimation sample.

    :meth:`Truth.att_of` averages over *all* first starts with full follow-up.
    An estimator usually keeps only part of them (a benefit, a municipality,
    spells that did not begin before the window, the risk set at each elapsed
    week).  This averages the simulated individual effects over the estimator's
    own treated starts, so estimate and truth refer to the same persons.

    Parameters
    ----------
    potential : DataFrame
        The simulated potential outcomes: :attr:`SynthResult.potential`, or
        ``hidden/potential.parquet`` of a panel written by
        :func:`~evaltools.synth.build_sample` /
        :func:`~evaltools.synth.generate_to_disk` (columns ``person_id``,
        ``treatment``, ``start_week``, ``y1_<h>``, ``y0_<h>``).
    treated : DataFrame
        The estimator's treated starts, columns ``person_id`` and ``week`` (e.g.
        the treated rows of :attr:`DynamicEvaluation.risk_sets`).  Each row
        must be the person's *first* start of ``treatment`` in the window (the
        only start whose counterfactual is simulated).
    treatment : str
        One of :data:`TREATMENTS`.
    horizon : int, default=52
        One of :data:`HORIZONS`.

    Returns
    -------
    Series
        ``att``, ``se`` (standard error across the treated), ``n_treated``,
        ``mean_treated`` and ``mean_counterfactual``.

    Raises
    ------
    DataValidationError
        If a treated row is not a simulated first start, or lacks the full
        horizon inside the window.
    """
    where = "att_for_sample"
    check_option("treatment", treatment, TREATMENTS, where)
    check_option("horizon", horizon, HORIZONS, where)
    check_columns(treated, ["person_id", "week"], where, "treated")
    need = ["person_id", "treatment", "start_week", f"y1_{horizon}", f"y0_{horizon}"]
    check_columns(potential, need, where, "potential")
    pot = potential[potential["treatment"].astype(str) == treatment]
    pot = pot.rename(columns={"start_week": "week"})[["person_id", "week", f"y1_{horizon}", f"y0_{horizon}"]]
    tr = treated[["person_id", "week"]].astype({"person_id": "int64", "week": "int64"})
    m = tr.merge(pot.astype({"person_id": "int64", "week": "int64"}), on=["person_id", "week"], how="left")
    miss = m[f"y1_{horizon}"].isna()
    if miss.any():
        ex = m.loc[miss, ["person_id", "week"]].head(5).to_dict(orient="records")
        raise DataValidationError(
            f"{where}: {int(miss.sum()):,} of {len(m):,} treated rows have no simulated counterfactual for "
            f"{treatment!r} at horizon {horizon} (e.g. {ex}). Only each person's first start in the window "
            "with the full horizon inside it is simulated; pass those rows (the risk sets of "
            "DynamicEvaluation treat first starts only) or use a shorter horizon."
        )
    d = (m[f"y1_{horizon}"] - m[f"y0_{horizon}"]).to_numpy(float)
    n = len(d)
    return pd.Series(
        {
            "att": float(d.mean()) if n else float("nan"),
            "se": float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "n_treated": n,
            "mean_treated": float(m[f"y1_{horizon}"].mean()) if n else float("nan"),
            "mean_counterfactual": float(m[f"y0_{horizon}"].mean()) if n else float("nan"),
        },
        name=f"{treatment}_{horizon}",
    )


def _jsonable(o: object) -> object:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)

"""Balance and Rosenbaum sensitivity of a :class:`~evaltools.selection.DynamicEvaluation` by elapsed band.

* :func:`band_balance`: per band, the largest absolute standardised mean
  difference and Kolmogorov-Smirnov statistic of the propensity-model design
  columns before and after the band's weighting (or matching), and the
  effective number of controls.
* :func:`band_rosenbaum`: Rosenbaum bounds on risk-set matched pairs of each
  band (and pooled over bands), with the critical Gamma.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import ReadOnlyMixin
from evaltools.reporting.summary import Summary
from evaltools.selection.diagnostics import _ecdf_diffs, weighted_mean_var
from evaltools.selection.sensitivity import RosenbaumBounds, critical_gamma, rosenbaum_bounds

__all__ = ["BandRosenbaum", "band_balance", "band_rosenbaum"]


def _bands(res: Any) -> list[tuple[int, str, int, int]]:
    """(band index, label, u_from, u_to) of the estimated (not skipped) bands."""
    by = res.by_elapsed
    labels = [i for i in res.params.index if i != "pooled"]
    return [
        (int(b), lab, int(a), int(z))
        for b, lab, a, z in zip(res._band_ids, labels, by["u_from"], by["u_to"], strict=True)
    ]


def band_balance(res: Any, *, threshold: float = 0.1, detail: bool = False) -> pd.DataFrame:
    """Covariate balance of each elapsed band before and after its weighting (or matching).

    Parameters
    ----------
    res : DynamicResults
        A fitted dynamic evaluation.
    threshold : float, default=0.1
        |SMD| above which a design column counts as imbalanced.
    detail : bool, default=False
        Return one row per band and design column instead of the summary.

    Returns
    -------
    DataFrame
        Indexed by band label: ``u_from``, ``u_to``, ``n_treated``,
        ``n_controls``, ``ess_controls`` (Kish effective number of controls
        after weighting, ``(sum w)^2 / sum w^2``), ``max_abs_smd_before``,
        ``max_abs_smd_after``, ``worst_column`` (largest |SMD| after),
        ``n_imbalanced`` (|SMD| after above ``threshold``), ``max_ks_before``,
        ``max_ks_after``.  With ``detail=True``: ``smd_before``,
        ``smd_after``, ``ks_before``, ``ks_after`` per (band, column).
    """
    model = res.model
    tab = model._table
    cols = list(model.design_columns)
    x_all = tab[[f"x__{c}" for c in cols]].to_numpy(float)
    t_all = tab["treated"].to_numpy().astype(bool)
    band = tab["band"].to_numpy()
    w_all = res._weights
    rows, det = [], []
    for b, label, lo, hi in _bands(res):
        m = band == b
        x, t, w = x_all[m], t_all[m], np.where(t_all[m], 1.0, w_all[m])
        m1, v1 = weighted_mean_var(x[t], np.ones(int(t.sum())))
        m0, v0 = weighted_mean_var(x[~t], np.ones(int((~t).sum())))
        a0, _ = weighted_mean_var(x[~t], w[~t])
        # ATT: SD of the treated in the band (pooled SD where the treated do not vary)
        sd = np.sqrt(np.where(v1 > 0, v1, (v1 + v0) / 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            smd_b = np.where(sd > 0, (m1 - m0) / sd, 0.0)
            smd_a = np.where(sd > 0, (m1 - a0) / sd, 0.0)
        ks_b = np.array(
            [
                _ecdf_diffs(x[t, j], x[~t, j], np.ones(int(t.sum())), np.ones(int((~t).sum()))).max()
                for j in range(len(cols))
            ]
        )
        ks_a = np.array(
            [
                _ecdf_diffs(x[t, j], x[~t, j], np.ones(int(t.sum())), w[~t]).max()
                if w[~t].sum() > 0
                else np.nan
                for j in range(len(cols))
            ]
        )
        wc = w[~t]
        ess = float(wc.sum() ** 2 / (wc**2).sum()) if (wc > 0).any() else 0.0
        worst = int(np.nanargmax(np.abs(smd_a))) if len(cols) else -1
        rows.append(
            dict(
                band=label,
                u_from=lo,
                u_to=hi,
                n_treated=int(t.sum()),
                n_controls=int((~t).sum()),
                ess_controls=ess,
                max_abs_smd_before=float(np.max(np.abs(smd_b), initial=0.0)),
                max_abs_smd_after=float(np.max(np.abs(smd_a), initial=0.0)),
                worst_column=cols[worst] if worst >= 0 else None,
                n_imbalanced=int((np.abs(smd_a) > threshold).sum()),
                max_ks_before=float(np.max(ks_b, initial=0.0)),
                max_ks_after=float(np.nanmax(ks_a)) if len(cols) else 0.0,
            )
        )
        det.append(
            pd.DataFrame(
                {
                    "band": label,
                    "column": cols,
                    "smd_before": smd_b,
                    "smd_after": smd_a,
                    "ks_before": ks_b,
                    "ks_after": ks_a,
                }
            )
        )
    if detail:
        return pd.concat(det, ignore_index=True).set_index(["band", "column"])
    return pd.DataFrame(rows).set_index("band")


# ------------------------------------------------------------------ Rosenbaum
class _Avail:
    """Sorted positions with deletion and nearest-available look-up (path-compressed pointers)."""

    def __init__(self, n: int) -> None:
        self.nx = np.arange(n + 1)  # nx[i]: candidate for the first available >= i (n = none)
        self.pv = np.arange(-1, n)  # pv[i + 1]: candidate for the last available <= i (-1 = none)
        self.n = n

    def next(self, i: int) -> int:
        root = i
        while self.nx[root] != root:
            root = self.nx[root]
        while self.nx[i] != root:
            self.nx[i], i = root, self.nx[i]
        return int(root)

    def prev(self, i: int) -> int:
        root = i
        while root >= 0 and self.pv[root + 1] != root:
            root = self.pv[root + 1]
        while i >= 0 and self.pv[i + 1] != root:
            self.pv[i + 1], i = root, self.pv[i + 1]
        return int(root)

    def remove(self, i: int) -> None:
        self.nx[i] = i + 1
        self.pv[i + 1] = i - 1


def _match_band(
    lt: np.ndarray, pt: np.ndarray, lc: np.ndarray, pc: np.ndarray, caliper: float | None, used: set
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Greedy 1:1 nearest-neighbour matching without replacement on the logit (treated by decreasing score).

    Persons in ``used`` (and, once matched, their other rows) are not available; returns the treated and
    control positions of the pairs, the treated without a control within the caliper and those skipped
    because the person was used before.
    """
    oc = np.argsort(lc, kind="stable")
    vals, persons = lc[oc], pc[oc]
    av = _Avail(len(vals))
    by_person = pd.Series(np.arange(len(vals))).groupby(persons).indices
    treated_now = set(pt.tolist())
    for p in used | treated_now:
        for pos in by_person.get(p, ()):
            av.remove(int(pos))
    t_out, c_out, n_cal, n_used = [], [], 0, 0
    for ti in np.argsort(-lt, kind="stable"):
        if pt[ti] in used:
            n_used += 1
            continue
        v = lt[ti]
        j = int(np.searchsorted(vals, v))
        r = av.next(j) if j < len(vals) else len(vals)
        left = av.prev(j - 1)
        cands = [k for k in (left, r) if 0 <= k < len(vals)]
        if not cands:
            n_cal += 1
            continue
        k = min(cands, key=lambda c: (abs(vals[c] - v), c))
        if caliper is not None and abs(vals[k] - v) > caliper:
            n_cal += 1
            continue
        t_out.append(int(ti))
        c_out.append(int(oc[k]))
        used.add(pt[ti])
        used.add(persons[k])
        for pos in by_person[persons[k]]:
            av.remove(int(pos))
    return np.array(t_out, dtype=int), np.array(c_out, dtype=int), n_cal, n_used


class BandRosenbaum(ReadOnlyMixin):
    """Rosenbaum bounds of a dynamic evaluation by elapsed band (read-only).

    Attributes
    ----------
    table : DataFrame
        One row per band and ``"pooled"``: ``u_from``, ``u_to``, ``n_treated``,
        ``n_pairs``, ``n_no_match`` (no control within the caliper),
        ``n_person_used`` (treated person already used as a control in an
        earlier band), ``mean_difference`` (treated minus matched control),
        ``hl_estimate`` (Hodges-Lehmann at Gamma = 1), ``pvalue`` (Gamma = 1)
        and ``critical_gamma`` (smallest Gamma whose upper p-value bound
        reaches ``alpha``).
    bounds : dict of str to RosenbaumBounds
        The full bounds table of each band and of ``"pooled"``.
    pairs : DataFrame
        One row per matched pair: ``band``, ``treated_row`` and ``control_row``
        (positions in the risk-set table), ``treated_person``,
        ``control_person``, ``y_treated``, ``y_control``.
    alternative, test : str
        Direction and test.
    alpha : float
        Level of the critical Gamma.
    caliper : float or None
        Caliper in standard deviations of the band's logit propensity score.
    unique_persons : bool
        Whether a treated person may serve as a control only once.
    """

    table: pd.DataFrame
    bounds: dict[str, RosenbaumBounds]
    pairs: pd.DataFrame
    alternative: str
    test: str
    alpha: float
    caliper: float | None
    unique_persons: bool

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
        self._freeze()

    def summary(self) -> Summary:
        """Summary with the per-band table and footnotes."""
        foot = [
            "Risk-set matching (Li, Propert & Rosenbaum 2001): in each elapsed band every treated spell is "
            "matched 1:1, without replacement, to the nearest not-yet-treated control of the same band on "
            "the logit of the band's propensity score"
            + (f" within {self.caliper:g} SD" if self.caliper is not None else "")
            + (
                "; each person is used at most once over all bands (bands in elapsed order), so the pairs "
                "are independent and can be pooled."
                if self.unique_persons
                else "; persons are used at most once "
                "within a band but may recur across bands (unique_persons=False): the pooled row then "
                "treats overlapping pairs as independent."
            ),
            f"Rosenbaum (2002) bounds for the "
            f"{'Wilcoxon signed-rank' if self.test == 'wilcoxon' else 'sign'} test (alternative: treated "
            f"outcomes {'larger' if self.alternative == 'greater' else 'smaller'}); "
            f"critical_gamma: the odds ratio of treatment within a pair, due to an unobserved covariate, at "
            f"which the upper p-value bound reaches {self.alpha:g}.",
            "Outcomes are the observed weeks self-supporting of the pairs (no censoring weights).",
        ]
        return Summary(
            title="Rosenbaum sensitivity by elapsed band",
            header=(("Pairs", int(self.table["n_pairs"].astype(int)["pooled"])),),
            tables=[self.table],
            footnotes=foot,
        )

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Critical Gamma by elapsed band (pooled as a dashed line); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = self.table.drop(index="pooled")
        mid = (t["u_from"] + t["u_to"]) / 2
        g = t["critical_gamma"].replace(np.inf, np.nan)
        ax.plot(mid, g, marker="o", ls="-", **kwargs)
        pooled = float(self.table["critical_gamma"].astype(float)["pooled"])
        if np.isfinite(pooled):
            ax.axhline(pooled, ls="--", color="grey", label=f"pooled {pooled:.2f}")
            ax.legend()
        ax.axhline(1, color="black", lw=0.5)
        ax.set_xlabel("elapsed weeks u at treatment start")
        ax.set_ylabel(f"critical Gamma (odds ratio, {self.alpha:g} level)")
        ax.set_title("Sensitivity to an unobserved confounder by elapsed band")
        return ax


def band_rosenbaum(
    res: Any,
    *,
    gammas: Sequence[float] = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0),
    test: str = "wilcoxon",
    alternative: str = "auto",
    caliper: float | None = 0.2,
    alpha: float = 0.05,
    unique_persons: bool = True,
) -> BandRosenbaum:
    """Rosenbaum bounds of a dynamic evaluation on risk-set matched pairs of each band.

    See :meth:`evaltools.selection.DynamicResults.rosenbaum_bounds`.
    """
    if alternative not in ("auto", "greater", "less"):
        raise SpecificationError(
            "The 'alternative' parameter of DynamicResults.rosenbaum_bounds must be a str among "
            f"{{'auto', 'greater', 'less'}}. Got {alternative!r} instead."
        )
    if caliper is not None and not (isinstance(caliper, int | float) and caliper > 0):
        raise SpecificationError(
            f"DynamicResults.rosenbaum_bounds: caliper must be positive or None; got {caliper!r}."
        )
    if not 0 < alpha < 1:
        raise SpecificationError(f"DynamicResults.rosenbaum_bounds: alpha must lie in (0, 1); got {alpha!r}.")
    if alternative == "auto":
        alternative = "less" if res.pooled < 0 else "greater"
    model = res.model
    tab = model._table
    ps = res._pscore
    lp = np.log(np.clip(ps, 1e-12, 1 - 1e-12) / np.clip(1 - ps, 1e-12, 1))
    t_all = tab["treated"].to_numpy().astype(bool)
    band = tab["band"].to_numpy()
    pid = tab["person_id"].to_numpy()
    y = tab["y"].to_numpy(float)
    used: set = set()
    bounds: dict[str, RosenbaumBounds] = {}
    rows, diffs, pairs = [], [], []
    for b, label, lo, hi in _bands(res):
        if not unique_persons:
            used = set()
        m = np.flatnonzero(band == b)
        t = t_all[m]
        tr, co = m[t], m[~t]
        cal = None if caliper is None else caliper * float(np.std(lp[m], ddof=1))
        ti, ci, n_cal, n_used = _match_band(lp[tr], pid[tr], lp[co], pid[co], cal, used)
        d = y[tr[ti]] - y[co[ci]]
        diffs.append(d)
        pairs.append(
            pd.DataFrame(
                {
                    "band": label,
                    "treated_row": tr[ti],
                    "control_row": co[ci],
                    "treated_person": pid[tr[ti]],
                    "control_person": pid[co[ci]],
                    "y_treated": y[tr[ti]],
                    "y_control": y[co[ci]],
                }
            )
        )
        rows.append(
            _row(label, lo, hi, int(t.sum()), d, n_cal, n_used, gammas, test, alternative, alpha, bounds)
        )
    d_all = np.concatenate(diffs) if diffs else np.array([])
    rows.append(
        _row(
            "pooled",
            int(rows[0]["u_from"]),
            int(rows[-1]["u_to"]),
            sum(r["n_treated"] for r in rows),
            d_all,
            sum(r["n_no_match"] for r in rows),
            sum(r["n_person_used"] for r in rows),
            gammas,
            test,
            alternative,
            alpha,
            bounds,
        )
    )
    return BandRosenbaum(
        table=pd.DataFrame(rows).set_index("band"),
        bounds=bounds,
        pairs=pd.concat(pairs, ignore_index=True),
        alternative=alternative,
        test=test,
        alpha=float(alpha),
        caliper=caliper,
        unique_persons=bool(unique_persons),
    )


def _row(
    label: str,
    lo: int,
    hi: int,
    n_treated: int,
    d: np.ndarray,
    n_cal: int,
    n_used: int,
    gammas: Sequence[float],
    test: str,
    alternative: str,
    alpha: float,
    bounds: dict[str, RosenbaumBounds],
) -> dict[str, Any]:
    row = dict(
        band=label,
        u_from=lo,
        u_to=hi,
        n_treated=n_treated,
        n_pairs=int(d.size),
        n_no_match=n_cal,
        n_person_used=n_used,
        mean_difference=float(d.mean()) if d.size else np.nan,
        hl_estimate=np.nan,
        pvalue=np.nan,
        critical_gamma=np.nan,
    )
    dd = d if alternative == "greater" else -d
    if (dd != 0).any():
        rb = rosenbaum_bounds(
            d, np.zeros_like(d), gammas=sorted({1.0, *map(float, gammas)}), test=test, alternative=alternative
        )
        bounds[label] = rb
        row["pvalue"] = float(rb.table["pvalue_upper"].iloc[0])
        if "hl_lower" in rb.table.columns:
            row["hl_estimate"] = float(rb.table["hl_lower"].iloc[0])
        row["critical_gamma"] = critical_gamma(dd[dd != 0], alpha, test)
    return row

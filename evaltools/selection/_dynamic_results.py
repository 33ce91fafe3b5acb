"""Results of :class:`evaltools.selection.DynamicEvaluation`: effects by elapsed band, pooled, survival."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import EstimationResults, interval_columns
from evaltools.selection._dynamic_core import OTHER_START

__all__ = ["DynamicResults"]


class DynamicResults(EstimationResults):
    """Results of :class:`DynamicEvaluation`: effects by elapsed band, pooled, survival curves.

    Attributes
    ----------
    by_elapsed : DataFrame
        ``u_from``, ``u_to``, ``n_treated``, ``n_controls``, ``estimate``,
        ``std_err``, ``lower``, ``upper``, ``mean_treated``, ``mean_control``,
        ``ess_controls``.
    pooled : float
        Treated-weighted average effect.
    counts : dict
        Rows and persons in each step (dropped rows by reason).
    survival : DataFrame
        ``weeks`` since ``u``, ``treated`` and ``control`` (weighted) shares still
        in the benefit spell (None for ``estimator="matching"``).
    bootstrap : ndarray or None
        Bootstrap replications of ``params`` (rows), if the bootstrap was used.
    """

    by_elapsed: pd.DataFrame
    pooled: float
    counts: dict[str, Any]
    survival: pd.DataFrame | None
    bootstrap: np.ndarray | None
    _weights: np.ndarray
    _band_ids: np.ndarray
    _pscore: np.ndarray | None

    def __init__(self, model, per, params, cov, weights, se_note, skipped, reps, alpha, pscore=None) -> None:
        tab = model._table
        se = np.sqrt(np.clip(np.diag(cov.to_numpy()), 0, None))
        q = stats.norm.ppf(1 - alpha / 2)
        by = per[["u_from", "u_to", "n_treated", "n_controls", "estimate"]].copy()
        by["std_err"] = se[:-1]
        by["lower"] = by["estimate"] - q * by["std_err"]
        by["upper"] = by["estimate"] + q * by["std_err"]
        by["mean_treated"] = per["mean_treated"]
        by["mean_control"] = per["mean_control"]
        by["ess_controls"] = per["ess_controls"]
        counts = dict(model.counts)
        counts["persons"] = int(tab["person_id"].nunique())
        survival = _survival(tab, weights, per) if model.estimator != "matching" else None
        comp = {
            "not_yet_treated": "spells in the risk set at u that do not start the treatment at u (they may "
            "start it later: 'treat now vs wait', Sianesi 2004)",
            "censor_later": "spells in the risk set at u that do not start the treatment at u, censored at a "
            "later start and weighted by the inverse probability of not having started yet (estimand: "
            "start at "
            "u vs never within the horizon; van den Berg & Vikstrom)",
            "never_treated": "only spells of persons never treated in the window (conditions on the future: "
            "biased static comparison, shown as a negative control)",
        }[model.comparison]
        n_c = max(int((tab["treated"] == 0).sum()), 1)
        left_rule = "running at the panel start" if model.left_censoring == "panel_start" else "at obs_start"
        footnotes = [
            f"Estimand: ATT of starting the treatment at elapsed week u of a {model.benefit} spell, on weeks "
            f"self-supporting ({model.definition}) in [u, u+{model.horizon}); "
            "pooled = treated-weighted mean.",
            f"Comparison group: {comp}. "
            f"{model.counts['controls_treated_within_horizon']:,} of {n_c:,} control rows "
            f"({model.counts['controls_treated_within_horizon'] / n_c:.1%}) start the treatment "
            "within the horizon"
            + (
                f"; {model.counts['controls_started_off_risk_kept']:,} of them start outside the risk set "
                "(after leaving the spell) and are not censored (censor_at='risk_set')."
                if "controls_started_off_risk_kept" in model.counts
                else "."
            ),
            "Risk set: spells on benefit at u, not treated before, not in another programme at u; "
            + (
                f"{counts['rows_other_start_kept']:,} rows starting another programme at u kept as controls "
                f"with its kind as the covariate {OTHER_START!r}; "
                if "rows_other_start_kept" in counts
                else ""
            )
            + f"{counts.get('spells_starting_at_entry_kept', 0):,} spells starting when the person entered "
            "the "
            f"population during the window (arrival, age 16) kept; dropped: "
            f"{counts.get('spells_left_censored_dropped', 0):,} left-censored spells "
            f"({left_rule}), "
            f"{counts.get('rows_in_programme_dropped', 0):,} rows in a programme, "
            f"{counts.get('rows_other_start_dropped', 0):,} rows starting another programme, "
            f"{counts.get('rows_short_followup_dropped', 0):,} rows without full follow-up"
            + (
                f", {counts['rows_outside_window_dropped']:,} rows outside the window "
                f"{model.window[0]}-{model.window[1]}"
                if "rows_outside_window_dropped" in counts
                else ""
            )
            + (
                f", {counts['rows_later_treated_dropped']:,} rows of later-treated controls"
                if "rows_later_treated_dropped" in counts
                else ""
            )
            + ".",
            f"Estimator: {model.estimator} with one propensity logit per elapsed band. {se_note}",
        ]
        if skipped:
            footnotes.append(f"Bands without treated or without controls (skipped): {skipped}.")
        dropped: dict[str, list[str]] = {}  # column -> bands whose logit leaves it out
        for a, b, cols in zip(per["u_from"], per["u_to"], per.get("dropped_columns", []), strict=False):
            for c in cols if isinstance(cols, list) else []:
                dropped.setdefault(c, []).append(f"{a}" if a == b else f"{a}-{b}")
        if dropped:
            where = "; ".join(
                f"{c} (u={', '.join(v)})" if len(v) < len(per) else f"{c} (all bands)"
                for c, v in dropped.items()
            )
            footnotes.append(
                "Design columns left out of a band's logit (no variation, a level without treated or "
                f"controls merged into the reference, or the band's new reference level): {where}."
            )
        super().__init__(
            params,
            cov,
            counts["rows"],
            model=model,
            title="Dynamic evaluation: treated at u vs not treated at u",
            header=(
                ("Treated", counts["treated"]),
                ("Persons", counts["persons"]),
                ("Horizon (weeks)", model.horizon),
                ("Estimator", model.estimator),
            ),
            footnotes=footnotes,
            extra={
                "by_elapsed": by,
                "pooled": float(params["pooled"]),
                "counts": counts,
                "survival": survival,
                "bootstrap": reps,
                "_weights": np.asarray(weights, dtype=float),
                "_band_ids": per["band"].to_numpy(),
                "_pscore": None if pscore is None else np.asarray(pscore, dtype=float),
            },
        )

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        return [self.to_frame(alpha), interval_columns(self.by_elapsed, alpha)]

    def balance_by_band(self, *, threshold: float = 0.1, detail: bool = False) -> pd.DataFrame:
        """Covariate balance of each elapsed band: max |SMD|, max KS and effective number of controls.

        The design columns of the propensity model (covariates, dummies, histories) are compared between the
        treated and the controls of each band before and after the band's weights (IPW/AIPW odds weights, or
        the matched-sample weights of ``estimator="matching"``).  SMDs use the treated SD of the band (ATT);
        KS statistics compare the (weighted) empirical CDFs.

        Parameters
        ----------
        threshold : float, default=0.1
            |SMD| above which a column counts as imbalanced (``n_imbalanced``).
        detail : bool, default=False
            One row per (band, design column) with ``smd_before``, ``smd_after``, ``ks_before``,
            ``ks_after``.

        Returns
        -------
        DataFrame
            Per band: ``u_from``, ``u_to``, ``n_treated``, ``n_controls``, ``ess_controls``,
            ``max_abs_smd_before``, ``max_abs_smd_after``, ``worst_column``, ``n_imbalanced``,
            ``max_ks_before``, ``max_ks_after``.

        Examples
        --------
        >>> tab = results.balance_by_band()  # doctest: +SKIP
        >>> tab[["max_abs_smd_after", "max_ks_after", "ess_controls"]]  # doctest: +SKIP
        """
        from evaltools.selection._dynamic_sensitivity import band_balance

        return band_balance(self, threshold=threshold, detail=detail)

    def rosenbaum_bounds(
        self,
        *,
        gammas: Any = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0),
        test: str = "wilcoxon",
        alternative: str = "auto",
        caliper: float | None = 0.2,
        alpha: float = 0.05,
        unique_persons: bool = True,
    ) -> Any:
        """Rosenbaum Gamma per elapsed band, on risk-set matched pairs.

        Within each band every treated spell is matched 1:1, without replacement, to the nearest control of
        the same band's risk set on the logit of the band's propensity score (treated in decreasing order of
        the score; within ``caliper`` standard deviations of the band's logit, Austin 2011).  This is the
        risk-set matching of Li, Propert & Rosenbaum (2001), whose pairs are analysed with Rosenbaum's
        (2002, ch. 4) matched-pair bounds: it is the design for which Rosenbaum's Gamma is defined (the odds
        of treatment of the two members of a pair differ by at most a factor Gamma).  The weighted analogue
        for IPW (Zhao, Small & Bhattacharya 2019) bounds a different parameter (the marginal odds ratio
        Lambda of the propensity score) and needs a bootstrap per band.  A person is used at most once over
        all bands (bands in elapsed order), so the pairs are independent and are also pooled.  Outcomes are
        the observed weeks self-supporting (for ``comparison="censor_later"`` the censoring weights are not
        applied: the pairs compare "treated at u" with "not treated at u").

        Parameters
        ----------
        gammas : sequence of float, default=(1, 1.25, 1.5, 2, 2.5, 3)
            Values of Gamma for the bounds tables.
        test : {"wilcoxon", "sign"}, default="wilcoxon"
            Wilcoxon signed-rank (normal approximation) or sign test (exact binomial).
        alternative : {"auto", "greater", "less"}, default="auto"
            Direction of the effect; ``"auto"`` takes the sign of the pooled estimate.
        caliper : float or None, default=0.2
            Caliper in SDs of the band's logit propensity score; None for none.
        alpha : float, default=0.05
            Level of the critical Gamma (1 when the test is not significant even at Gamma = 1).
        unique_persons : bool, default=True
            Use each person at most once over all bands (treated persons already used as a control in an
            earlier band are then left unmatched and counted, ``n_person_used``); False resets the used
            persons at every band (the per-band analyses stay valid, the pooled row then overlaps).

        Returns
        -------
        BandRosenbaum
            ``table`` (per band and pooled: pairs, Hodges-Lehmann estimate, p-value, critical Gamma),
            ``bounds`` (the :class:`~evaltools.selection.RosenbaumBounds` of each), ``summary()``, ``plot()``.

        References
        ----------
        Li, Y. P., Propert, K. J. and Rosenbaum, P. R. (2001). Balanced risk set matching. JASA 96, 870-882.
        Rosenbaum, P. R. (2002). Observational Studies, 2nd ed. Springer, ch. 4.
        Austin, P. C. (2011). Optimal caliper widths for propensity-score matching. Pharmaceutical
        Statistics 10, 150-161.
        """
        from evaltools.selection._dynamic_sensitivity import band_rosenbaum

        if self._pscore is None:
            raise SpecificationError("rosenbaum_bounds needs the band propensity scores of the fit.")
        return band_rosenbaum(self, gammas=gammas, test=test, alternative=alternative, caliper=caliper,
                              alpha=alpha, unique_persons=unique_persons)

    def plot(self, ax: Any = None, *, title: str | None = None, **kwargs: Any) -> Any:
        """Effect by elapsed band with confidence intervals and the pooled effect; returns the Axes.

        ``title`` replaces the default title ("" for none).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.2))
        by = self.by_elapsed
        mid = (by["u_from"] + by["u_to"]) / 2
        ax.errorbar(
            mid,
            by["estimate"],
            yerr=[by["estimate"] - by["lower"], by["upper"] - by["estimate"]],
            fmt="o",
            capsize=2,
            **kwargs,
        )
        ax.axhline(self.pooled, ls="--", color="grey", label=f"pooled {self.pooled:.2f}")
        ax.axhline(0, color="black", lw=0.5)
        ax.set_xlabel("elapsed duration u at the treatment start (weeks; band midpoints)")
        ax.set_ylabel(f"effect (weeks self-supporting in {self.model.horizon} weeks)")
        ax.legend(loc="best")
        title = "Dynamic evaluation: effect by elapsed duration, 95% CI" if title is None else title
        if title:
            ax.set_title(title)
        return ax

    def plot_survival(self, ax: Any = None, *, title: str | None = None) -> Any:
        """Share still in the benefit spell by weeks since u, treated vs (weighted) controls."""
        import matplotlib.pyplot as plt

        if self.survival is None:
            raise SpecificationError("plot_survival is not available for estimator='matching'.")
        if ax is None:
            _, ax = plt.subplots()
        s = self.survival
        ax.step(s["weeks"], s["treated"], where="post", label="treated at u")
        ax.step(s["weeks"], s["control"], where="post", label="not treated at u (weighted)")
        ax.set_xlabel("time since u (weeks)")
        ax.set_ylabel("share still in the benefit spell (proportion)")
        ax.legend(loc="best")
        title = "Still on benefit after the treatment start at u" if title is None else title
        if title:
            ax.set_title(title)
        return ax


def _survival(tab: pd.DataFrame, weights: np.ndarray, per: pd.DataFrame) -> pd.DataFrame:
    """Treated and weighted-control survival in the spell, pooled with treated-share band weights."""
    h = int(tab["remaining"].max()) + 1
    weeks = np.arange(0, min(h, 157))
    t = tab["treated"].to_numpy().astype(bool)
    band = tab["band"].to_numpy()
    rem = tab["remaining"].to_numpy()
    n1 = per.set_index("band")["n_treated"]
    share = (n1 / n1.sum()).reindex(band).fillna(0.0).to_numpy()
    wc = np.where(t, 0.0, weights)
    sw = pd.Series(wc).groupby(band).transform("sum").to_numpy()
    wc = np.where(sw > 0, wc / np.where(sw > 0, sw, 1) * share, 0.0)

    # share with remaining >= k: reverse cumulative sums of (weighted) counts by remaining (no n x k grid)
    def alive(weight: np.ndarray) -> np.ndarray:
        by_rem = np.bincount(rem, weights=weight, minlength=h)
        return np.cumsum(by_rem[::-1])[::-1][: len(weeks)] / weight.sum()

    treated = alive(t.astype(float))
    control = alive(wc)
    return pd.DataFrame({"weeks": weeks, "treated": treated, "control": control})

"""Dynamic evaluation on spell panels: "treated at elapsed week u vs not yet treated at u".

The estimator of Sianesi (2004) and Crepon, Ferracci, Jolivet & van den Berg
(2009).  For every elapsed benefit duration ``u`` the *risk set* is the spells
still on the benefit at ``u``, not treated before (the person's first start of
the treatment is not earlier; a person treated in an earlier spell is out) and
not in another programme at ``u``.  Spells whose treatment starts at ``u`` are
the treated; the rest of the risk set are the controls.  Within each band of
elapsed weeks a propensity logit is fitted and the ATT at ``u`` is estimated by
inverse-probability weighting (Hajek odds weights), AIPW or matching; the
pooled effect is the treated-weighted average over the bands.

Estimand (``comparison="not_yet_treated"``, the default): the effect of
starting the treatment at ``u`` versus *waiting* -- controls may be treated
later (Sianesi's "treat now vs not now").  It equals the effect of "now vs
never" when later treatment of controls within the horizon is rare; the
fraction of controls treated within the horizon is reported
(``DynamicResults.counts["controls_treated_within_horizon"]``).
``comparison="never_treated"`` keeps only controls who are never treated in
the window: it conditions on the future and is the biased "static" comparison
(a negative control, Crepon et al. 2009).

Left-censored spells (``left_censoring="panel_start"``, the default): a spell
is left-censored, and dropped, when its first week is the person's first
observed week (``obs_start``) *and* that week is the first week of the panel's
window (``panel.meta["first_week"]`` when the panel records it, else the
smallest ``obs_start``): the person was already in the population when
observation began and may have been on the benefit before, so ``u`` is
unknown.  A person whose ``obs_start`` is later entered the population during
the window (refugees and family-reunified immigrants, who start
*integrationsydelse* in their arrival week; persons turning 16): nothing can
precede the entry, so a spell starting at entry starts there and is kept.
Both counts are reported (``spells_left_censored_dropped``,
``spells_starting_at_entry_kept``).  ``left_censoring="obs_start"`` drops every
spell starting at ``obs_start`` (for panels whose late ``obs_start`` does not
mean entry into the population, e.g. the first registered week).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._model.data import formula_design
from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, check_option
from evaltools.data.outcomes import is_self_supporting, weeks_on_public_support, weeks_self_supporting
from evaltools.data.panel import RegisterPanel
from evaltools.data.spells import LEFT_CENSORING, build_spells, left_censored
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.selection._dynamic_core import (
    OTHER_START,
    band_design,
    band_effect,
    cluster_covariance,
    elapsed_bands,
    ipcw_setup,
    last_interval,
    logit_fit,
    stack_elapsed,
    usable_columns,
)
from evaltools.selection._dynamic_results import DynamicResults

__all__ = ["DynamicEvaluation", "DynamicResults"]

_W = "DynamicEvaluation"
_OUTCOMES = ("weeks_self_supporting",)
_ESTIMATORS = ("ipw", "aipw", "matching")
_COMPARISONS = ("not_yet_treated", "censor_later", "never_treated")
_CENSOR_AT = ("risk_set", "any_start")
_OTHER = ("drop", "covariate")


class DynamicEvaluation:
    """Effect of starting a treatment at elapsed benefit duration ``u`` versus not (yet) at ``u``.

    Parameters
    ----------
    data : RegisterPanel
        The register panel (spells are built with :func:`~evaltools.data.build_spells`).
    treatment_events : str or DataFrame, default="activation"
        Event-table name of the treatment (``treatment``, the old name of
        this argument, is accepted with a ``FutureWarning`` for one release:
        elsewhere ``treatment`` names a 0/1 column), or a DataFrame of treatment starts
        (``person_id``, ``week``).  Only each person's first start counts.
    kind : str or list of str, optional
        Keep event rows whose ``kind`` attribute is in ``kind`` (e.g. ``"loentilskud"``).
    benefit : str or list of str, default="kontanthjaelp"
        Benefit group(s) of the spells; with several groups the spell's group
        enters the propensity model as dummies.
    covariates : list of str, default=()
        Person-level columns of ``panel.persons`` (categoricals become dummies)
        or of ``extra``.
    history : sequence of int, default=(260,)
        Time-varying history: weeks on public support in the ``L`` weeks before
        week ``u`` (observed part of the window), one covariate per ``L``.
    elapsed : range, list of int or list of (int, int), default=range(0, 52)
        Elapsed weeks ``u`` (one band per week) or bands of weeks; the
        propensity model is fitted per band (with ``u`` as a regressor in bands
        wider than one week).
    outcome : {"weeks_self_supporting"}, default="weeks_self_supporting"
        Weeks self-supporting in ``[w, w + horizon)`` where ``w`` is the
        calendar week at elapsed duration ``u``.
    horizon : int, default=52
        Outcome window in weeks; rows without full follow-up are dropped (counted).
    definition : {"no_code", "no_code_or_su"}, default="no_code_or_su"
        Self-support definition (see :mod:`evaltools.data.outcomes`).
    estimator : {"ipw", "aipw", "matching"}, default="ipw"
        IPW with Hajek odds weights, AIPW (linear outcome model on the
        controls), or 1-NN propensity-score matching with replacement
        (:class:`~evaltools.selection.Matching`).
    comparison : {"not_yet_treated", "censor_later", "never_treated"}, default="not_yet_treated"
        Control group (see the module docstring).  ``"censor_later"`` censors
        controls at a later start and reweights them by the inverse probability
        of not having started yet (the per-band propensity models used as
        weekly start hazards): the estimand is "start at u vs never within the
        horizon", which matches :meth:`evaltools.synth.Truth.att_of`.
    busy : str or None, default="activation" when ``treatment_events`` is an event name
        Event table of programmes: persons in one of its intervals at ``u`` (or
        starting another kind at ``u``) are not in the risk set.
    extra : DataFrame, optional
        Extra person-level covariates keyed by ``person_id`` (e.g. the hidden
        type in a Monte Carlo check).
    spell_covariates : DataFrame, optional
        Spell-level covariates keyed by ``person_id`` and ``start_week`` (e.g.
        the readiness category from the ``assessment`` events).
    left_censoring : {"panel_start", "obs_start"}, default="panel_start"
        Which spells starting in the person's first observed week are
        left-censored (dropped, counted): only those of persons observed from
        the panel's first week, or all (see the module docstring).
    window : (int, int), optional
        First and last calendar week (week indices, e.g. from
        :func:`~evaltools.data.isoweek_to_index`) of the risk-set rows: only
        treatment starts and controls at ``u`` whose calendar week lies in the
        window are compared (e.g. a period's placements).  Spells, histories,
        outcomes after the window and the censoring model's hazard rows still
        use the whole panel.  Rows outside are counted
        (``rows_outside_window_dropped``).
    other_starts : {"drop", "covariate"}, default="drop"
        Rows starting a ``busy`` programme at ``u`` without the treatment:
        ``"drop"`` leaves them out of the risk set (counted).  ``"covariate"``
        keeps them as controls and adds the row covariate ``other_start`` (the
        ``kind`` of the programme starting at ``u``, ``"none"`` otherwise) to
        the propensity model.  Use it when the treatment often starts *with*
        a programme (an internal mentor attached to a placement): treated who
        start a programme are then compared with persons starting the same
        kind of programme without the treatment, not with persons starting
        nothing (which would add the programme's own effect).
    censor_at : {"risk_set", "any_start"}, default="risk_set"
        With ``comparison="censor_later"``: which later starts of a control
        censor it.  ``"risk_set"`` censors only at a start in a week the
        control is in the risk set (on the benefit, not in a programme), the
        weeks whose start hazard the IPCW model estimates; a first start
        outside them (after the exit from the spell, e.g. a retention mentor
        at the entry into a job, or on another benefit) is not the treatment
        the design evaluates and the control stays uncensored (counted:
        ``controls_started_off_risk_kept``).  ``"any_start"`` censors at every
        later start; starts outside the risk set are then censored without
        being reweighted, which biases the control mean whenever such starts
        depend on the outcome (they come with the exit to a job).

    Notes
    -----
    Within each band the logit uses only covariate columns with variation;
    the dummies of a categorical are treated as its levels, and a level
    without treated or without controls in the band is merged into the
    reference level.  If the reference level itself has no treated (or no
    controls) in the band, the most common level with both becomes the band's
    reference (:func:`~evaltools.selection._dynamic_core.usable_columns`).
    Hand-coded 0/1 indicators that are never 1 together are handled the same
    way.  The design is centred within the band (a reparametrisation).  Columns
    dropped per band are listed in a footnote of the results.
    """

    # set by :meth:`from_formula` only (the formula and its ``formulaic`` model spec)
    formula: str
    _formula_spec: Any

    @classmethod
    def from_formula(cls, formula: str, data: RegisterPanel, **kwargs: Any) -> DynamicEvaluation:
        """Build the model with person-level covariates given by a one-sided formula.

        Parameters
        ----------
        formula : str
            ``"~ age + C(gender) + I(age**2)"``: terms in the columns of
            ``data.persons`` (and of ``extra``, when given), expanded by
            formulaic; the expanded columns become the covariates.
        data : RegisterPanel
            The panel.
        **kwargs
            The other arguments of :class:`DynamicEvaluation` (not ``covariates``).

        Returns
        -------
        DynamicEvaluation
        """
        where = f"{_W}.from_formula"
        if not isinstance(data, RegisterPanel):
            raise SpecificationError(f"{where}: data must be a RegisterPanel; got {type(data).__name__}.")
        if "covariates" in kwargs:
            raise SpecificationError(f"{where}: 'covariates' are given by the formula; do not pass them.")
        extra = kwargs.pop("extra", None)
        persons = data.persons
        if extra is not None:
            check_columns(extra, ["person_id"], where, "extra")
            persons = persons.merge(extra, on="person_id", how="left", validate="one_to_one")
        lhs, design, spec = formula_design(formula, persons, where)
        if lhs:
            raise SpecificationError(f"{where}: the formula must be one-sided, like '~ age + C(gender)'; "
                                     f"got {formula!r}.")
        clash = [c for c in design.columns if c in persons.columns and c != "person_id"]
        expanded = design.drop(columns=clash).assign(person_id=persons["person_id"].to_numpy())
        new_extra = expanded if extra is None else extra.merge(expanded, on="person_id", how="left")
        obj = cls(data, covariates=list(design.columns), extra=new_extra, **kwargs)
        obj._formula_spec = spec
        obj.formula = formula
        return obj

    @renamed_arguments(treatment="treatment_events")
    def __init__(
        self,
        data: RegisterPanel,
        *,
        treatment_events: str | pd.DataFrame = "activation",
        kind: str | Sequence[str] | None = None,
        benefit: str | Sequence[str] = "kontanthjaelp",
        covariates: Sequence[str] = (),
        history: Sequence[int] = (260,),
        elapsed: Any = range(0, 52),
        outcome: str = "weeks_self_supporting",
        horizon: int = 52,
        definition: str = "no_code_or_su",
        estimator: str = "ipw",
        comparison: str = "not_yet_treated",
        busy: str | None = "activation",
        extra: pd.DataFrame | None = None,
        spell_covariates: pd.DataFrame | None = None,
        left_censoring: str = "panel_start",
        censor_at: str = "risk_set",
        other_starts: str = "drop",
        window: tuple[int, int] | None = None,
    ) -> None:
        treatment = treatment_events
        if not isinstance(data, RegisterPanel):
            raise SpecificationError(f"{_W}: data must be a RegisterPanel; got {type(data).__name__}.")
        self.panel = data
        self.outcome = check_option("outcome", outcome, _OUTCOMES, _W)
        self.estimator = check_option("estimator", estimator, _ESTIMATORS, _W)
        self.comparison = check_option("comparison", comparison, _COMPARISONS, _W)
        self.left_censoring = check_option("left_censoring", left_censoring, LEFT_CENSORING, _W)
        self.censor_at = check_option("censor_at", censor_at, _CENSOR_AT, _W)
        self.other_starts = check_option("other_starts", other_starts, _OTHER, _W)
        if window is not None:
            ok = (
                isinstance(window, tuple | list)
                and len(window) == 2
                and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in window)
                and window[0] <= window[1]
            )
            if not ok:
                raise SpecificationError(
                    f"{_W}: window must be (first_week, last_week), two week indices with first <= last; "
                    f"got {window!r}. Use e.g. window=(isoweek_to_index(2010, 1), "
                    "isoweek_to_index(2010, 52))."
                )
            window = (int(window[0]), int(window[1]))
        self.window = window
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
            raise SpecificationError(f"{_W}: horizon must be a positive int of weeks; got {horizon!r}.")
        self.horizon = int(horizon)
        self.definition = definition
        self.bands = elapsed_bands(elapsed, _W)
        self.benefit = benefit
        self.covariates = list(covariates)
        self.history = [int(h) for h in history]
        self.kind = [kind] if isinstance(kind, str) else (None if kind is None else list(kind))
        self.treatment = treatment
        self.busy = busy if isinstance(treatment, str) or busy != "activation" else None
        if self.other_starts == "covariate":
            if self.busy is None:
                raise SpecificationError(f"{_W}: other_starts='covariate' needs a 'busy' event table.")
            if OTHER_START in self.covariates:
                raise SpecificationError(f"{_W}: {OTHER_START!r} is added by other_starts='covariate'.")
            self.covariates.append(OTHER_START)
        if isinstance(treatment, str) and treatment not in data.events:
            raise SpecificationError(
                f"{_W}: event table {treatment!r} not in the panel (tables: {sorted(data.events)})."
            )
        self.extra = extra
        self.spell_covariates = spell_covariates
        self._table, self.counts = self._risk_sets()

    # -- data ------------------------------------------------------------------
    def _starts(self) -> pd.Series:
        if isinstance(self.treatment, pd.DataFrame):
            ev = self.treatment
            check_columns(ev, ["person_id", "week"], _W, "treatment")
        else:
            ev = self.panel.events[self.treatment]
        if self.kind is not None:
            check_columns(ev, ["kind"], _W, "kind")
            ev = ev[ev["kind"].astype(str).isin(self.kind)]
        if len(ev) == 0:
            raise DataValidationError(
                f"{_W}: no treatment starts (treatment_events={self.treatment!r}, kind={self.kind})."
            )
        return ev.groupby("person_id", observed=True)["week"].min()

    def _risk_sets(self) -> tuple[pd.DataFrame, dict[str, int]]:
        panel = self.panel
        counts: dict[str, int] = {}
        sp = build_spells(panel, benefit=self.benefit)
        persons = panel.persons.set_index("person_id")
        left, at_entry = left_censored(panel, sp["person_id"].to_numpy(), sp["start_week"].to_numpy(),
                                       self.left_censoring, _W)
        counts["spells"] = len(sp)
        counts["spells_left_censored_dropped"] = int(left.sum())
        counts["spells_starting_at_entry_kept"] = int((at_entry & ~left).sum())
        sp = sp[~left].reset_index(drop=True)
        umax = max(b for _, b in self.bands)
        censor = self.comparison == "censor_later"
        top = int(sp["duration"].max()) if censor and len(sp) else umax + 1
        elapsed = np.arange(0, max(top, umax + 1), dtype=np.int64)
        if not censor:
            elapsed = np.array(sorted({u for a, b in self.bands for u in range(a, b + 1)}), dtype=np.int64)
        rows, u = stack_elapsed(sp["duration"].to_numpy(), elapsed)
        pid = sp["person_id"].to_numpy(np.int64)[rows]
        w = sp["start_week"].to_numpy(np.int64)[rows] + u
        end = sp["end_week"].to_numpy(np.int64)[rows]
        first = self._starts()
        tw = first.reindex(pid).to_numpy(dtype=float)  # NaN = never treated
        prior = tw < w
        keep = ~prior
        treated = tw == w
        if self.busy is not None:
            ev = panel.events[self.busy].sort_values(["person_id", "week"])
            found, s0, e0 = last_interval(
                ev["person_id"].to_numpy(np.int64),
                ev["week"].to_numpy(np.int64),
                ev["end_week"].to_numpy(np.int64),
                pid,
                w,
            )
            ongoing = found & (s0 < w) & (e0 >= w)
            other = found & (s0 == w) & ~treated
            if self.other_starts == "covariate":
                if "kind" in ev.columns:
                    kinds = ev.drop_duplicates(["person_id", "week"]).set_index(["person_id", "week"])["kind"]
                    ok = pd.MultiIndex.from_arrays([pid, w])
                    other_kind = kinds.astype(str).reindex(ok).fillna("none").to_numpy(dtype=object)
                else:
                    other_kind = np.where(found & (s0 == w), "start", "none").astype(object)
                keep &= ~ongoing
            else:
                keep &= ~ongoing & ~other
        at_risk = keep.copy()
        band_lo = np.array([a for a, _ in self.bands])
        band_hi = np.array([b for _, b in self.bands])
        bi = np.searchsorted(band_lo, u, side="right") - 1
        inside = (bi >= 0) & (u <= band_hi[np.maximum(bi, 0)])
        counts["rows_treated_before"] = int((prior & inside).sum())
        if self.busy is not None:
            counts["rows_in_programme_dropped"] = int((~prior & ongoing & inside).sum())
            key = "rows_other_start_kept" if self.other_starts == "covariate" else "rows_other_start_dropped"
            counts[key] = int((~prior & ~ongoing & other & inside).sum())
        keep &= inside
        if self.window is not None:
            outside = (w < self.window[0]) | (w > self.window[1])
            counts["rows_outside_window_dropped"] = int((keep & outside).sum())
            keep &= ~outside
        obs_end = persons["obs_end"].reindex(pid).to_numpy(np.int64)
        short = w + self.horizon - 1 > obs_end
        counts["rows_short_followup_dropped"] = int((keep & short).sum())
        keep &= ~short
        tw_later = np.where(np.isnan(tw), np.inf, tw)
        if self.comparison == "never_treated":
            later = ~treated & np.isfinite(tw_later)
            counts["rows_later_treated_dropped"] = int((keep & later).sum())
            keep &= ~later
        if censor:
            # hazard rows: every at-risk spell-week (any u), band = nearest band at or below u
            hz = pd.DataFrame(
                {
                    "person_id": pid[at_risk],
                    "start_week": sp["start_week"].to_numpy(np.int64)[rows][at_risk],
                    "spell_benefit": sp["benefit"].astype(str).to_numpy()[rows][at_risk],
                    "u": u[at_risk],
                    "week": w[at_risk],
                    "band": np.clip(bi[at_risk], 0, len(self.bands) - 1),
                    "_est": keep[at_risk],
                }
            )
            hz["u_model"] = np.minimum(hz["u"].to_numpy(), band_hi[hz["band"].to_numpy()])
            if self.other_starts == "covariate":
                hz[OTHER_START] = other_kind[at_risk]
            hz = self._add_covariates(hz)
            self._hazard = hz
            self._est_pos = np.flatnonzero(hz["_est"].to_numpy())
        tab = pd.DataFrame(
            {
                "person_id": pid[keep],
                "spell_id": sp["spell_id"].to_numpy()[rows][keep],
                "start_week": sp["start_week"].to_numpy(np.int64)[rows][keep],
                "spell_benefit": sp["benefit"].astype(str).to_numpy()[rows][keep],
                "u": u[keep],
                "week": w[keep],
                "treated": treated[keep].astype(np.int8),
                "remaining": (end - w)[keep],
                "later_within": ((tw_later > w) & (tw_later < w + self.horizon))[keep],
            }
        )
        tab["band"] = bi[keep]
        if self.other_starts == "covariate":
            tab[OTHER_START] = other_kind[keep]
        if censor:
            xcols = [c for c in self._hazard.columns if c.startswith("x__")]
            tab = pd.concat([tab, self._hazard[xcols].iloc[self._est_pos].reset_index(drop=True)], axis=1)
        else:
            tab = self._add_covariates(tab)
        ref = tab[["person_id", "week"]].assign(week=tab["week"] - 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tab["y"] = weeks_self_supporting(
                panel, ref, self.horizon, definition=self.definition, partial="observed"
            ).to_numpy(dtype=float)
        counts["rows"] = len(tab)
        counts["treated"] = int(tab["treated"].sum())
        ctrl = tab["treated"] == 0
        counts["controls_treated_within_horizon"] = int((ctrl & tab["later_within"]).sum())
        if censor:
            crow = np.flatnonzero(tab["treated"].to_numpy() == 0)
            cpid = tab["person_id"].to_numpy(np.int64)[crow]
            cw = tab["week"].to_numpy(np.int64)[crow]
            tw_c = tw_later[keep][crow]
            later = np.isfinite(tw_c) & (tw_c < cw + self.horizon)
            if self.censor_at == "risk_set":
                # a later start outside the control's risk-set weeks does not censor it
                hkey = pd.MultiIndex.from_arrays([self._hazard["person_id"], self._hazard["week"]])
                on_risk = np.zeros(len(crow), dtype=bool)
                on_risk[later] = pd.MultiIndex.from_arrays(
                    [cpid[later], tw_c[later].astype(np.int64)]
                ).isin(hkey)
                off = later & ~on_risk
                counts["controls_started_off_risk_kept"] = int(off.sum())
                tw_c = np.where(off, np.inf, tw_c)
            weeks = (cw[:, None] + np.arange(self.horizon)[None, :]).ravel()
            ss = is_self_supporting(panel, np.repeat(cpid, self.horizon), weeks, definition=self.definition)
            self._ipcw = ipcw_setup(
                ss.reshape(len(crow), self.horizon),
                crow,
                cpid,
                cw,
                tw_c,
                self._hazard["person_id"].to_numpy(np.int64),
                self._hazard["week"].to_numpy(np.int64),
            )
        if counts["treated"] == 0:
            raise DataValidationError(
                f"{_W}: no treatment starts inside the risk sets ({counts}). "
                "Check 'benefit', 'kind' and 'elapsed'."
            )
        return tab, counts

    def _add_covariates(self, tab: pd.DataFrame) -> pd.DataFrame:
        persons = self.panel.persons
        src = persons
        if self.extra is not None:
            check_columns(self.extra, ["person_id"], _W, "extra")
            src = persons.merge(self.extra, on="person_id", how="left", validate="one_to_one")
        row_cols = [c for c in self.covariates if c == OTHER_START and c in tab.columns]
        cols = [c for c in self.covariates if c in src.columns and c not in row_cols]
        spell_cols: list[str] = []
        if self.spell_covariates is not None:
            check_columns(self.spell_covariates, ["person_id", "start_week"], _W, "spell_covariates")
            spell_cols = [
                c for c in self.covariates if c in self.spell_covariates.columns and c not in cols + row_cols
            ]
        missing = [c for c in self.covariates if c not in cols + spell_cols + row_cols]
        if missing:
            raise SpecificationError(
                f"{_W}: covariate(s) {missing} are not columns of panel.persons, "
                "'extra' or 'spell_covariates'."
            )
        out = tab.merge(src[["person_id", *cols]], on="person_id", how="left")
        if spell_cols and self.spell_covariates is not None:  # spell_cols only with spell_covariates
            sc = self.spell_covariates[["person_id", "start_week", *spell_cols]].drop_duplicates(
                ["person_id", "start_week"]
            )
            out = out.merge(sc, on=["person_id", "start_week"], how="left")
        ref = out[["person_id", "week"]]
        for lb in self.history:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[f"history_{lb}"] = weeks_on_public_support(
                    self.panel, ref, lb, partial="observed"
                ).to_numpy(dtype=float)
        design: list[pd.Series | pd.DataFrame] = []
        groups: list[list[str]] = []  # the dummies of each categorical (levels; one omitted)
        for c in self.covariates:
            s = out[c]
            if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_bool_dtype(s):
                d = pd.get_dummies(s.astype(str), prefix=c, drop_first=True, dtype=float)
                design.append(d)
                groups.append(list(d.columns))
            else:
                design.append(s.astype(float).rename(c))
        for lb in self.history:
            design.append(out[f"history_{lb}"])
        if out["spell_benefit"].nunique() > 1:
            d = pd.get_dummies(out["spell_benefit"], prefix="benefit", drop_first=True, dtype=float)
            design.append(d)
            groups.append(list(d.columns))
        x = pd.concat(design, axis=1) if design else pd.DataFrame(index=out.index)
        bad = x.isna().any(axis=1).to_numpy()
        if bad.any():
            raise DataValidationError(
                f"{_W}: {int(bad.sum()):,} risk-set rows have missing covariates (columns "
                f"{x.columns[x.isna().any()].tolist()}). Impute or drop those covariates."
            )
        self.design_columns = list(x.columns)
        pos = {c: i for i, c in enumerate(self.design_columns)}
        self._groups = [[pos[c] for c in g] for g in groups if g]
        return pd.concat([out, x.add_prefix("x__")], axis=1)

    @property
    def risk_sets(self) -> pd.DataFrame:
        """The stacked risk-set table (a copy): one row per spell and elapsed week."""
        return self._table.copy()

    # -- estimation ----------------------------------------------------------------
    def _estimate(self, freq: np.ndarray | None) -> dict[str, Any]:
        tab = self._table
        xall = tab[[f"x__{c}" for c in self.design_columns]].to_numpy(float)
        t_all = tab["treated"].to_numpy()
        y_all = tab["y"].to_numpy(float)
        bands = tab["band"].to_numpy()
        if self.comparison == "censor_later":
            y_all, p_cache = self._censored_outcome(freq)
        else:
            p_cache = {}
        per: list[dict[str, Any]] = []
        infl = np.zeros(len(tab))
        weights = np.zeros(len(tab))
        pscore = np.full(len(tab), np.nan)
        for b, (lo, hi) in enumerate(self.bands):
            m = bands == b
            if freq is not None:
                m &= freq > 0
            f = None if freq is None else freq[m]
            t = t_all[m]
            n1 = (t if f is None else t * f).sum()
            if n1 == 0 or n1 == (len(t) if f is None else f.sum()):
                per.append(dict(band=b, u_from=lo, u_to=hi, n_treated=int(n1), skipped=True))
                continue
            x = xall[m]
            keepcol = usable_columns(x, t.astype(bool), f, self._groups)
            dropped_cols = [c for c, k in zip(self.design_columns, keepcol, strict=True) if not k]
            xd, _ = band_design(x, tab["u"].to_numpy()[m], keepcol, hi > lo)
            if self.estimator == "matching":
                fit = self._match(xd, t, y_all[m], f, b, keepcol)
                weights[m], pscore[m] = fit.weights, fit.pscore
            else:
                p_band = p_cache.get(b)
                if p_band is None:
                    p_band = self._band_logit(xd, t, np.ones(len(t)) if f is None else f, b, keepcol)[1]
                fit = band_effect(xd, t, y_all[m], estimator=self.estimator, freq=f, pscore=p_band)
                infl[m] = fit.influence
                weights[m] = fit.weights
                pscore[m] = fit.pscore
            per.append(
                dict(
                    band=b,
                    u_from=lo,
                    u_to=hi,
                    n_treated=fit.n_treated,
                    n_controls=fit.n_controls,
                    estimate=fit.estimate,
                    mean_treated=fit.mean_treated,
                    mean_control=fit.mean_control,
                    ess_controls=fit.ess_controls,
                    skipped=False,
                    var=getattr(fit, "var", None),
                    dropped_columns=dropped_cols,
                )
            )
        return {"per": per, "infl": infl, "weights": weights, "pscore": pscore}

    def _censored_outcome(self, freq: np.ndarray | None) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """IPCW outcome: controls censored at their later start, weighted by 1 / P(not started by t).

        Also returns the fitted propensities of each band's logit (the same model
        :func:`band_effect` needs, so it is fitted once).
        """
        hz, tab, ip = self._hazard, self._table, self._ipcw
        xcols = [f"x__{c}" for c in self.design_columns]
        xh = hz[xcols].to_numpy(float)
        xt = tab[xcols].to_numpy(float)
        bands_h = hz["band"].to_numpy()
        lam = np.zeros(len(hz))
        fr = np.ones(len(tab)) if freq is None else freq
        p_cache: dict[int, np.ndarray] = {}
        for b, (lo, hi) in enumerate(self.bands):
            m = (tab["band"].to_numpy() == b) & (fr > 0)
            t = tab["treated"].to_numpy()[m]
            if t.sum() == 0 or t.sum() == m.sum():
                continue
            keepcol = usable_columns(xt[m], t.astype(bool), fr[m], self._groups)
            xd, center = band_design(xt[m], tab["u"].to_numpy()[m], keepcol, hi > lo)
            beta, p_cache[b] = self._band_logit(xd, t, fr[m], b, keepcol)
            mh = bands_h == b
            xdh, _ = band_design(xh[mh], hz["u_model"].to_numpy()[mh], keepcol, hi > lo, center)
            lam[mh] = 1.0 / (1.0 + np.exp(-np.clip(xdh @ beta, -35, 35)))
        cum = np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(lam, 1 - 1e-12)))])
        surv = np.exp(cum[ip["pos_t"] + 1] - cum[ip["pos_w"] + 1][:, None])
        z = (ip["ss"] & ip["uncensored"]) / surv
        y = tab["y"].to_numpy(float).copy()
        y[ip["rows"]] = z.sum(axis=1)
        return y, p_cache

    def _band_logit(
        self, xd: np.ndarray, t: np.ndarray, f: np.ndarray, band: int, keepcol: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The band's propensity logit; a failure names the band, its counts and the suspect columns."""
        try:
            return logit_fit(xd, t.astype(float), f)
        except DataValidationError as exc:
            lo, hi = self.bands[band]
            names = ["intercept", *(c for c, k in zip(self.design_columns, keepcol, strict=True) if k)]
            names += ["u"] if hi > lo else []
            sb = np.abs(getattr(exc, "scaled_beta", np.zeros(len(names))))
            top = [f"{names[j]} ({sb[j]:.3g})" for j in np.argsort(-sb)[:3] if j > 0 and sb[j] > 0]
            n1 = float((t * f).sum())
            raise DataValidationError(
                f"{_W}: elapsed band u={lo}-{hi} ({int(round(n1)):,} treated, "
                f"{int(round(f.sum() - n1)):,} controls): {exc}"
                + (f" Largest scaled coefficients: {', '.join(top)}." if top else "")
            ) from exc

    def _match(
        self,
        xd: np.ndarray,
        t: np.ndarray,
        y: np.ndarray,
        f: np.ndarray | None,
        band: int,
        keepcol: np.ndarray,
    ) -> Any:
        from types import SimpleNamespace

        from evaltools.selection.matching import Matching

        rep = np.ones(len(t), dtype=int) if f is None else f.astype(int)
        idx = np.repeat(np.arange(len(t)), rep)
        _, p = self._band_logit(xd, t, rep.astype(float), band, keepcol)
        d = pd.DataFrame({"y": y[idx], "t": t[idx], "lp": np.log(p / (1 - p))[idx]})
        r = Matching(d, outcome="y", treatment="t", covariates=["lp"], distance="inverse_variance").fit()
        est = float(r.params.iloc[0])
        mt = float(d.loc[d.t == 1, "y"].mean())
        # matched-sample weights per band row (treated 1, controls their use counts), summed over copies
        w_rows = np.bincount(idx, weights=r.unit_weights.to_numpy(float), minlength=len(t))
        w_rows = w_rows / np.maximum(rep, 1)
        return SimpleNamespace(
            weights=w_rows,
            pscore=p,
            estimate=est,
            mean_treated=mt,
            mean_control=mt - est,
            n_treated=int((d.t == 1).sum()),
            n_controls=int((d.t == 0).sum()),
            ess_controls=float("nan"),
            var=float(r.bse.iloc[0]) ** 2,
        )

    def fit(
        self, *, n_boot: int = 0, seed: int | None = None, progress: bool = False, alpha: float = 0.05
    ) -> DynamicResults:
        """Estimate the effects by elapsed band and pooled.

        Parameters
        ----------
        n_boot : int, default=0
            Bootstrap replications resampling persons (all their rows together);
            0 uses the analytic person-clustered influence-function SEs (IPW/AIPW,
            with the propensity-estimation term and, for AIPW, the
            outcome-regression term: within a band they equal those of
            :class:`~evaltools.selection.IPW` / :class:`~evaltools.selection.AIPW`
            with ``cluster="person_id"``) or the Abadie-Imbens SEs
            (matching; these ignore repeated persons across ``u``).
        seed : int, optional
            Seed of ``np.random.default_rng`` for the bootstrap.
        progress : bool, default=False
            tqdm progress bar over bootstrap replications.
        alpha : float, default=0.05
            One minus the confidence level of the intervals in the tables.

        Returns
        -------
        DynamicResults
        """
        from threadpoolctl import threadpool_limits

        # many small logit fits (one per band and bootstrap replication): multi-threaded BLAS only adds
        # overhead, 10-15x on a busy machine (benchmarks/bench_dynamic.py), so the fit uses one BLAS thread
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(n_boot, seed, progress, alpha)

    def _fit(self, n_boot: int, seed: int | None, progress: bool, alpha: float) -> DynamicResults:
        tab = self._table
        main = self._estimate(None)
        per = pd.DataFrame(main["per"])
        ok = ~per["skipped"].to_numpy(bool)
        if not ok.any():
            raise DataValidationError(
                f"{_W}: no band has both treated and controls ({per.to_dict('records')})."
            )
        skipped = per.loc[~ok, ["u_from", "u_to"]].to_numpy().tolist()
        per = per[ok].reset_index(drop=True)
        n1 = per["n_treated"].to_numpy(float)
        est_b = per["estimate"].to_numpy(float)
        pooled = float((n1 * est_b).sum() / n1.sum())
        labels = [
            f"u={a}" if a == b else f"u={a}-{b}" for a, b in zip(per["u_from"], per["u_to"], strict=True)
        ]
        pid = tab["person_id"].to_numpy()
        if n_boot > 0:
            rng = np.random.default_rng(seed)
            persons, inv = np.unique(pid, return_inverse=True)
            reps = np.empty((n_boot, len(per) + 1))
            it = range(n_boot)
            if progress:
                from evaltools._progress import progress_bar

                it = progress_bar(it, desc="bootstrap", unit="rep", leave=False)
            for r in it:
                cnt = np.bincount(rng.integers(0, len(persons), len(persons)), minlength=len(persons))
                bt = pd.DataFrame(self._estimate(cnt[inv].astype(float))["per"])
                bt = bt.set_index("band").reindex(per["band"])
                e = bt["estimate"].to_numpy(float)
                nn = bt["n_treated"].to_numpy(float)
                good = np.isfinite(e)
                reps[r, :-1] = e
                reps[r, -1] = (nn[good] * e[good]).sum() / nn[good].sum()
            reps = reps[np.all(np.isfinite(reps), axis=1)]
            cov = np.cov(reps, rowvar=False)
            se_note = (
                f"Standard errors: bootstrap over persons ({len(reps)} of {n_boot} replications usable)."
            )
        else:
            reps = None
            if self.estimator == "matching":
                v = per["var"].to_numpy(float)
                cov = np.diag(np.r_[v, (n1**2 * v).sum() / n1.sum() ** 2])
                se_note = "Standard errors: Abadie-Imbens per band (persons repeated across u are ignored)."
            else:
                infl = main["infl"]
                band = tab["band"].to_numpy()
                t = tab["treated"].to_numpy()
                mats = [np.where(band == b, infl, 0.0) for b in per["band"]]
                # pooled = sum_b n1_b est_b / N1; the random n1_b add sum_i T_i (est_b(i) - pooled) / N1
                bmap = dict(zip(per["band"], est_b, strict=True))
                eb = np.array([bmap.get(b, pooled) for b in band])
                pooled_if = sum(n1[k] / n1.sum() * mats[k] for k in range(len(mats)))
                pooled_if = (
                    pooled_if + np.where(np.isin(band, per["band"]), t * (eb - pooled), 0.0) / n1.sum()
                )
                mats.append(pooled_if)
                cov = cluster_covariance(np.column_stack(mats), pid)
                se_note = "Standard errors: influence functions clustered by person (including the " + (
                    "propensity-estimation term)." if self.estimator == "ipw"
                    else "propensity and outcome-regression estimation terms)."
                )
        params = pd.Series(np.r_[est_b, pooled], index=[*labels, "pooled"])
        cov_table = pd.DataFrame(np.atleast_2d(cov), index=params.index, columns=params.index)
        return DynamicResults(self, per, params, cov_table, main["weights"], se_note, skipped, reps, alpha,
                              pscore=main["pscore"])

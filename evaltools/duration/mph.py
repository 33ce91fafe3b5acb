"""Mixed proportional hazards and the timing-of-events model with NPMLE heterogeneity.

:class:`TimingOfEvents` estimates the Abbring-van den Berg (2003) model: one or
several competing exit hazards and a treatment hazard (sanction, programme
start), each with a piecewise-constant baseline over duration bands and
covariates, a treatment effect on the exit hazards that may vary with time
since treatment (bands) and with covariates, and a joint discrete distribution
of the unobserved heterogeneity (Heckman-Singer NPMLE).  Mass points are added
one at a time by a directional-derivative (Lindsay) search and the whole path
is returned, as in R ``durmod::mphcrm``.

Input are episode-split rows (constant covariates within a row; time-varying
covariates and delayed entry are expressed through the rows), e.g. from
:func:`build_toe_rows`; covariates are column names or, with
:meth:`TimingOfEvents.from_formula`, formulaic formulas.  The likelihood is
collapsed within persons: the survival part of every row is linear in
``exp(v)`` and is summed per person once per evaluation, so only rows ending
with a transition need work per mass point.  Timing: ``"interval"`` (default, weekly registers) means
the transition happened in the last week of the row:
``exp(-(t-1)H) h_d/H (1 - exp(-H))``, which is durmod's ``timing="interval"`` on
person-week rows and, with one hazard, the cloglog binary model on
person-weeks; ``"exact"`` is the piecewise-exponential likelihood
``h_d exp(-t H)``.  With one mass point and ``"exact"`` timing the hazards
separate into Poisson GLMs with ``log(duration)`` offsets (see the reference
tests in ``tests/reference/duration/mph_glm``).

Examples
--------
>>> from evaltools.duration.montecarlo import simulate_toe
>>> from evaltools.duration.mph import TimingOfEvents, build_toe_rows
>>> spells = simulate_toe(1000, seed=1)
>>> rows = build_toe_rows(spells, id="id", duration="duration", exit="exit",
...                       treatment_week="treatment_week", baseline_bands=[13, 26],
...                       effect_bands=[13], covariates=["x1"])
>>> model = TimingOfEvents(rows, id="id", duration="duration", event="event", treated="treated",
...                        baseline_band="band", effect_band="effect_band",
...                        exit_covariates=["x1"], treatment_covariates=["x1"])
>>> path = model.fit(max_points=3)
>>> res = path.best("aic")
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from evaltools._model.covariance import RENAMES, resolve_cov_type
from evaltools._model.design import Design
from evaltools._model.names import renamed_arguments
from evaltools._validation import as_list, check_columns, check_option, raise_for_rows, warn_dropped
from evaltools.duration import _mph_core as core
from evaltools.duration._mph_results import MPHPath, MPHResults
from evaltools.duration._mph_rows import band_labels, build_toe_rows, toe_roles
from evaltools.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    SpecificationError,
)

__all__ = ["TimingOfEvents", "MPHResults", "MPHPath", "build_toe_rows", "band_labels", "toe_roles"]


class _Roles(TypedDict):
    """Column roles of a :class:`TimingOfEvents` model (one entry per role)."""

    id: str
    duration: str
    event: str
    treated: list[str]
    baseline_band: str | None
    effect_band: list[str | None]
    at_risk: dict[str, str]


_WHERE = "TimingOfEvents"


def _levels(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), [str(c) for c in col.cat.categories]
    codes, uniq = pd.factorize(col, sort=True)
    return codes, [str(u) for u in uniq]


class TimingOfEvents:
    """Timing-of-events mixed proportional hazards model (NPMLE heterogeneity).

    Parameters
    ----------
    data : DataFrame
        Episode-split rows: one row per person x spell x period with constant
        covariates (see :func:`build_toe_rows`).  Not modified.
    id : str
        Person identifier column; the mixing distribution is per person (all
        spells of a person share the same unobserved type).
    duration : str
        Length of the row in weeks (``> 0``; whole weeks for interval timing).
    event : str
        Transition that ended the row: a label in ``exits`` or ``treatment``,
        missing (or empty) for none.  With one exit and no treatment a 0/1
        column is accepted.
    treated : str or sequence of str, optional
        0/1 column: the row lies after the treatment (the treatment hazard is
        not at risk, the effect terms are active).  ``None`` fits a plain
        (competing-risks) MPH model without treatment hazard.  A sequence
        gives several treatments (e.g. sanctions and programme starts), each
        with its own hazard; all hazards share the joint distribution of the
        unobserved heterogeneity.
    exits : sequence of str, default=("exit",)
        Labels of the exit destinations (one hazard each).
    treatment : str or sequence of str, default="treatment"
        Label(s) of the treatment transition(s), one per ``treated`` column.
    baseline_band : str, optional
        Categorical column with the elapsed-duration band of the row; each
        hazard gets a piecewise-constant baseline with the first band as
        reference (the mass points are the log-hazard intercepts).
    effect_band : str or sequence of (str or None), optional
        Categorical column with the time-since-treatment band of treated rows;
        one effect per band and exit.  ``None``: a single effect.  Any labelling
        works, e.g. ``"lock-in"``, ``"post 1-13"``, ``"post 14+"`` for
        programme evaluations (see ``treatment_end`` in :func:`build_toe_rows`).
        With several treatments, one entry per treatment.
    exit_covariates : sequence of str
        Numeric covariate columns of the exit hazards.
    treatment_covariates : sequence of str or mapping of str to sequence of str
        Numeric covariate columns of the treatment hazards: one list for
        every treatment, or ``{treatment label: columns}`` per treatment
        (treatments not named get none).  Per-treatment lists let one
        treatment's hazard depend on another's status, e.g. the programme
        start hazard on ``treated_sanction`` (which is constant in the
        sanction hazard's own at-risk rows and so cannot enter it).
    effect_covariates : sequence of str or mapping of str to sequence of str
        Covariates interacted with the treatment indicator in the exit hazards
        (effect heterogeneity by observables): one list for every treatment,
        or ``{treatment label: columns}`` per treatment.
    timing : {"interval", "exact"}, default="interval"
        Row likelihood (see the module docstring).
    at_risk : mapping of str to str, optional
        ``{hazard label: 0/1 column}``: the rows in which that hazard is at
        risk.  Default: the exits in every row, a treatment while its
        ``treated`` column is 0.  :func:`build_toe_rows` writes these columns
        (``at_risk_exit``, ``at_risk_<treatment>``) for point rows
        (``effect_from="same_week"``) and recurrent treatments.

    Notes
    -----
    Parameter names: ``"<exit>:effect[<band>]"`` with one treatment given as a
    string, ``"<exit>:<treatment>[<band>]"`` with a sequence of treatments.
    """

    @renamed_arguments(rows="data")
    def __init__(
        self,
        data: pd.DataFrame,
        *,
        id: str,
        duration: str,
        event: str,
        treated: str | Sequence[str] | None = None,
        exits: Sequence[str] = ("exit",),
        treatment: str | Sequence[str] = "treatment",
        baseline_band: str | None = None,
        effect_band: str | Sequence[str | None] | None = None,
        exit_covariates: Sequence[str] = (),
        treatment_covariates: Sequence[str] | Mapping[str, Sequence[str]] = (),
        effect_covariates: Sequence[str] | Mapping[str, Sequence[str]] = (),
        timing: str = "interval",
        at_risk: dict[str, str] | None = None,
    ) -> None:
        rows = data
        check_option("timing", timing, ["interval", "exact"], _WHERE)
        if not isinstance(rows, pd.DataFrame):
            raise SpecificationError(
                f"{_WHERE}: 'data' must be a pandas DataFrame; got {type(rows).__name__}.")
        self.exits = tuple(as_list(exits))
        if not self.exits:
            raise SpecificationError(f"{_WHERE}: 'exits' must name at least one exit destination.")
        self.treatment = treatment if treated is not None else None
        tcols = as_list(treated)
        self.treatments = tuple(as_list(treatment)) if treated is not None else ()
        self._multi = treated is not None and not isinstance(treated, str)
        if len(self.treatments) != len(tcols) or len(set(self.treatments)) != len(tcols):
            raise SpecificationError(
                f"{_WHERE}: give one distinct 'treatment' label per 'treated' column; got treated={tcols!r}, "
                f"treatment={list(self.treatments)!r}.")
        if set(self.treatments) & set(self.exits):
            both = sorted(set(self.treatments) & set(self.exits))
            raise SpecificationError(f"{_WHERE}: treatment labels {both} are also exit labels.")
        if effect_band is None or isinstance(effect_band, str):
            bands = [effect_band] * len(tcols) if (effect_band is None or len(tcols) == 1) else None
        else:
            bands = list(effect_band)
        if bands is None or len(bands) != len(tcols):
            raise SpecificationError(f"{_WHERE}: 'effect_band' must be one column (one treatment) or a "
                                     f"sequence with one entry (column or None) per treatment; got "
                                     f"{effect_band!r}.")
        at_risk = dict(at_risk or {})
        unknown = set(at_risk) - set(self.exits) - set(self.treatments)
        if unknown:
            raise SpecificationError(f"{_WHERE}: 'at_risk' names unknown hazards {sorted(unknown)}; "
                                     f"hazards are {[*self.exits, *self.treatments]}.")
        self.timing = timing
        self.roles: _Roles = {"id": id, "duration": duration, "event": event, "treated": tcols,
                              "baseline_band": baseline_band, "effect_band": bands, "at_risk": at_risk}
        self.exit_covariates = as_list(exit_covariates)
        if treated is None and (treatment_covariates or effect_covariates or effect_band):
            raise SpecificationError(
                f"{_WHERE}: treatment_covariates, effect_covariates and effect_band need a 'treated' column."
            )
        self._tcov = self._per_treatment("treatment_covariates", treatment_covariates)
        self._ecov = self._per_treatment("effect_covariates", effect_covariates)
        self.treatment_covariates: list[str] | dict[str, list[str]] = (
            dict(self._tcov) if isinstance(treatment_covariates, Mapping) else as_list(treatment_covariates)
        )
        self.effect_covariates: list[str] | dict[str, list[str]] = (
            dict(self._ecov) if isinstance(effect_covariates, Mapping) else as_list(effect_covariates)
        )
        per = [c for d in (self._tcov, self._ecov) for cols in d.values() for c in cols]
        covs = sorted(set(self.exit_covariates + per))
        roles = (id, duration, event, *tcols, baseline_band, *bands, *at_risk.values())
        used = [c for c in roles if c] + covs
        check_columns(rows, used, _WHERE)
        self._prepare(rows, covs)

    def _per_treatment(
        self, name: str, value: Sequence[str] | Mapping[str, Sequence[str]]
    ) -> dict[str, list[str]]:
        """Covariate lists per treatment from one shared list or a ``{treatment: columns}`` mapping."""
        if isinstance(value, Mapping):
            unknown = set(value) - set(self.treatments)
            if unknown:
                raise SpecificationError(
                    f"{_WHERE}: {name!r} names unknown treatments {sorted(unknown)}; "
                    f"treatments are {list(self.treatments)}."
                )
            return {h: as_list(value.get(h, ())) for h in self.treatments}
        return {h: as_list(value) for h in self.treatments}

    @classmethod
    def from_formula(
        cls,
        formula: str,
        data: pd.DataFrame,
        *,
        treatment_formula: str | Mapping[str, str] | None = None,
        effect_formula: str | Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> TimingOfEvents:
        """Build the model with covariates given by formulaic formulas.

        Parameters
        ----------
        formula : str
            Right-hand side for the exit hazard(s), e.g. ``"~ age + C(region)"``.
            The intercept is dropped (the mass points are the intercepts).
        data : DataFrame
            Episode-split rows (not modified).
        treatment_formula : str or mapping of str to str, optional
            Right-hand side for the treatment hazard(s) (default: same as
            ``formula`` when a ``treated`` column is given), or one formula per
            treatment label (``{"programme": "~ age + treated_sanction"}``;
            treatments not named get no covariates).
        effect_formula : str or mapping of str to str, optional
            Covariates interacted with the treatment in the exit hazards, or
            one formula per treatment label.
        **kwargs
            Column roles and options of :class:`TimingOfEvents` (``id``,
            ``duration``, ``event``, ``treated``, ``baseline_band``, ...).

        Returns
        -------
        TimingOfEvents
        """
        for bad in ("exit_covariates", "treatment_covariates", "effect_covariates"):
            if bad in kwargs:
                raise SpecificationError(f"{_WHERE}.from_formula: pass covariates through the formulas, "
                                         f"not {bad!r}.")
        frame = data.copy()

        def columns(f: str | None) -> list[str]:
            if f is None:
                return []
            design = Design.from_formula(data, f, f"{_WHERE}.from_formula")[1]  # NaN if a variable is missing
            for c, values in zip(design.names, design.X.T):
                frame[c] = values
            return design.names

        tf = treatment_formula
        if tf is None and kwargs.get("treated"):
            tf = formula
        tcov: list[str] | dict[str, list[str]] = (
            {h: columns(f) for h, f in tf.items()} if isinstance(tf, Mapping) else columns(tf)
        )
        ecov: list[str] | dict[str, list[str]] = (
            {h: columns(f) for h, f in effect_formula.items()}
            if isinstance(effect_formula, Mapping)
            else columns(effect_formula)
        )
        return cls(frame, exit_covariates=columns(formula), treatment_covariates=tcov,
                   effect_covariates=ecov, **kwargs)

    # ------------------------------------------------------------------
    def _prepare(self, rows: pd.DataFrame, covs: list[str]) -> None:
        r = self.roles
        role_cols = [r["id"], r["duration"], r["event"], *r["treated"], r["baseline_band"], *r["effect_band"],
                     *r["at_risk"].values()]
        data = rows[list(dict.fromkeys(c for c in [*role_cols, *covs] if c))]
        n_total = len(data)
        num = data[covs].apply(pd.to_numeric, errors="coerce") if covs else pd.DataFrame(index=data.index)
        bad_cov = num.isna().any(axis=1).to_numpy() if covs else np.zeros(n_total, bool)
        for tcol, bcol in zip(r["treated"], r["effect_band"]):
            bad_cov |= data[tcol].isna().to_numpy()
            if bcol:
                tr = pd.to_numeric(data[tcol], errors="coerce").to_numpy() == 1
                bad_cov |= tr & data[bcol].isna().to_numpy()
        for col in r["at_risk"].values():
            bad_cov |= data[col].isna().to_numpy()
        if r["baseline_band"]:
            bad_cov |= data[r["baseline_band"]].isna().to_numpy()
        bad_person = data[r["id"]].isin(data.loc[bad_cov, r["id"]].unique()).to_numpy()
        self.n_dropped_rows = int(bad_person.sum())
        self.n_dropped_persons = int(data.loc[bad_person, r["id"]].nunique())
        warn_dropped(self.n_dropped_rows, n_total,
                     f"{self.n_dropped_persons:,} persons with missing covariate, band or treated values; "
                     "the whole person is removed because the likelihood is per person", _WHERE)
        data, num = data.loc[~bad_person], num.loc[~bad_person]
        if data.empty:
            raise DataValidationError(f"{_WHERE}: no rows left after removing persons with missing values.")
        order = np.argsort(pd.factorize(data[r["id"]])[0], kind="stable")
        data, num = data.iloc[order], num.iloc[order]
        pid = pd.factorize(data[r["id"]])[0]
        if np.any(np.diff(pid) < 0):  # pragma: no cover - factorize after stable sort is monotone
            raise DataValidationError(f"{_WHERE}: internal error sorting rows by person.")
        t = pd.to_numeric(data[r["duration"]], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(t) | (t <= 0)
        if self.timing == "interval":
            bad |= t != np.round(t)
        raise_for_rows(data, bad, rule=f"column {r['duration']!r} must be a positive"
                       + (" whole number of weeks" if self.timing == "interval" else " number")
                       + " in every row", fix="Correct these rows or use timing='exact' for fractional "
                       "durations.", columns=[r["id"], r["duration"]])
        K = len(self.treatments)
        treated = np.zeros((len(data), K), bool)
        for k, tcol in enumerate(r["treated"]):
            tv = pd.to_numeric(data[tcol], errors="coerce").to_numpy()
            raise_for_rows(data, ~np.isin(tv, [0, 1]), rule=f"column {tcol!r} must be 0 or 1",
                           fix="Recode the treatment-state column to 0/1.", columns=[r["id"], tcol])
            treated[:, k] = tv == 1
        hazards = [*self.exits, *self.treatments]
        ev = data[r["event"]]
        if (len(hazards) == 1 and (pd.api.types.is_numeric_dtype(ev) or pd.api.types.is_bool_dtype(ev))):
            evn = pd.to_numeric(ev, errors="coerce").to_numpy(float)
            raise_for_rows(data, ~np.isin(evn, [0, 1]), rule=f"column {r['event']!r} must be 0/1",
                           fix="Use 1 for an exit ending the row and 0 otherwise.",
                           columns=[r["id"], r["event"]])
            code = np.where(evn == 1, 0, -1)
        else:
            lab = ev.astype(object).where(ev.notna(), None)
            lab = lab.where(lab.astype(str) != "", None)
            code = np.full(len(data), -1)
            for j, h in enumerate(hazards):
                code[(lab == h).to_numpy()] = j
            unknown = (code < 0) & lab.notna().to_numpy()
            raise_for_rows(data, unknown, rule=f"column {r['event']!r} must hold one of {hazards} or be "
                           "missing", fix="Relabel the transitions or pass them in 'exits'/'treatment'.",
                           columns=[r["id"], r["event"]])
        J = len(hazards)
        nx = len(self.exits)
        risk = np.ones((len(data), J), bool)
        risk[:, nx:] = ~treated
        for j, h in enumerate(hazards):
            rcol = r["at_risk"].get(h)
            if rcol is not None:
                av = pd.to_numeric(data[rcol], errors="coerce").to_numpy()
                raise_for_rows(data, ~np.isin(av, [0, 1]), rule=f"column {rcol!r} must be 0 or 1",
                               fix="Recode the at-risk column to 0/1.", columns=[r["id"], rcol])
                risk[:, j] = av == 1
        for j, h in enumerate(hazards):
            how = (f"{r['at_risk'][h]!r} = 0" if h in r["at_risk"] else
                   f"{r['treated'][j - nx]!r} = 1" if j >= nx else "")
            raise_for_rows(data, (code == j) & ~risk[:, j], rule=f"the transition {h!r} cannot end a row "
                           f"in which its hazard is not at risk ({how})", fix="Rows up to a treatment must "
                           "have treated = 0 (or be marked at risk) and the transition must end the last of "
                           "them.",
                           columns=[r["id"], r["event"]])
        # design matrices
        names: list[list[str]] = []
        X: list[np.ndarray] = []
        if r["baseline_band"]:
            bcode, blev = _levels(data[r["baseline_band"]])
            B = (bcode[:, None] == np.arange(1, len(blev))[None, :]).astype(float)
        else:
            blev, B = [], np.empty((len(data), 0))
        effs: list[tuple[list[str], np.ndarray]] = []
        for k, bcol in enumerate(r["effect_band"]):
            if bcol:
                ecode, elev = _levels(data[bcol])
                effs.append((elev, ((ecode[:, None] == np.arange(len(elev))[None, :])
                                    & treated[:, k:k + 1]).astype(float)))
            else:
                effs.append(([], treated[:, k:k + 1].astype(float)))
        self.effect_params: dict[str, list[str]] = {}
        self.effect_groups: dict[tuple[str, str], list[str]] = {}
        for h in self.exits:
            cols = [f"{h}:band[{b}]" for b in blev[1:]] + [f"{h}:{c}" for c in self.exit_covariates]
            mats = [B, num[self.exit_covariates].to_numpy(float)]
            self.effect_params[h] = []
            for k, (trt, (elev, Eff)) in enumerate(zip(self.treatments, effs)):
                tag = trt if self._multi else "effect"
                enames = [f"{h}:{tag}[{b}]" for b in elev] if elev else [f"{h}:{tag}"]
                self.effect_params[h] += enames
                self.effect_groups[(h, trt)] = enames
                ecols = self._ecov[trt]
                cols += enames + [f"{h}:{tag}*{c}" for c in ecols]
                mats += [Eff, num[ecols].to_numpy(float) * treated[:, k:k + 1]]
            if not self.treatments:
                del self.effect_params[h]
            names.append(cols)
            X.append(np.ascontiguousarray(np.column_stack(mats)))
        for h in self.treatments:
            tcov = self._tcov[h]
            names.append([f"{h}:band[{b}]" for b in blev[1:]] + [f"{h}:{c}" for c in tcov])
            X.append(np.ascontiguousarray(np.column_stack([B, num[tcov].to_numpy(float)])))
        for j, h in enumerate(hazards):
            if not np.any(code == j):
                raise DataValidationError(f"{_WHERE}: no row ends with the transition {h!r}; the "
                                          "hazard cannot be estimated. Check the 'event' labels.")
        self.hazards = tuple(hazards)
        self._names = names
        self._design = core.make_design(pid, t, code, risk, tuple(X), self.timing == "interval")
        # the optimiser works on centred and scaled design columns (the mass points are the
        # intercepts, so uncentred covariates make the problem badly conditioned); estimates and
        # covariances are mapped back exactly (a linear reparametrisation)
        self._centre = [x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1]) for x in X]
        sd = [x.std(axis=0) for x in X]
        self._scale = [np.where(v > 1e-12, v, 1.0) for v in sd]
        self._centre = [np.where(v > 1e-12, m, 0.0) for m, v in zip(self._centre, sd)]
        Xs = tuple(np.ascontiguousarray((x - m) / sc) for x, m, sc in zip(X, self._centre, self._scale))
        self._sdesign = core.make_design(pid, t, code, risk, Xs, self.timing == "interval")
        starts = self._design.starts
        self._row_ids = data[r["id"]].to_numpy()
        self._person_ids = self._row_ids[starts]
        self.n_rows = len(data)
        self.n_persons = int(starts.size)

    # ------------------------------------------------------------------
    def _layout(self, M: int) -> core.Layout:
        return core.Layout(p=tuple(x.shape[1] for x in self._design.X), n_points=M)

    def _to_original(self, theta_s: np.ndarray, M: int) -> np.ndarray:
        """Map parameters of the centred/scaled design to the original covariate scale."""
        lay = self._layout(M)
        bs, Vs, a = lay.split(np.asarray(theta_s, dtype=float))
        betas = [b / sc for b, sc in zip(bs, self._scale)]
        shift = np.array([float(b @ m) for b, m in zip(betas, self._centre)])
        return lay.join(betas, Vs - shift[None, :], a)

    def _to_scaled(self, theta: np.ndarray, M: int) -> np.ndarray:
        """Inverse of :meth:`_to_original`."""
        lay = self._layout(M)
        betas, V, a = lay.split(np.asarray(theta, dtype=float))
        shift = np.array([float(b @ m) for b, m in zip(betas, self._centre)])
        return lay.join([b * sc for b, sc in zip(betas, self._scale)], V + shift[None, :], a)

    def _param_names(self, M: int) -> list[str]:
        out = [n for block in self._names for n in block]
        out += [f"{h}:v{m + 1}" for m in range(M) for h in self.hazards]
        out += [f"logit_p{m + 1}" for m in range(1, M)]
        return out

    def _start(self) -> np.ndarray:
        d = self._design
        betas = [np.zeros(x.shape[1]) for x in d.X]
        V = np.empty((1, d.n_hazards))
        for j in range(d.n_hazards):
            ev = max(float(np.sum(d.event == j)), 0.5)
            expo = float(np.sum(d.t * d.risk[:, j]))
            V[0, j] = np.log(ev / expo)
        return self._layout(1).join(betas, V, np.zeros(1))

    @renamed_arguments(maxiter="max_iter")
    def fit(
        self,
        *,
        max_points: int = 10,
        multistart: int = 1,
        n_candidates: int = 256,
        tol: float = 1e-3,
        minprob: float = 1e-5,
        eqtol: float = 1e-3,
        cov_type: str = "nonrobust",
        cluster: str | None = None,
        seed: int | None = 0,
        progress: bool = False,
        max_iter: int = 5000,
        inference: str = "hessian",
        criterion: str = "aic",
        n_boot: int = 199,
        n_jobs: int = 1,
    ) -> MPHPath:
        """Estimate the model along the NPMLE path (1, 2, ... mass points).

        Parameters
        ----------
        max_points : int, default=10
            Largest number of mass points; ``1`` fits the model without
            unobserved heterogeneity.
        multistart : int, default=1
            Controls the starts tried when adding a point: the ``multistart``
            candidates with the largest directional derivative, ``multistart - 1``
            random candidates with a positive one, and ``multistart`` random
            splits of the most probable point; the best fit is kept.
        n_candidates : int, default=256
            Random candidate locations evaluated in each directional-derivative search.
        tol : float, default=1e-3
            Stop when adding a point improves the log-likelihood by less.
        minprob : float, default=1e-5
            A new point with smaller probability counts as no new point (stop).
        eqtol : float, default=1e-3
            A new point closer than this (max-norm) to an old one counts as no new point.
        cov_type : {"nonrobust", "robust", "cluster", "opg"}, default="nonrobust"
            ``"nonrobust"``: observed information (numerical Hessian of the
            analytic gradient); ``"robust"``: sandwich of the person scores
            (persons are the independent units), the same as ``"cluster"`` on
            the person id; ``"opg"``: outer product of the person scores.  The
            old names ``"hessian"`` and ``"sandwich"`` are accepted with a
            ``FutureWarning`` for one release.
        cluster : str, optional
            Cluster column for ``cov_type="cluster"``; only the person id is
            supported (the default), as persons are the independent units.
        seed : int, optional
            Seed of the candidate search.
        progress : bool, default=False
            Show a progress bar over the path.
        max_iter : int, default=5000
            Iteration limit of the L-BFGS-B fallback (used only where the Newton
            iterations with the analytic Hessian stall; ``maxiter``, the old
            name, is accepted with a ``FutureWarning`` for one release).
        inference : {"hessian", "bootstrap", "model_average"}, default="hessian"
            Inference for the fit that ``criterion`` selects, returned by
            ``path.best(criterion)``: ``"hessian"`` uses that fit's own
            covariance (``cov_type``; the number of points is treated as
            known); ``"bootstrap"`` a person bootstrap of the whole path with
            the selection repeated in every replicate (:meth:`MPHPath.bootstrap`);
            ``"model_average"`` smoothed-criterion weights over the path with
            the unconditional covariance (:meth:`MPHPath.model_average`).  The
            last two account for the choice of the number of points.
        criterion : {"aic", "bic"}, default="aic"
            Selection criterion used by ``inference``.
        n_boot : int, default=199
            Bootstrap replicates (``inference="bootstrap"``; seeded from ``seed``).
        n_jobs : int, default=1
            Worker processes for the bootstrap replicates.

        Returns
        -------
        MPHPath
            All fits on the path; ``.best("aic")`` picks one.
        """
        maxiter = max_iter
        cov_type = resolve_cov_type(cov_type, f"{_WHERE}.fit", renames=RENAMES["toe"],
                                    options=["nonrobust", "robust", "cluster", "opg"])
        # the path code's names for the estimators
        cov_type = {"nonrobust": "hessian", "robust": "sandwich", "cluster": "sandwich"}.get(cov_type, "opg")
        check_option("inference", inference, ["hessian", "bootstrap", "model_average"], f"{_WHERE}.fit")
        check_option("criterion", criterion, ["aic", "bic"], f"{_WHERE}.fit")
        for name, val in (("max_points", max_points), ("multistart", multistart),
                          ("n_candidates", n_candidates), ("max_iter", maxiter), ("n_boot", n_boot),
                          ("n_jobs", n_jobs)):
            if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < 1:
                raise SpecificationError(
                    f"The {name!r} parameter of {_WHERE}.fit must be an int >= 1. Got {val!r} instead.")
        for name, fval in (("tol", tol), ("minprob", minprob), ("eqtol", eqtol)):
            if not isinstance(fval, (int, float)) or isinstance(fval, bool) or not fval > 0:
                raise SpecificationError(
                    f"The {name!r} parameter of {_WHERE}.fit must be a float > 0. Got {fval!r} instead.")
        if cluster is not None and cov_type != "sandwich":
            raise SpecificationError(f"{_WHERE}.fit: 'cluster' is only used with cov_type='cluster'.")
        if cluster is not None and cluster != self.roles["id"]:
            raise SpecificationError(
                f"{_WHERE}.fit: only person clustering is supported (cluster=None or the id column "
                f"{self.roles['id']!r}); got {cluster!r}."
            )
        from threadpoolctl import threadpool_limits

        # thousands of small matrix-vector products: multi-threaded BLAS only adds overhead (7x slower
        # on two busy cores), so the path runs with one BLAS thread
        with threadpool_limits(limits=1, user_api="blas"):
            results, stop = self._fit_path(max_points, multistart, n_candidates, tol, minprob, eqtol,
                                           cov_type, seed, progress, maxiter)
            return MPHPath(results, stop, inference=inference, criterion=criterion,
                           inference_options={"n_boot": n_boot, "seed": seed, "n_jobs": n_jobs,
                                              "progress": progress})

    def _fit_path(self, max_points: int, multistart: int, n_candidates: int, tol: float, minprob: float,
                  eqtol: float, cov_type: str, seed: int | None, progress: bool, maxiter: int
                  ) -> tuple[list[MPHResults], str]:
        rng = np.random.default_rng(seed)
        d = self._sdesign
        from evaltools._progress import progress_bar

        bar = progress_bar(total=max_points, enabled=progress, desc="NPMLE path", unit="point")
        theta, ll, conv, hess = core.maximise(self._start(), d, self._layout(1), maxiter=maxiter)
        results = [self._results(theta, 1, ll, conv, hess, cov_type)]
        bar.update(1)
        bar.set_postfix(loglike=f"{ll:.2f}")
        stop = "max_points reached"
        M = 1
        while M < max_points:
            lay = self._layout(M)
            betas, V, a = lay.split(theta)
            lo, hi = V.min(axis=0) - 3.0, V.max(axis=0) + 3.0
            cand = lo + (hi - lo) * rng.random((n_candidates, d.n_hazards))
            D = core.directional_derivative(theta, d, lay, cand)
            if float(D.max()) <= 1e-8 * d.n_persons:
                stop = "no candidate with positive directional derivative (NPMLE reached)"
                break
            lay1 = self._layout(M + 1)
            best = None
            for th0 in self._starts(theta, M, D, cand, multistart, rng):
                th, ll_k, conv_k, _ = core.maximise(th0, d, lay1, maxiter=maxiter, polish=False,
                                                    ftol=1e-9, gtol=1e-5)
                if best is None or ll_k > best[1]:
                    best = (th, ll_k, conv_k)
            if best is None:  # pragma: no cover - a positive directional derivative gives >= 1 start
                raise ConvergenceError(f"{_WHERE}.fit: no starting values for {M + 1} support points.")
            th, ll_new, conv_new, hess_new = core.maximise(best[0], d, lay1, maxiter=maxiter)
            conv_new = conv_new or best[2]
            if ll_new - ll < tol:  # a decrease: local optimum (old fit + massless point is feasible)
                stop = (f"log-likelihood improved by less than tol={tol:g}" if ll_new > ll - tol else
                        f"the {M + 1}-point fit ended below the {M}-point log-likelihood (a local optimum); "
                        "try multistart > 1")
                break
            _, Vn, an = self._layout(M + 1).split(th)
            pn = np.exp(an - np.logaddexp.reduce(an))
            dist = np.max(np.abs(Vn[:, None, :] - Vn[None, :, :]), axis=2) + np.eye(M + 1) * 1e9
            if pn.min() < minprob or dist.min() < eqtol:
                stop = "the new point was degenerate (tiny probability or equal to an existing point)"
                break
            M += 1
            theta, ll = th, ll_new
            results.append(self._results(theta, M, ll, conv_new, hess_new, cov_type))
            bar.update(1)
            bar.set_postfix(loglike=f"{ll:.2f}")
        bar.close()
        return results, stop

    def _starts(self, theta: np.ndarray, M: int, D: np.ndarray, cand: np.ndarray, multistart: int,
                rng: np.random.Generator) -> list[np.ndarray]:
        """Starting values with ``M + 1`` points.

        (i) the ``multistart`` candidates with the largest directional derivative and
        ``multistart - 1`` random candidates with a positive one, each entering with the
        probability that maximises the log-likelihood along the mixing direction
        (:func:`~evaltools.duration._mph_core.enter_points`), and of the next three
        candidates by the derivative the one whose start has the highest log-likelihood, if
        it beats the first start; (ii)
        ``multistart`` splits of the most probable point into two points ``v +- u`` (random
        ``u``) sharing its probability.  Splits find broad new types that the directional
        derivative (which favours extreme, small-mass points) tends to miss.
        """
        d, lay = self._sdesign, self._layout(M)
        betas, V, a = lay.split(theta)
        pi = np.exp(a - np.logaddexp.reduce(a))
        pos = np.flatnonzero(D > 0)
        ranked = pos[np.argsort(-D[pos])]
        top, near = ranked[:multistart], ranked[multistart:multistart + 3]
        rest = np.setdiff1d(pos, ranked[:multistart + 3])
        picks = np.r_[top, rng.choice(rest, size=min(multistart - 1, rest.size), replace=False)].astype(int)
        out = [th for th, _ in core.enter_points(theta, d, lay, cand[picks])]
        if near.size:  # of the next candidates by D, the one that enters with the highest log L
            th_near, gain = max(core.enter_points(theta, d, lay, cand[near]), key=lambda s: s[1])
            if gain > core.loglik(out[0], d, self._layout(M + 1)) - core.loglik(theta, d, lay):
                out.append(th_near)
        m = int(np.argmax(pi))
        for _ in range(multistart):
            u = rng.uniform(-1.0, 1.0, size=V.shape[1])
            V2 = np.vstack([V, V[m] - u])
            V2[m] = V[m] + u
            p_new = np.append(pi, pi[m] / 2)
            p_new[m] /= 2
            out.append(self._layout(M + 1).join(betas, V2, np.log(p_new / p_new[0])))
        return out

    def _results(self, theta: np.ndarray, M: int, ll: float, converged: bool, hess: np.ndarray | None,
                 cov_type: str) -> MPHResults:
        d, lay = self._sdesign, self._layout(M)
        names = self._param_names(M)
        P = theta.size
        if hess is None:
            hess = core.loglik_hess(theta, d, lay)[2]
        info = -hess
        w, U = np.linalg.eigh(info)
        keep = w > 1e-8 * max(float(w.max()), 1e-300)
        rank = int(keep.sum())
        Ainv = (U[:, keep] / w[keep]) @ U[:, keep].T
        foot = []
        if cov_type == "hessian":
            cov = Ainv
            foot.append("Standard errors from the inverse observed information (analytic Hessian).")
        else:
            S = core.person_scores(theta, d, lay)
            if cov_type == "opg":
                B = S.T @ S
                wb, Ub = np.linalg.eigh(B)
                kb = wb > 1e-8 * max(float(wb.max()), 1e-300)
                cov = (Ub[:, kb] / wb[kb]) @ Ub[:, kb].T
                rank = int(kb.sum())
                keep, U = kb, Ub
                foot.append("Standard errors from the outer product of the person scores (BHHH/OPG).")
            else:
                G = S.shape[0]  # clusters are persons: person scores are the cluster scores
                cov = Ainv @ (S.T @ S) @ Ainv * G / max(G - 1, 1)
                foot.append(f"Sandwich standard errors clustered by person ({G:,} clusters, "
                            "small-sample factor G/(G-1)).")
        se_nan = np.zeros(P, bool)
        if rank < P:
            null = U[:, ~keep]
            se_nan = np.sqrt((null ** 2).sum(axis=1)) > 0.01
        # back to the original covariate scale: theta = T theta_scaled (linear), cov = T cov T'
        Tm = np.column_stack([self._to_original(e, M) for e in np.eye(P)])
        cov = Tm @ cov @ Tm.T
        theta = self._to_original(theta, M)
        if rank < P:
            se_nan = (np.abs(Tm[:, se_nan]) > 0).any(axis=1)
            cov[se_nan, :] = np.nan
            cov[:, se_nan] = np.nan
            foot.append(f"The information matrix is degenerate (rank {rank} of {P}), as is usual for "
                        "nuisance mass points; a Moore-Penrose inverse was used and the standard errors "
                        f"of the {int(se_nan.sum())} parameter(s) loading on the null space are NaN.")
        _, V, a = lay.split(theta)
        prob = np.exp(a - np.logaddexp.reduce(a))
        mp = pd.DataFrame({"prob": prob, **{f"v_{h}": V[:, j] for j, h in enumerate(self.hazards)}},
                          index=pd.RangeIndex(1, M + 1, name="point"))
        timing = ("interval (weekly grouped) timing: the transition happens in the last week of the row, "
                  "exp(-(t-1)H) h/H (1-exp(-H))" if self.timing == "interval"
                  else "exact timing (piecewise-exponential likelihood h exp(-tH))")
        foot = [f"Mixed proportional hazards with {timing}.",
                f"Unobserved heterogeneity: discrete joint distribution over {len(self.hazards)} hazard(s) "
                f"with {M} mass point(s) (NPMLE); locations are the log-hazard intercepts "
                "(first duration band, covariates at zero).",
                *foot]
        if self.treatments:
            foot.append("Treatment effects are log hazard ratios of the exit hazard after treatment "
                        "(no anticipation), by effect band (weeks since treatment, lock-in/post).")
        if self.n_dropped_rows:
            foot.append(f"{self.n_dropped_rows:,} rows of {self.n_dropped_persons:,} persons with missing "
                        "values were dropped.")
        if not converged:
            foot.append("WARNING: the optimiser did not report convergence.")
            warnings.warn(f"{_WHERE}.fit: the {M}-point fit did not converge (gradient not small); "
                          "inspect the path or increase maxiter.", ConvergenceWarning, stacklevel=4)
        k = P
        aic = -2 * ll + 2 * k
        bic = -2 * ll + k * np.log(self.n_persons)
        return MPHResults(
            pd.Series(theta, index=names), pd.DataFrame(cov, index=names, columns=names), self.n_persons,
            model=self, title=f"Timing-of-events MPH ({M} mass point{'s' if M > 1 else ''})",
            header=(("Persons", self.n_persons), ("Rows", self.n_rows), ("Mass points", M),
                    ("Log-likelihood", ll), ("AIC", aic), ("BIC (N = persons)", bic),
                    ("Timing", self.timing), ("Covariance", cov_type)),
            footnotes=foot,
            extra={"masspoints": mp, "llf": float(ll), "aic": float(aic), "bic": float(bic),
                   "n_points": M, "n_persons": self.n_persons, "n_rows": self.n_rows,
                   "hazards": self.hazards, "effect_params": dict(self.effect_params),
                   "effect_groups": dict(self.effect_groups), "treatments": self.treatments,
                   "converged": bool(converged), "rank": rank, "n_dropped_rows": self.n_dropped_rows,
                   "inference": f"{cov_type} ({M} points treated as known)",
                   "masspoint_params": [n for n in names if n.startswith("logit_p")
                                        or n.rsplit(":", 1)[-1] in {f"v{m + 1}" for m in range(M)}]},
        )

    def loglike(self, params: pd.Series | np.ndarray, n_points: int = 1) -> float:
        """Log-likelihood at ``params`` (flat vector in the order of ``MPHResults.params``)."""
        theta = np.asarray(params, dtype=float)
        lay = self._layout(n_points)
        if theta.size != lay.size:
            raise SpecificationError(f"{_WHERE}.loglike: expected {lay.size} parameters for {n_points} "
                                     f"point(s); got {theta.size}.")
        return core.loglik(theta, self._design, lay)

    def score(self, params: pd.Series | np.ndarray, n_points: int = 1) -> np.ndarray:
        """Analytic gradient of :meth:`loglike`."""
        theta = np.asarray(params, dtype=float)
        return core.loglik_grad(theta, self._design, self._layout(n_points))[1]

    def __repr__(self) -> str:
        return (f"<TimingOfEvents: {self.n_persons:,} persons, {self.n_rows:,} rows, hazards "
                f"{list(self.hazards)}, timing={self.timing!r}>")

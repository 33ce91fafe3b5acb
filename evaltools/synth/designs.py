"""Evaluation designs side by side against the generator's truth.

Pilot reports without a control group read the outcome of participants after
the start, or its change against the time before, as the programme's effect;
others compare participants with persons in *other* programmes.
:func:`design_comparison` computes these designs for one programme of a
synthetic panel next to a corrected design and the true ATT of exactly the
placed persons used (:func:`~evaltools.synth.att_for_sample`), so the bias of
each design can be read off.

The corrected design is risk-set matching (Li, Propert & Rosenbaum 2001; the
"not yet treated" comparison of Sianesi 2004 and of the Danish register
evaluations): a person placed in week *s* is compared with persons who in the
same week *s* are on a benefit spell, have not been placed yet and are not in
another programme.  The comparison person-weeks are drawn with
:func:`~evaltools.selection.sample_not_yet_treated` from the risk sets of the
placement weeks (equal probability per at-risk person-week; a draw inside a
programme is discarded on its own), and every placed person is matched only
within the risk set of its own week (exact on the week, covariate matching with
the Abadie-Imbens bias adjustment on the observables at that week).

Matching within the week matters.  Not-yet-placed person-weeks drawn at
*other* weeks include the placed persons' own weeks shortly before their
placement; covariate matching on characteristics that identify a person
(birth year, history, municipality, the hidden type) pairs a placed person with
those own weeks, whose outcome window contains the person's own placement.
That conditions the comparison on its future and biases the estimate upwards,
the more the more comparison weeks are drawn.  In week *s* a placed person is
treated, so it can never be its own comparison.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltools._validation import check_columns
from evaltools.data.covariates import COVARIATES_AT, covariates_at
from evaltools.data.joins import events_in_spells
from evaltools.data.outcomes import weeks_self_supporting
from evaltools.data.panel import RegisterPanel
from evaltools.data.spells import build_spells
from evaltools.data.weeks import decimal_year
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError
from evaltools.selection.designs import sample_not_yet_treated
from evaltools.selection.matching import Matching
from evaltools.synth.config import MUNICIPALITIES
from evaltools.synth.truth import Truth, att_for_sample

__all__ = ["DESIGNS", "DESIGN_COVARIATES", "DesignComparison", "design_comparison"]

#: The rows of :attr:`DesignComparison.table`, in order.
DESIGNS = (
    "outcome after start, no comparison",
    "before/after (participants)",
    "raw: placed vs other activation",
    "corrected: matching on observables",
    "oracle: matching + hidden type",
)

#: Default observables of the corrected design (columns of :func:`~evaltools.data.covariates_at`).
DESIGN_COVARIATES = (
    "age",
    "female",
    "origin_non_western",
    "origin_western",
    "edu_vocational",
    "edu_higher",
    "integration_benefit",
    "local_unemployment",
    "match2",
    "match3",
    "support_years_before_window",
    "elapsed_years",
    "calendar_year",
)

_GROUPS = ("placed", "not yet placed", "other activation")


@dataclass(frozen=True)
class DesignComparison:
    """Estimates of one programme's ATT by design, with the truth they are judged against.

    Attributes
    ----------
    table : DataFrame
        One row per design (:data:`DESIGNS`): ``design``, ``estimate``, ``se``,
        ``persons`` (rows used), ``truth`` and ``truth_se`` (true ATT of all
        placed rows, :func:`~evaltools.synth.att_for_sample`),
        ``"truth, all placed in the window"`` (:meth:`Truth.att_of`),
        ``truth_of_row`` (the truth of the placed persons the row uses: the
        before/after design and a matched subset differ) and ``bias``
        (``estimate - truth_of_row``).
    counts : dict
        Sample flow: ``placed``, ``truth_n``, ``att_of_n``, ``not_yet_placed``,
        ``other_activation``, ``running_at_window_start``, ``left_out``,
        ``missing_outcome``, ``unmatched`` (placed persons whose week has no
        comparison row), ``comparison_unused`` (comparison rows in a week whose
        placed persons were all left out, e.g. without the whole horizon), the
        draw counts ``drawn``, ``busy``, ``repeated``, and ``truth_before_after``,
        ``before_mean``, ``after_mean``.
    analysis : DataFrame
        The rows of the matching designs (placed and not-yet-placed rows of the
        same weeks): ``y``, ``treated``, the observables
        and the hidden type indicators ``type_low`` / ``type_high`` (for a
        sensitivity analysis of the corrected design).
    frame : DataFrame
        All reference rows: ``person_id``, ``benefit``, ``start_week``,
        ``week``, ``group`` (:data:`_GROUPS`) and the outcome ``y``.
    """

    table: pd.DataFrame
    counts: dict[str, int | float]
    analysis: pd.DataFrame
    frame: pd.DataFrame


def _ys(panel: RegisterPanel, frame: pd.DataFrame, shift: int, horizon: int) -> np.ndarray:
    """Weeks self-supporting in weeks ``week + shift + 1 .. week + shift + horizon`` of each row."""
    ref = frame[["person_id"]].assign(week=frame["week"] + shift)
    with warnings.catch_warnings():
        # a window not fully observed gives NA; the caller counts and drops those rows with a warning
        warnings.simplefilter("ignore", MissingValueWarning)
        y = weeks_self_supporting(panel, ref, horizon=horizon, definition="no_code_or_su")
    return y.astype(float).to_numpy()


def _risk_sets(spells: pd.DataFrame, weeks: np.ndarray) -> pd.DataFrame:
    """One-week spell pieces: every spell covering one of ``weeks`` cut to that week."""
    w = pd.DataFrame({"risk_week": np.unique(weeks)})
    sp = spells.reset_index(drop=True)
    idx_s, idx_w = np.nonzero(
        (sp["start_week"].to_numpy()[:, None] <= w["risk_week"].to_numpy()[None, :])
        & (sp["end_week"].to_numpy()[:, None] >= w["risk_week"].to_numpy()[None, :])
    )
    pieces = sp.iloc[idx_s].reset_index(drop=True)
    # start_week keeps the spell's first week (elapsed duration); the piece is the week itself
    pieces["piece_start"] = w["risk_week"].to_numpy()[idx_w]
    pieces["piece_end"] = pieces["piece_start"]
    return pieces


def _mean_row(design: str, y: np.ndarray) -> dict[str, object]:
    return {"design": design, "estimate": float(np.mean(y)), "se": float(np.std(y, ddof=1) / np.sqrt(len(y))),
            "persons": len(y)}


def design_comparison(
    panel: RegisterPanel,
    truth: Truth,
    hidden: pd.DataFrame,
    potential: pd.DataFrame,
    *,
    programme: str,
    horizon: int = 52,
    seed: int | np.random.Generator | None = None,
    municipality: str | None = None,
    period: tuple[int, int] | None = None,
    per_treated: float = 30,
    benefit: Sequence[str] = ("kontanthjaelp", "integrationsydelse"),
    covariates: Sequence[str] = DESIGN_COVARIATES,
    local_unemployment: Mapping[str, float] | None = None,
) -> DesignComparison:
    """Designs without a counterfactual, risk-set matching and the truth for one programme.

    Placed persons: the first start of ``programme`` of each person, on a
    ``benefit`` spell, with the whole ``horizon`` observed (placements already
    running in the panel's first week began before the window and are left
    out: neither their start nor their history is observed).  The outcome is
    weeks self-supporting (no benefit code, or SU) in weeks *s* .. *s* +
    ``horizon`` - 1.  Designs (:data:`DESIGNS`):

    * the mean outcome of the placed after the start (no comparison);
    * before/after: that outcome minus the same count in the ``horizon`` weeks
      before the start, for the placed observed that long before;
    * raw: placed versus persons whose first programme is another one (at its start);
    * corrected: risk-set matching on the observables ``covariates`` (see the
      module notes), the oracle adds the generator's hidden type.

    Parameters
    ----------
    panel : RegisterPanel
        A synthetic panel (:func:`~evaltools.synth.generate` or the shipped sample).
    truth : Truth
        Its truth (for :meth:`Truth.att_of` and the count of all first placements).
    hidden : DataFrame
        The hidden type, ``person_id`` and ``het_type`` (``"low"``, ``"mid"``, ``"high"``).
    potential : DataFrame
        The simulated potential outcomes (``hidden/potential.parquet``).
    programme : str
        The programme (activation ``kind``).
    horizon : int, default=52
        Outcome window in weeks (52 or 156, the horizons of the truth).
    seed : int or numpy Generator, optional
        Random numbers of the comparison draws.
    municipality : str, optional
        Only spells of residents of this municipality.
    period : tuple of int, optional
        ``(first_year, last_year)``: reference weeks in these calendar years only.
    per_treated : float, default=30
        Comparison draws per placed person (from the risk sets of the placement weeks).  Several
        placed persons share a week, and the match within the week needs enough candidates: with
        few draws per placed person the within-week matches are poor and the bias adjustment carries
        more of the comparison.
    benefit : sequence of str
        Benefit spells on which placements and comparison weeks are taken.
    covariates : sequence of str, default=DESIGN_COVARIATES
        Observables of the corrected design, columns of :func:`~evaltools.data.covariates_at`.
    local_unemployment : mapping, optional
        Unemployment rate by municipality (default: the generator's :data:`MUNICIPALITIES`).

    Returns
    -------
    DesignComparison

    Raises
    ------
    SpecificationError
        If ``covariates`` names a column :func:`~evaltools.data.covariates_at`
        does not return, or ``per_treated`` is not positive.
    DataValidationError
        If no placed person remains, ``hidden`` lacks its columns, or the
        observed outcomes of the placed differ from the simulated factual ones
        (panel and ``potential`` of different draws).

    Examples
    --------
    >>> from evaltools.synth import generate
    >>> draw = generate(seed=11, n_persons=6_000, years=4)  # doctest: +SKIP
    >>> res = design_comparison(draw.panel, draw.truth, draw.hidden, draw.potential,
    ...                         programme="virksomhedscenter", seed=1)  # doctest: +SKIP
    >>> res.table[["design", "estimate", "se", "truth"]]  # doctest: +SKIP
    """
    where = "design_comparison"
    unknown = [c for c in covariates if c not in COVARIATES_AT]
    if unknown:
        raise SpecificationError(f"{where}: covariates {unknown} are not columns of covariates_at; "
                                 f"choose from {list(COVARIATES_AT)}.")
    if not per_treated > 0:
        raise SpecificationError(f"{where}: per_treated must be positive; got {per_treated!r}.")
    check_columns(hidden, ["person_id", "het_type"], where, "hidden")
    unemp = {m[0]: m[1] for m in MUNICIPALITIES} if local_unemployment is None else dict(local_unemployment)
    persons = panel.persons.set_index("person_id")
    spells = build_spells(panel, benefit=list(benefit))
    if municipality is not None:
        spells = spells[spells["person_id"].map(persons["municipality"]).astype(str) == municipality]
    act = panel.events["activation"].rename(columns={"week": "act_week", "end_week": "act_end"})
    first = act.loc[act["kind"] == programme].groupby("person_id")["act_week"].min()
    on = events_in_spells(spells, act, week="act_week", spell_columns=("benefit", "start_week", "end_week"))
    tr = on[(on["kind"] == programme) & (on["act_week"] == on["person_id"].map(first))]
    tr = tr.drop_duplicates("person_id").rename(columns={"act_week": "week"})
    running = tr["week"] == panel.first_week  # started before the window (start clipped): left-censored
    n_running = int(running.sum())
    tr = tr[~running]
    oth = on[(on["kind"] != programme) & ~on["person_id"].isin(first.index)].sort_values("act_week")
    oth = oth.drop_duplicates("person_id").rename(columns={"act_week": "week"})
    # risk sets of the placement weeks: spell weeks before the person's first placement, outside programmes
    pieces = _risk_sets(spells, tr["week"].to_numpy())
    draws = sample_not_yet_treated(pieces, first, per_treated=per_treated, n_treated=len(tr), busy=act,
                                   seed=seed, start="piece_start", end="piece_end")
    ct = draws.data

    cols = ["person_id", "benefit", "start_week", "week"]
    frame = pd.concat([d[cols].assign(group=g) for d, g in zip((tr, ct, oth), _GROUPS, strict=True)],
                      ignore_index=True)
    frame = frame.join(persons[["obs_start", "obs_end"]], on="person_id")
    ok = frame["week"] + horizon - 1 <= frame["obs_end"]
    if period is not None:
        year = pd.Series(decimal_year(frame["week"].to_numpy()), index=frame.index)
        ok &= (year >= period[0]) & (year < period[1] + 1)
    n_left_out = int((~ok).sum())
    frame = frame[ok].reset_index(drop=True)
    frame["y"] = _ys(panel, frame, -1, horizon)
    n_missing_y = int(frame["y"].isna().sum())
    if n_missing_y:
        warnings.warn(f"{where}: {n_missing_y:,} reference rows whose outcome window is not fully observed "
                      "were left out.", MissingValueWarning, stacklevel=2)
        frame = frame[frame["y"].notna()].reset_index(drop=True)
    placed = (frame["group"] == "placed").to_numpy()
    if not placed.any():
        raise DataValidationError(
            f"{where}: no first {programme!r} placement on a {list(benefit)} spell with the whole "
            f"{horizon}-week horizon (municipality={municipality!r}, period={period!r}); choose a larger "
            "area or period."
        )

    X = covariates_at(panel, frame, local_unemployment=unemp)[list(covariates)]
    het = frame["person_id"].map(hidden.set_index("person_id")["het_type"])
    X_or = X.assign(type_low=(het == "low").astype(float), type_high=(het == "high").astype(float))

    # before/after: participants with the full horizon before the start inside their observation window
    ba = frame[placed & (frame["week"] - horizon >= frame["obs_start"])]
    before = _ys(panel, ba, -horizon - 1, horizon)
    after = ba["y"].to_numpy()
    y_placed = frame.loc[placed, "y"].to_numpy()
    y_other = frame.loc[frame["group"] == "other activation", "y"].to_numpy()
    rows = [_mean_row(DESIGNS[0], y_placed), _mean_row(DESIGNS[1], after - before)]
    se_raw = np.sqrt(y_placed.var(ddof=1) / len(y_placed) + y_other.var(ddof=1) / len(y_other))
    rows.append({"design": DESIGNS[2], "estimate": float(y_placed.mean() - y_other.mean()),
                 "se": float(se_raw), "persons": len(y_placed) + len(y_other)})
    # risk-set matching: exact on the placement week, so a placed person is never its own comparison
    is_ctl = (frame["group"] == "not yet placed").to_numpy()
    in_ctl_week = frame["week"].isin(frame.loc[is_ctl, "week"]).to_numpy()
    in_placed_week = frame["week"].isin(frame.loc[placed, "week"]).to_numpy()
    matchable = pd.Series((placed & in_ctl_week) | (is_ctl & in_placed_week), index=frame.index)
    mdata = frame.loc[matchable, ["y", "week"]].assign(treated=placed[matchable.to_numpy()].astype(int))
    for label, Z in ((DESIGNS[3], X), (DESIGNS[4], X_or)):
        d = pd.concat([mdata, Z.loc[mdata.index]], axis=1)
        res = Matching(d, outcome="y", treatment="treated", covariates=list(Z.columns), bias_adjust=True,
                       exact=["week"]).fit()
        rows.append({"design": label, "estimate": float(res.estimate), "se": float(res.bse.iloc[0]),
                     "persons": len(d)})

    # the truth for exactly the placed rows; the observed outcome must be the simulated factual one
    pl = frame.loc[placed, ["person_id", "week", "y"]]
    true = att_for_sample(potential, pl, programme, horizon)
    pot = potential[potential["treatment"].astype(str) == programme].rename(columns={"start_week": "week"})
    y1 = pl.merge(pot, on=["person_id", "week"], how="left")[f"y1_{horizon}"].to_numpy(float)
    differ = y1 != pl["y"].to_numpy(float)
    if differ.any():
        ex = pl.loc[differ, ["person_id", "week"]].head(3).to_dict(orient="records")
        raise DataValidationError(
            f"{where}: the observed outcome of {int(differ.sum()):,} of {len(pl):,} placed persons differs "
            f"from the simulated factual outcome y1_{horizon} (e.g. {ex}); pass the potential outcomes of "
            "this panel."
        )
    true_ba = att_for_sample(potential, ba[["person_id", "week"]], programme, horizon)
    matched = matchable.to_numpy() & placed
    true_m = true if matched.sum() == placed.sum() else att_for_sample(
        potential, frame.loc[matched, ["person_id", "week"]], programme, horizon)
    out = pd.DataFrame(rows)
    out["truth"] = float(true["att"])
    out["truth_se"] = float(true["se"])
    out["truth, all placed in the window"] = truth.att_of(programme, horizon)
    own = {DESIGNS[1]: float(true_ba["att"]), DESIGNS[3]: float(true_m["att"]),
           DESIGNS[4]: float(true_m["att"])}
    out["truth_of_row"] = out["design"].map(own).fillna(float(true["att"]))
    out["bias"] = out["estimate"] - out["truth_of_row"]
    ta = truth.att
    ta = ta[(ta["treatment"] == programme) & (ta["horizon_weeks"] == horizon)]
    counts: dict[str, int | float] = {
        "placed": int(placed.sum()),
        "truth_n": int(true["n_treated"]),
        "att_of_n": int(ta["n_treated"].iloc[0]) if len(ta) else 0,
        "not_yet_placed": int((frame["group"] == "not yet placed").sum()),
        "other_activation": int((frame["group"] == "other activation").sum()),
        "running_at_window_start": n_running,
        "left_out": n_left_out,
        "missing_outcome": n_missing_y,
        "unmatched": int(placed.sum() - matched.sum()),
        "comparison_unused": int((is_ctl & ~in_placed_week).sum()),
        "drawn": draws.n_drawn,
        "busy": draws.n_busy,
        "repeated": draws.n_repeated,
        "truth_before_after": float(true_ba["att"]),
        "before_mean": float(before.mean()),
        "after_mean": float(after.mean()),
    }
    analysis = pd.concat([mdata[["y", "treated"]], X_or.loc[mdata.index]], axis=1)
    return DesignComparison(out, counts, analysis, frame.drop(columns=["obs_start", "obs_end"]))

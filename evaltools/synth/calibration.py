"""Calibration of the synthetic panel to margins reported by the Danish source reports.

The targets live in ``resources/calibration_targets.json`` (one entry per
statistic: ``id`` such as ``"R12"``, ``statistic`` name, ``description``,
``value``, ``tolerance``, ``source``).  :func:`calibration_statistics` computes
every statistic from a :class:`~evaltools.data.panel.RegisterPanel` using only
what a user of real DREAM-like data would have (states, persons, events), and
:func:`calibration_report` sets them against the targets.

The statistics are deliberately simple and self-contained (the
``evaltools.indicators`` package defines the official indicator versions), but
they share the indicators' spell rules: a spell is left-censored only if it
starts in the person's first observed week and that is the panel's first week
(:func:`evaltools.data.left_censored`), and "within N months" of a spell start
means elapsed weeks ``0 .. floor(N * 52 / 12)`` (weeks 0-4 for 1 month, 0-13
for 3 months), as in :func:`evaltools.indicators.first_contact_within`.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd

from evaltools.data.panel import RegisterPanel
from evaltools.data.spells import left_censored
from evaltools.data.weeks import index_to_isoweek, week_month
from evaltools.indicators._spellrules import month_weeks, within_weeks

__all__ = ["calibration_targets", "calibration_statistics", "calibration_report", "benefit_spells"]

_KH = ("kontanthjaelp", "starthjaelp")


def calibration_targets() -> pd.DataFrame:
    """The calibration targets shipped in ``resources/calibration_targets.json``.

    Returns
    -------
    DataFrame
        Columns ``id``, ``statistic``, ``description``, ``value``, ``tolerance``, ``source``.
    """
    text = (
        resources.files("evaltools.synth").joinpath("resources/calibration_targets.json").read_text("utf-8")
    )
    return pd.DataFrame(json.loads(text)["targets"])


def benefit_spells(panel: RegisterPanel, left_censoring: str = "panel_start") -> pd.DataFrame:
    """Benefit spells from the weekly states: runs of consecutive weeks in one benefit group.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    left_censoring : {"panel_start", "obs_start"}, default="panel_start"
        Rule for the ``left_censored`` flag: ``"panel_start"`` flags spells
        starting in the person's first observed week when that is the panel's
        first week (spells starting at a later entry into the population are
        new); ``"obs_start"`` flags every spell starting at ``obs_start`` (the
        older rule).

    Returns
    -------
    DataFrame
        ``person_id``, ``benefit`` (the code table's ``benefit`` group; kontanthjælp
        and starthjælp are merged into ``"kontanthjaelp"``), ``start``, ``end``
        (inclusive week indices), ``left_censored`` (see ``left_censoring``).
    """
    st = panel.states
    group = (
        st["state"].astype(str).map(panel.codes.mapping("benefit")).replace({"starthjaelp": "kontanthjaelp"})
    )
    pid = st["person_id"].to_numpy()
    wk = st["week"].to_numpy().astype(np.int64)
    g = pd.factorize(group)[0]
    new = np.ones(len(st), dtype=bool)
    new[1:] = (pid[1:] != pid[:-1]) | (wk[1:] != wk[:-1] + 1) | (g[1:] != g[:-1])
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(st)] - 1
    out = pd.DataFrame(
        {
            "person_id": pid[starts],
            "benefit": group.to_numpy()[starts],
            "start": wk[starts],
            "end": wk[ends],
        }
    )
    out["left_censored"] = left_censored(
        panel, out["person_id"].to_numpy(), out["start"].to_numpy(), left_censoring, "benefit_spells"
    )[0]
    return out


def _first_event_within(spells: pd.DataFrame, events: pd.DataFrame, months: float) -> np.ndarray:
    """Flag spells with a first event in elapsed weeks 0 .. ``month_weeks(months)`` (and <= end)."""
    ev = events[["person_id", "week"]].sort_values(["person_id", "week"], kind="stable")
    key_e = ev["person_id"].to_numpy().astype(np.int64) * 10_000 + ev["week"].to_numpy()
    key_s = spells["person_id"].to_numpy().astype(np.int64) * 10_000 + spells["start"].to_numpy()
    pos = np.searchsorted(key_e, key_s, side="left")
    posc = np.minimum(pos, max(len(key_e) - 1, 0))
    same = (pos < len(key_e)) & (ev["person_id"].to_numpy()[posc] == spells["person_id"].to_numpy())
    nxt = np.where(same, ev["week"].to_numpy()[posc].astype(float), np.nan)
    return within_weeks(spells["start"].to_numpy(), nxt, spells["end"].to_numpy(), month_weeks(months))


def _readiness_at(panel: RegisterPanel, pid: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Readiness of the latest assessment spell starting on or before (person, week); '' if none."""
    a = panel.events["assessment"].sort_values(["person_id", "week"], kind="stable")
    key_a = a["person_id"].to_numpy() * 10_000 + a["week"].to_numpy()
    key = pid * 10_000 + week
    pos = np.searchsorted(key_a, key, side="right") - 1
    ok = pos >= 0
    posc = np.maximum(pos, 0)
    ok &= a["person_id"].to_numpy()[posc] == pid
    r = a["readiness"].astype(str).to_numpy()[posc]
    return np.where(ok, r, "")


def calibration_statistics(panel: RegisterPanel) -> pd.Series:
    """Compute every calibration statistic of ``resources/calibration_targets.json`` from a panel.

    Parameters
    ----------
    panel : RegisterPanel
        A panel with the event tables ``interview``, ``offer``, ``mentor`` and
        ``assessment`` (as produced by :func:`evaltools.synth.generate`).

    Returns
    -------
    Series
        Indexed by statistic name (the ``statistic`` column of the targets).
    """
    codes = panel.codes
    stats: dict[str, float] = {}
    last = int(panel.persons["obs_end"].max())
    # R1/R2: first interview / first offer within 1 and 3 months of new DP and KH spells, each horizon
    # over the spells observed through its last counted week (as in indicators.first_contact_within)
    sp = benefit_spells(panel)
    sp = sp[~sp["left_censored"]]
    obs_end = panel.persons.set_index("person_id")["obs_end"].reindex(sp["person_id"]).to_numpy()
    for ben, lab in (("adagpenge", "dp"), ("kontanthjaelp", "kh")):
        for ev, rid in (("interview", "r1"), ("offer", "r2")):
            for months, m in ((1, "1m"), (3, "3m")):
                s = sp[
                    (sp["benefit"] == ben).to_numpy()
                    & (sp["start"].to_numpy() + month_weeks(months) <= obs_end)
                ]
                stats[f"{rid}_{lab}_{m}"] = float(_first_event_within(s, panel.events[ev], months).mean())
    # R4-R6: company-oriented share of activation weeks and activation rate
    st = panel.states
    code = st["state"].astype(str)
    benefit = code.map(codes.mapping("benefit")).replace({"starthjaelp": "kontanthjaelp"}).to_numpy()
    act = code.map(codes.mapping("activation")).to_numpy()
    comp = code.map(codes.mapping("company_oriented")).astype(bool).to_numpy()
    is_act = act != "none"
    active_group = np.isin(benefit, ("adagpenge", "kontanthjaelp", "integrationsydelse"))
    dp_act = is_act & (benefit == "adagpenge")
    month = week_month(st["week"].to_numpy())
    monthly = pd.DataFrame({"m": month[dp_act], "c": comp[dp_act]}).groupby("m")["c"].mean()
    stats["r4_dp_company_share_monthly_max"] = float(monthly.max())
    kh_act = is_act & (benefit == "kontanthjaelp")
    stats["r4_dp_minus_kh_company_share"] = float(comp[dp_act].mean() - comp[kh_act].mean())
    stats["r5_activation_rate"] = float(is_act[active_group].mean())
    stats["r6_dp_company_share"] = float(comp[dp_act].mean())
    kh_idx = np.flatnonzero(kh_act)
    rdy = _readiness_at(
        panel, st["person_id"].to_numpy()[kh_idx], st["week"].to_numpy()[kh_idx].astype(np.int64)
    )
    stats["r6_kh_match1_company_share"] = float(comp[kh_idx][rdy == "match1"].mean())
    stats["r6_kh_match2_company_share"] = float(comp[kh_idx][rdy == "match2"].mean())
    # R8-R10: integration programme (first integrationsydelse week <= 156 weeks before the last week)
    iy = benefit == "integrationsydelse"
    first_iy = pd.Series(st["week"].to_numpy()[iy]).groupby(st["person_id"].to_numpy()[iy]).min()
    per = panel.persons.set_index("person_id")
    cohort = first_iy[(first_iy > last - 156)].index.to_numpy()
    cohort = cohort[
        (per.loc[cohort, "origin"].astype(str).to_numpy() == "non_western")
        & (per.loc[cohort, "obs_end"].to_numpy() == last)
    ]
    last_rows = st[st["week"].to_numpy() == last]
    code_last = pd.Series(last_rows["state"].astype(str).to_numpy(), index=last_rows["person_id"].to_numpy())
    c_last = code_last.reindex(cohort)
    selfsup = c_last.isna() | c_last.map(codes.mapping("benefit")).eq("su")
    stats["r8_integration_selfsupport_share"] = float(selfsup.mean())
    on_iy_last = last_rows[
        last_rows["state"].astype(str).map(codes.mapping("benefit")) == "integrationsydelse"
    ]
    r_iy = _readiness_at(panel, on_iy_last["person_id"].to_numpy(), np.full(len(on_iy_last), last, np.int64))
    stats["r9_integration_jobready_share"] = float((r_iy == "match1").mean())
    q = st["week"].to_numpy() > last - 13
    stats["r10_integration_company_share"] = float(comp[iy & q].mean())
    # R12/R13: mentor recipients' profile and mentor spells
    me = panel.events["mentor"]
    mp = me["person_id"].to_numpy()
    mw = me["week"].to_numpy().astype(np.int64)
    rdy = _readiness_at(panel, mp, mw)
    for m in ("match1", "match2", "match3"):
        stats[f"r12_{m}_share"] = float((rdy == m).mean())
    key_s = st["person_id"].to_numpy() * 10_000 + st["week"].to_numpy()
    pos = np.searchsorted(key_s, mp * 10_000 + mw)
    hit = (pos < len(key_s)) & (key_s[np.minimum(pos, len(key_s) - 1)] == mp * 10_000 + mw)
    ben_at = np.where(hit, benefit[np.minimum(pos, len(benefit) - 1)], "self_support")
    ben_at = np.where(ben_at == "su", "self_support", ben_at)
    stats["r12_kh_share"] = float(np.isin(ben_at, ("kontanthjaelp", "integrationsydelse")).mean())
    stats["r12_dp_share"] = float((ben_at == "adagpenge").mean())
    stats["r12_sdp_share"] = float((ben_at == "sygedagpenge").mean())
    stats["r12_selfsupport_share"] = float((ben_at == "self_support").mean())
    pm = per.loc[mp]
    stats["r12_men_share"] = float((pm["sex"].astype(str).to_numpy() == "M").mean())
    stats["r12_nonwestern_share"] = float((pm["origin"].astype(str).to_numpy() == "non_western").mean())
    year = index_to_isoweek(mw)[0]
    stats["r12_under30_share"] = float((year - pm["birth_year"].to_numpy() < 30).mean())
    # public support in the 260 weeks before the mentor start: recorded prior history + coded weeks
    pub = code.map(codes.mapping("public_support")).astype(bool).to_numpy()
    key_p = key_s[pub]
    inside = np.searchsorted(key_p, mp * 10_000 + mw) - np.searchsorted(key_p, mp * 10_000 + mw - 260)
    before = np.clip(260 - (mw - pm["obs_start"].to_numpy()), 0, 260)
    hist = inside + pm["support_weeks_prior5y"].to_numpy() * before / 260.0
    stats["r12_history_ge_4_5y_share"] = float((hist >= 234).mean())
    stats["r12_history_gt_4y_share"] = float((hist > 208).mean())
    stats["r12_history_lt_0_5y_share"] = float((hist < 26).mean())
    full = mw <= last - 52
    d = (me["end_week"].to_numpy() - mw + 1)[full]
    stats["r13_duration_le8_share"] = float((d <= 8).mean())
    stats["r13_duration_9_16_share"] = float(((d > 8) & (d <= 16)).mean())
    stats["r13_mean_hours"] = float(me["hours_per_week"].mean())
    stats["r13_mean_hours_personal"] = float(
        me.loc[me["reason"] == "personal_social", "hours_per_week"].mean()
    )
    stats["r13_internal_share"] = float((me["provider"] == "internal").mean())
    stats["r13_price_below_450_share"] = float((me["hourly_price_dkk"] < 450).mean())
    return pd.Series(stats, name="statistic")


def calibration_report(panel: RegisterPanel) -> pd.DataFrame:
    """Targets next to the panel's statistics.

    Parameters
    ----------
    panel : RegisterPanel
        The panel to check.

    Returns
    -------
    DataFrame
        The targets plus ``observed``, ``difference`` and ``ok``
        (``|observed - value| <= tolerance``).
    """
    t = calibration_targets()
    obs = calibration_statistics(panel)
    t["observed"] = obs.reindex(t["statistic"]).to_numpy()
    t["difference"] = t["observed"] - t["value"]
    t["ok"] = t["difference"].abs() <= t["tolerance"]
    return t

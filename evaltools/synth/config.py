"""Parameters of the synthetic register-panel generator (:class:`SynthConfig`).

Every behavioural parameter of :func:`evaltools.synth.generate` is a field of
:class:`SynthConfig`; the *true causal effects* are fields too (``lockin``,
``post``, ``sanction_effect``, ``mentor_edu_effect``, ``mentor_job_effect``),
so a user can change the truth and check that an estimator follows it.

Units: hazards are **weekly probabilities** of the event in the next week (a
discrete-time model); multipliers act on those probabilities (they are capped
at 0.95 after multiplication, which is never binding at the default values).
Effect magnitudes follow the Danish evaluation literature (sanctions raise the
exit rate by 50 to 100 % and fade after about three months, Svarer 2011,
*Economica* 78; lock-in during company-oriented programmes and a positive
post-programme effect, largest for wage subsidy, Rosholm & Svarer 2008,
*Scandinavian Journal of Economics* 110; a small mentor effect on education);
descriptive margins are calibrated to the source reports' figures (see
``resources/calibration_targets.json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from evaltools._validation import check_option

__all__ = ["SynthConfig", "PROGRAMMES", "BENEFITS", "MUNICIPALITIES", "HET_TYPES"]

#: Programme kinds simulated (index 1..5 in the engine; 0 = no programme).
PROGRAMMES: tuple[str, ...] = (
    "virksomhedspraktik",
    "loentilskud",
    "virksomhedscenter",
    "saerligt_forloeb",
    "vejledning_opkvalificering",
)

#: Benefit states simulated (engine codes 2..6).
BENEFITS: tuple[str, ...] = (
    "adagpenge",
    "kontanthjaelp",
    "integrationsydelse",
    "sygedagpenge",
    "foertidspension",
)

#: Labels of the unobserved heterogeneity types (mass points).
HET_TYPES: tuple[str, ...] = ("low", "medium", "high")

#: Synthetic frame conditions of 20 municipalities: (name, local unemployment rate in %,
#: share of non-Western residents, population weight).  Names are real Danish
#: municipalities; the numbers are invented for the simulation (plausible ranges only).
MUNICIPALITIES: tuple[tuple[str, float, float, float], ...] = (
    ("København", 6.5, 0.16, 0.16),
    ("Aarhus", 5.8, 0.12, 0.10),
    ("Odense", 6.9, 0.14, 0.07),
    ("Aalborg", 6.1, 0.10, 0.07),
    ("Vejle", 4.9, 0.08, 0.05),
    ("Herning", 4.1, 0.06, 0.04),
    ("Nyborg", 5.3, 0.05, 0.02),
    ("Lyngby-Taarbæk", 3.4, 0.08, 0.03),
    ("Herlev", 4.6, 0.15, 0.03),
    ("Albertslund", 7.6, 0.24, 0.03),
    ("Ishøj", 8.1, 0.28, 0.02),
    ("Brøndby", 7.8, 0.25, 0.03),
    ("Fredericia", 6.0, 0.09, 0.04),
    ("Svendborg", 5.9, 0.05, 0.04),
    ("Faxe", 5.0, 0.04, 0.03),
    ("Køge", 4.8, 0.07, 0.04),
    ("Lemvig", 3.5, 0.03, 0.02),
    ("Thisted", 3.9, 0.03, 0.03),
    ("Varde", 3.7, 0.04, 0.04),
    ("Vejen", 4.0, 0.05, 0.11),
)


def _d(**kw: float) -> dict[str, float]:
    return dict(kw)


@dataclass(frozen=True)
class SynthConfig:
    """Documented parameters of the synthetic DREAM-like panel generator.

    Parameters
    ----------
    het_probs : tuple of float
        Population shares of the unobserved types ``("low", "medium", "high")``
        employability.  The type is **not** in the person table (only in
        ``SynthResult.hidden``); it shifts the exit, inflow, programme, sanction
        and mentor hazards, so programme assignment is selected on unobservables.
    het_exit : tuple of float
        Multiplier of the exit-to-self-support hazard per type.
    het_programme : tuple of float
        Multiplier of the programme-start hazard per type (weaker types are
        activated more often).
    het_company_tilt : tuple of float
        Multiplier of the choice weights of company-oriented programmes
        (praktik, wage subsidy) per type: stronger types are placed in companies
        more often (positive selection into company-oriented programmes).
    het_sanction, het_mentor, het_inflow : tuple of float
        Multipliers of the sanction, mentor-start and benefit-inflow hazards per type.
    burn_in_years : int
        ISO years simulated before the window and then discarded (default 3), so that
        the stocks, spell durations in progress and the førtidspension stock at the
        window start follow the model's own dynamics (see ``_engine``).  0 starts
        the window from the rough initial state below.
    share_on_benefit_at_start : float
        Base share of persons on a benefit at the start of the burn-in (modified by
        type and history).
    entrants_per_year : float
        Share of the persons (per window year) who turn 16 during the window and enter
        the population then (``obs_start`` = that week; self-supporting at entry).
        They replace the persons leaving at 65, by death or emigration, so that
        the population and the benefit stocks do not drift with an ageing closed cohort.
    foep_at_burn_in, foep_age_power : float
        Førtidspension stock at the start of the burn-in: prevalence
        ``foep_at_burn_in * (history share)^2 * clip((age - 20) / 25, 0, 2)^foep_age_power``.
    foep_age_slope : float
        The førtidspension hazards in ``exit_foep`` are multiplied by
        ``exp(foep_age_slope * (age - 45))`` (current age), so that inflow and the
        exits at 65 balance and the stock stays flat.
    exit_job : dict
        Baseline weekly hazard of exit to self-support by benefit.
    exit_edu_young, exit_edu_other : float
        Weekly hazard of exit to ordinary education (SU) for under-30s and others
        on kontanthjælp/integrationsydelse/a-dagpenge.
    exit_sick, exit_foep : dict
        Weekly hazards of moving to sygedagpenge and to førtidspension by benefit
        (førtidspension by readiness for kontanthjælp).
    dp_max_weeks : int
        A-dagpenge exhaustion: after this many weeks the spell moves to kontanthjælp.
    integration_weeks : int
        Length of the integration programme (weeks on integrationsydelse before
        moving to kontanthjælp).
    inflow : float
        Baseline weekly hazard of a new benefit spell for a self-supporting person.
    edu_exit : float
        Weekly hazard of leaving education for a job.
    programme_hazard : dict
        Weekly programme-start hazards by benefit and elapsed-duration band
        (``(weeks 0-4, weeks 5-13, weeks 14+)``).
    programme_mix : dict
        Choice weights of the five programmes by benefit/readiness.
    programme_duration : dict
        ``(min, max)`` planned programme length in weeks (uniform).
    interview_first : dict
        Weekly hazard of the first interview by benefit in weeks 0-4 and 5-13 of a spell.
    interview_followup : float
        Weekly hazard of a follow-up interview after the first.
    sanction_hazard : dict
        Weekly sanction hazard by benefit.
    mentor_at_company, mentor_at_course : float
        Probability that a company-oriented programme / special course starts with
        an (internal) mentor, before the person multipliers.
    mentor_internal_max : float
        Upper bound of the internal-mentor probability.  The product ``q`` of the
        base probability and the person multipliers (type, sex, origin, age,
        history, readiness) is mapped to ``m * (1 - exp(-q / m))`` with
        ``m = mentor_internal_max`` (about ``q`` for small ``q``, never above
        ``m``), so every programme start has a chance both with and without a
        mentor (overlap).  A hard cap at 1 would make the "same programme
        without a mentor" counterfactual unobservable for the persons at the cap.
    mentor_max_weeks : int or None
        **Policy.**  Maximum length of a mentor spell in weeks (``None``: no
        cap).  Longer drawn spells starting in the observation window end
        after ``mentor_max_weeks`` weeks, and with them the mentor effect (the
        burn-in, which is history, is not capped, so the population at the
        window start is the same).  Used to simulate the 13-week cap of
        mploy (2011)'s recommendation 5 on the same random numbers (notebook 01).
    mentor_passive : dict
        Weekly hazard of an external mentor outside programmes, by benefit.
    mentor_retention : float
        Probability of an external retention mentor at exit to a job or education
        (multiplied by the history share), giving mentor recipients who are self-supporting.
    lockin : dict
        **True effect.** Multiplier of the exit-to-self-support hazard while in each programme.
    post : dict
        **True effect.** Multiplier of the exit-to-self-support hazard after completing
        each programme, for the rest of the benefit spell (the latest completed programme counts).
    sanction_effect : tuple of (int, float)
        **True effect.** ``(upper week bound, multiplier)`` bands of the
        exit-to-self-support hazard by weeks since the latest sanction (0-based; the
        sanction week itself is week 0), fading to 1.
    mentor_edu_effect, mentor_job_effect : float
        **True effects.** Multipliers of the exit-to-education and exit-to-self-support
        hazards during a mentor spell.
    emigration, emigration_immigrant : float
        Weekly emigration hazards (code 997) for Danes and for immigrants.
    share_arrivals : float
        Share of refugees/family-reunified persons who arrive during the window
        (they start on integrationsydelse).
    """

    het_probs: tuple[float, float, float] = (0.30, 0.45, 0.25)
    het_exit: tuple[float, float, float] = (0.40, 1.0, 2.0)
    het_programme: tuple[float, float, float] = (1.30, 1.0, 0.75)
    het_company_tilt: tuple[float, float, float] = (0.70, 1.0, 1.50)
    het_sanction: tuple[float, float, float] = (1.80, 1.0, 0.50)
    het_mentor: tuple[float, float, float] = (1.80, 1.0, 0.50)
    het_inflow: tuple[float, float, float] = (2.50, 1.0, 0.45)
    burn_in_years: int = 3
    share_on_benefit_at_start: float = 0.26
    foep_at_burn_in: float = 0.16
    foep_age_power: float = 3.0
    foep_age_slope: float = 0.08
    entrants_per_year: float = 0.02
    exit_job: dict[str, float] = field(
        default_factory=lambda: _d(
            adagpenge=0.050, kontanthjaelp=0.016, integrationsydelse=0.0035, sygedagpenge=0.070
        )
    )
    exit_edu_young: float = 0.008
    exit_edu_other: float = 0.0008
    exit_sick: dict[str, float] = field(
        default_factory=lambda: _d(adagpenge=0.002, kontanthjaelp=0.003, integrationsydelse=0.002)
    )
    exit_foep: dict[str, float] = field(
        default_factory=lambda: _d(match1=0.00005, match2=0.0006, match3=0.0020, sygedagpenge=0.00075)
    )
    dp_max_weeks: int = 104
    integration_weeks: int = 156
    inflow: float = 0.0030
    edu_exit: float = 0.012
    programme_hazard: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {
            "adagpenge": (0.013, 0.028, 0.040),
            "kontanthjaelp": (0.110, 0.050, 0.035),
            "integrationsydelse": (0.090, 0.050, 0.030),
        }
    )
    programme_mix: dict[str, tuple[float, float, float, float, float]] = field(
        default_factory=lambda: {
            # praktik, loentilskud, virksomhedscenter, saerligt forloeb, vejledning
            "adagpenge": (0.25, 0.30, 0.00, 0.00, 0.45),
            "kontanthjaelp_match1": (0.16, 0.09, 0.05, 0.10, 0.60),
            "kontanthjaelp_match2": (0.08, 0.03, 0.07, 0.32, 0.50),
            "kontanthjaelp_match3": (0.05, 0.00, 0.05, 0.45, 0.45),
            "integrationsydelse": (0.28, 0.07, 0.10, 0.00, 0.55),
        }
    )
    programme_duration: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {
            "virksomhedspraktik": (4, 13),
            "loentilskud": (8, 18),
            "virksomhedscenter": (8, 26),
            "saerligt_forloeb": (8, 20),
            "vejledning_opkvalificering": (3, 10),
        }
    )
    interview_first: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "adagpenge": (0.070, 0.230),
            "kontanthjaelp": (0.215, 0.110),
            "integrationsydelse": (0.250, 0.120),
            "sygedagpenge": (0.080, 0.080),
        }
    )
    interview_followup: float = 0.08
    sanction_hazard: dict[str, float] = field(
        default_factory=lambda: _d(adagpenge=0.0006, kontanthjaelp=0.0045, integrationsydelse=0.0040)
    )
    mentor_at_company: float = 0.50
    mentor_at_course: float = 0.40
    mentor_internal_max: float = 0.85
    mentor_max_weeks: int | None = None
    mentor_passive: dict[str, float] = field(
        default_factory=lambda: _d(
            adagpenge=0.0, kontanthjaelp=0.0007, integrationsydelse=0.0006, sygedagpenge=0.0018
        )
    )
    mentor_retention: float = 0.012
    lockin: dict[str, float] = field(
        default_factory=lambda: _d(
            virksomhedspraktik=0.75,
            loentilskud=0.60,
            virksomhedscenter=0.75,
            saerligt_forloeb=0.80,
            vejledning_opkvalificering=0.85,
        )
    )
    post: dict[str, float] = field(
        default_factory=lambda: _d(
            virksomhedspraktik=1.45,
            loentilskud=2.20,
            virksomhedscenter=1.50,
            saerligt_forloeb=1.10,
            vejledning_opkvalificering=1.05,
        )
    )
    sanction_effect: tuple[tuple[int, float], ...] = ((4, 1.9), (8, 1.6), (13, 1.3))
    mentor_edu_effect: float = 1.45
    mentor_job_effect: float = 1.05
    emigration: float = 0.0002
    emigration_immigrant: float = 0.0008
    share_arrivals: float = 0.5

    def __post_init__(self) -> None:
        b = self.burn_in_years
        if not isinstance(b, (int, np.integer)) or isinstance(b, bool) or not 0 <= b <= 30:
            from evaltools.exceptions import SpecificationError

            raise SpecificationError(
                f"SynthConfig.burn_in_years must be an int in [0, 30]. Got {b!r} instead."
            )
        for name in ("lockin", "post"):
            got = getattr(self, name)
            if set(got) != set(PROGRAMMES):
                raise _effect_error(name, got)
        if abs(sum(self.het_probs) - 1.0) > 1e-9:
            from evaltools.exceptions import SpecificationError

            raise SpecificationError(
                f"SynthConfig.het_probs must sum to 1. Got {self.het_probs} (sum {sum(self.het_probs):.6g})."
            )

        mw = self.mentor_max_weeks
        if mw is not None and (isinstance(mw, bool) or not isinstance(mw, int | np.integer) or mw < 1):
            from evaltools.exceptions import SpecificationError

            raise SpecificationError(
                f"SynthConfig.mentor_max_weeks must be None or an int >= 1 (weeks). Got {mw!r}."
            )
        if not 0.0 < self.mentor_internal_max <= 1.0:
            from evaltools.exceptions import SpecificationError

            raise SpecificationError(
                f"SynthConfig.mentor_internal_max must be in (0, 1]. Got {self.mentor_internal_max!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        """All parameters as a JSON-serialisable dict (tuples become lists)."""
        return asdict(self)

    def sanction_multiplier(self, weeks_since: int) -> float:
        """True exit-to-self-support multiplier ``weeks_since`` weeks after a sanction."""
        for upper, mult in self.sanction_effect:
            if weeks_since < upper:
                return float(mult)
        return 1.0

    @staticmethod
    def programme_index(kind: str) -> int:
        """Engine index (1-based) of a programme name."""
        check_option("programme", kind, PROGRAMMES, "SynthConfig.programme_index")
        return PROGRAMMES.index(kind) + 1


def _effect_error(name: str, got: dict[str, float]) -> Exception:
    """Build the error for an incomplete effect dictionary."""
    from evaltools.exceptions import SpecificationError

    return SpecificationError(
        f"SynthConfig.{name} must give a multiplier for every programme {sorted(PROGRAMMES)}. "
        f"Got keys {sorted(got)} instead."
    )

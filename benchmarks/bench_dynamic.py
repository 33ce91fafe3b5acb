"""Benchmark: dynamic evaluation ("treated at elapsed week u vs not yet treated") on a synthetic panel.

Target (selection_anchors.md section 5, deliverable 3): 1e6 person-weeks in the risk sets with 50
covariates in under 5 minutes on the 2-core CI machine.  The benchmark generates a panel with
:func:`evaltools.synth.generate` (not timed), then times the risk-set construction
(``DynamicEvaluation(...)``: spells, risk sets, history covariates, outcomes) and ``fit()`` separately,
reports the person-weeks in the risk set (and, for ``censor_later``, the hazard rows of the
censoring model) and extrapolates linearly to 1e6 risk-set person-weeks.  ``--extra-covariates K`` adds
K standard-normal person-level covariates (through ``extra``) so that the design has about
``K + 13`` columns.

Timing note: the per-band propensity logits are dense Newton steps (BLAS ``gemm``).  On a shared,
over-subscribed machine OpenBLAS' two threads slowed these down by 10-15x (measured: one 35k x 51 logit
fit 1.4 s with 2 threads at load 5 vs 0.09 s with ``OPENBLAS_NUM_THREADS=1``), so ``fit()`` now runs
with one BLAS thread (``threadpoolctl``) whatever the environment says.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_dynamic.py --persons 5000                 # quick
    PYTHONPATH=. .venv/bin/python benchmarks/bench_dynamic.py --persons 20000 --extra-covariates 36
    PYTHONPATH=. .venv/bin/python benchmarks/bench_dynamic.py --persons 20000 --comparison censor_later
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import time

import numpy as np
import pandas as pd

from evaltools.selection.dynamic import DynamicEvaluation
from evaltools.synth import SynthConfig, generate

COV = ["sex", "education", "origin", "insured", "support_weeks_prior5y", "readiness_spell"]
BANDS = [(0, 4), (5, 13), (14, 26), (27, 52)]


def config() -> SynthConfig:
    """Wage subsidy common in a-dagpenge/kontanthjaelp with a flat start hazard (as the Monte Carlo test)."""
    base = SynthConfig()
    mix = dict(base.programme_mix)
    mix["adagpenge"] = (0.10, 0.80, 0.0, 0.0, 0.10)
    mix["kontanthjaelp_match1"] = (0.10, 0.60, 0.05, 0.05, 0.20)
    mix["kontanthjaelp_match2"] = (0.10, 0.50, 0.05, 0.15, 0.20)
    ph = {k: (0.02, 0.02, 0.02) for k in ("adagpenge", "kontanthjaelp", "integrationsydelse")}
    return dataclasses.replace(
        base, post=dict(base.post, loentilskud=3.5), programme_mix=mix, programme_hazard=ph
    )


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extra-covariates", type=int, default=0, help="extra N(0,1) person covariates")
    comparisons = ["not_yet_treated", "censor_later", "never_treated"]
    ap.add_argument("--comparison", default="not_yet_treated", choices=comparisons)
    ap.add_argument("--estimator", default="ipw", choices=["ipw", "aipw"])
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    res = generate(config(), seed=args.seed, n_persons=args.persons, years=args.years, att=False)
    t_gen = time.perf_counter() - t0
    rng = np.random.default_rng(args.seed)
    extra = res.hidden[["person_id", "het_type"]].copy()
    names = [f"z{k}" for k in range(args.extra_covariates)]
    if names:
        extra = pd.concat(
            [extra, pd.DataFrame(rng.normal(size=(len(extra), len(names))), columns=names)], axis=1
        )
    a = res.panel.events["assessment"]
    spell_cov = a.rename(columns={"spell_start_week": "start_week", "readiness": "readiness_spell"})[
        ["person_id", "start_week", "readiness_spell"]
    ]

    t0 = time.perf_counter()
    de = DynamicEvaluation(
        res.panel,
        kind="loentilskud",
        benefit=["adagpenge", "kontanthjaelp"],
        covariates=[*COV, "het_type", *names],
        elapsed=BANDS,
        extra=extra,
        spell_covariates=spell_cov,
        comparison=args.comparison,
        estimator=args.estimator,
    )
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = de.fit(progress=False)
    t_fit = time.perf_counter() - t0

    rows = int(de.counts["rows"])
    hazard_rows = int(len(de._hazard)) if args.comparison == "censor_later" else 0
    total = t_build + t_fit
    out = {
        "persons": args.persons,
        "comparison": args.comparison,
        "estimator": args.estimator,
        "risk_set_person_weeks": rows,
        "hazard_person_weeks": hazard_rows,
        "design_columns": len(de.design_columns),
        "treated": int(de.counts["treated"]),
        "seconds_generate": round(t_gen, 2),
        "seconds_risk_sets": round(t_build, 2),
        "seconds_fit": round(t_fit, 2),
        "seconds_per_1e6_person_weeks": round(total / rows * 1e6, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
        "pooled": round(float(fit.pooled), 4),
        "pooled_se": round(float(fit.bse["pooled"]), 4),
    }
    print(
        f"dynamic evaluation ({args.comparison}, {args.estimator}): {args.persons:,} persons, "
        f"{rows:,} risk-set person-weeks"
        + (f" + {hazard_rows:,} hazard rows" if hazard_rows else "")
        + f", {out['design_columns']} design columns\n"
        f"  risk sets {t_build:.2f} s, fit {t_fit:.2f} s (generate {t_gen:.1f} s, not counted)\n"
        f"  extrapolated to 1e6 risk-set person-weeks: {out['seconds_per_1e6_person_weeks']:.0f} s "
        f"(target < 300 s); peak RSS {out['max_rss_mb']:.0f} MB"
    )
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

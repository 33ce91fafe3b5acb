"""The attacker of evaltools.reporting.audit against an independent brute-force linear program."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from evaltools.exceptions import DisclosureWarning
from evaltools.reporting import Release, audit


def _cube(rng, shape=(4, 3, 2)):
    levels = [[f"{d}{i}" for i in range(n)] for d, n in zip("abc", shape)]
    rows = list(itertools.product(*levels))
    persons = rng.choice(
        [0, 1, 2, 3, 5, 8, 13, 21, 40], size=len(rows), p=[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]
    )
    return pd.DataFrame(rows, columns=["a", "b", "c"]).assign(persons=persons)


def _tables(cube):
    out = {"abc": (cube, ["a", "b", "c"])}
    for keys in (["a", "b"], ["a", "c"], ["b", "c"], ["a"], []):
        t = (
            cube.groupby(keys, as_index=False)["persons"].sum()
            if keys
            else pd.DataFrame({"persons": [cube["persons"].sum()]})
        )
        out["".join(keys) or "total"] = (t, keys)
    return out


def _brute_force(tables, masks, name, row):
    """Min and max of one masked cell over every non-negative cube consistent with the published cells."""
    cube = tables["abc"][0]
    idx = {tuple(r): i for i, r in enumerate(cube[["a", "b", "c"]].itertuples(index=False))}
    a_eq, b_eq = [], []
    target = None
    for nm, (t, keys) in tables.items():
        for i, r in t.iterrows():
            vec = np.zeros(len(idx))
            for key, j in idx.items():
                if all(key["abc".index(k)] == r[k] for k in keys):
                    vec[j] = 1.0
            if nm == name and i == row:
                target = vec
            if not masks[nm][i]:
                a_eq.append(vec)
                b_eq.append(r["persons"])
    kw = dict(A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None), method="highs")
    lo = linprog(target, **kw)
    hi = linprog(-target, **kw)
    return np.ceil(lo.fun - 1e-6), (np.floor(-hi.fun + 1e-6) if hi.status == 0 else np.inf)


@pytest.mark.parametrize("seed", range(6))
def test_audit_bounds_equal_brute_force_and_joint_protection_holds(seed):
    rng = np.random.default_rng(seed)
    tables = _tables(_cube(rng))
    rel = Release()
    for nm, (t, keys) in tables.items():
        rel.add(t, name=nm, keys=keys, count_col="persons", family="cube")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisclosureWarning)
        for prot in (rel.protect(joint=False), rel.protect()):
            masks = {nm: prot.row_mask(nm) for nm in tables}
            rep = audit(prot)
            assert len(rep.cells) == sum(int(m.sum()) for m in masks.values())
            for _, c in rep.cells.iterrows():
                lo, hi = _brute_force(tables, masks, c["table"], c["row"])
                assert (c["lower"], c["upper"]) == (lo, hi), (seed, c.to_dict())
            if prot.joint:
                assert rep.ok, rep.cells[rep.cells["narrow"]]
                loss = prot.information_loss()
                assert loss.iloc[-1]["masked"] >= loss.iloc[-1]["primary"]

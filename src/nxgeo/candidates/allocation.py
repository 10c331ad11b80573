"""Water allocation of candidate parcels (以水定地, docs/domain.md §5): within each county, the
candidates compete for the county's headroom.

Options
-------
Every eligible parcel has an ordered list of options (target, use), built by `build_options`:

1. its recommended (initial) target and use;
2. when that use is ``cropland`` or ``cropland_dry`` (A, D reclamation, B agriculture): the
   parcel's best green use (``green_use``; A, D: the green use itself, B: ``ecological``);
3. then the uses after the current one in ``water.fallback_chain`` (forest -> shrub -> grass)
   that are suitable for the parcel (``suitable_uses``);
4. last, ``water.fallback_final`` (``natural_recovery``: 自然恢复/封育, no water), unless the
   list already ends with an option that needs no water (null: no such option; a parcel
   nothing fits is left unallocated).

An option is kept only when it needs strictly less water than the option before it, so the
list ends at the first use that needs none. Demand (m3/yr) = area_ha x demand per ha from the
water-demand table at the parcel's mean precipitation (``nxgeo.water.demand_per_use``: a use
needs water only below its rain-fed limit ``water.rainfed_above_precipitation_mm``); uses
``none`` and ``natural_recovery`` need none.
Benefit = ``water.benefit[use]`` per ha x area_ha (``water.benefit_default`` for uses not
listed).

Solvers
-------
- ``greedy`` (default): parcels in order of priority = benefit per m3 of their first option
  (0 m3 -> first), ties by parcel_id; each takes its first option that fits what is left
  (an option needing 0 m3 always fits).
- ``exact``: scipy.optimize.milp (HiGHS), per county: binary x[p, o], Σ_o x[p, o] <= 1,
  Σ demand·x <= max(headroom, 0), maximise Σ benefit·x. The solution is checked against the
  budget; should HiGHS stop early (time limit) with less benefit than greedy, greedy's
  allocation is kept, so exact >= greedy always.

A county with headroom <= 0 gets only uses that need no water. A parcel that gets none of its
options is not allocated, reason ``water_budget``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keys import normalize_adcode
from ..water import demand_per_use
from .decide import CROPLAND_USES, GREEN_TARGET_FALLBACK, NATURAL, NO_WATER_USES

log = logging.getLogger("nxgeo.candidates")

OPTION_COLUMNS = ["parcel_id", "adcode", "opt_rank", "target", "use", "demand_m3", "benefit"]


def _benefit_table(water_cfg: Mapping) -> tuple[dict, float]:
    return (
        {str(k): float(v) for k, v in water_cfg["benefit"].items()},
        float(water_cfg["benefit_default"]),
    )


def build_options(df: pd.DataFrame, demand_table: pd.DataFrame, water_cfg: Mapping) -> pd.DataFrame:
    """Long table of the options of every eligible parcel (rule in the module docstring).

    `df` needs parcel_id, adcode, pathway, eligible, initial_target, initial_use, green_use,
    suitable_uses (";"-list), area_ha, precip_mean_mm.
    """
    chain = [str(u) for u in water_cfg["fallback_chain"]]
    final = water_cfg["fallback_final"]
    if final not in (None, NATURAL):
        raise InputError(f"water.fallback_final must be {NATURAL} or null, not {final!r}")
    rules = water_cfg["rainfed_above_precipitation_mm"]
    benefit, bdefault = _benefit_table(water_cfg)
    elig = df[df["eligible"].astype(bool) & (df["initial_target"].fillna("").astype(str) != "")]
    precip = pd.to_numeric(elig["precip_mean_mm"], errors="coerce").to_numpy(float)
    # demand per ha of every use at every parcel's precipitation (NaN precipitation: nominal)
    per_ha = demand_per_use(demand_table, precip, rules)
    nominal = demand_per_use(demand_table, rainfed_above_mm=rules)
    rows = []
    for i, r in enumerate(elig.itertuples(index=False)):
        t0, u0 = str(r.initial_target), str(r.initial_use)
        suit = set(str(getattr(r, "suitable_uses", "") or "").split(";")) - {""}
        opts = [(t0, u0)]
        cur = u0
        if u0 in CROPLAND_USES:
            g = str(getattr(r, "green_use", "") or NATURAL)
            tg = g if r.pathway in GREEN_TARGET_FALLBACK else "ecological"
            opts.append((tg, g))
            cur = g
        if cur in chain:
            for v in chain[chain.index(cur) + 1 :]:
                if v in suit:
                    tv = v if opts[-1][0] == opts[-1][1] else opts[-1][0]
                    opts.append((tv, v))
        if final is not None:
            opts.append((NATURAL, NATURAL))
        area = float(r.area_ha)
        kept: list[tuple[str, str, float]] = []  # (target, use, demand m3)
        last = np.inf
        for t, u in opts:
            if u in NO_WATER_USES:
                d_ha = 0.0
            elif u in per_ha:
                d_ha = float(np.asarray(per_ha[u])[i])
                if np.isnan(d_ha):
                    d_ha = nominal[u]
            else:
                raise InputError(
                    f"no water demand for use {u!r} (parcel {r.parcel_id}); add a row "
                    f"`{u},<m3 per ha>` to the water-demand table"
                )
            d = d_ha * area
            if kept and not d < last:
                continue
            kept.append((t, u, d))
            last = d
            if d == 0:
                break
        for k, (t, u, d) in enumerate(kept):
            rows.append((r.parcel_id, r.adcode, k, t, u, d, benefit.get(u, bdefault) * area))
    out = pd.DataFrame(rows, columns=OPTION_COLUMNS)
    out["adcode"] = normalize_adcode(out["adcode"]).to_numpy() if len(out) else out["adcode"]
    return out


# --------------------------------------------------------------------------------------------
# Solvers (one county)


def _greedy_county(opts: pd.DataFrame, cap: float, chosen: dict | None = None) -> dict:
    """{parcel_id: option row index} for one county: parcels in priority order (benefit per
    m3 of the first option, 0 m3 first; ties by parcel_id) take their first option that fits
    what is left. Parcels already in `chosen` keep their option (used by the exact solver to
    fill up: never lowers the benefit, and every option needing no water is taken)."""
    chosen = dict(chosen or {})
    used = float(opts.loc[list(chosen.values()), "demand_m3"].sum()) if chosen else 0.0
    first = opts[opts["opt_rank"] == 0]
    d0 = first["demand_m3"].to_numpy(float)
    b0 = first["benefit"].to_numpy(float)
    ratio = np.where(d0 > 0, b0 / np.where(d0 > 0, d0, 1.0), np.inf)
    order = np.lexsort((first["parcel_id"].to_numpy(str), -ratio))
    pids = opts["parcel_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])  # opts sorted by parcel, rank
    ends = np.r_[starts[1:], len(opts)]
    span = dict(zip(pids[starts], zip(starts, ends)))
    dem = opts["demand_m3"].to_numpy(float)
    index = opts.index.to_numpy()
    for pid in first["parcel_id"].to_numpy()[order]:
        if pid in chosen:
            continue
        s0, s1 = span[pid]
        for k in range(s0, s1):
            d = dem[k]
            if d == 0 or used + d <= cap:
                chosen[pid] = index[k]
                used += d
                break
    return chosen


class GreedyDraws:
    """The greedy allocation of `allocate(..., solver="greedy")` for one set of options,
    repeated with other benefits, demands and headrooms (the rank-stability draws,
    nxgeo.stability): the options are sorted and indexed once, and each call is one pass over
    the parcels of every county, without a DataFrame per county.

    Called with options that have the rows (index) of the construction and any benefit and
    demand_m3, and a headroom per county, it returns `allocate`'s assignment columns
    parcel_id, allocated, opt_rank: the same selection, option for option (the same order,
    ties and float sums; tests/test_allocation.py compares them on random options).
    """

    def __init__(self, options: pd.DataFrame):
        opts = options.sort_values(["adcode", "parcel_id", "opt_rank"], kind="stable")
        self.index = options.index
        self.rows = options.index.get_indexer(opts.index)  # sorted position -> options row
        ad = opts["adcode"].to_numpy()
        pid = opts["parcel_id"].to_numpy()
        rank = opts["opt_rank"].to_numpy()
        n = len(opts)
        new = np.r_[True, (pid[1:] != pid[:-1]) | (ad[1:] != ad[:-1])] if n else np.zeros(0, bool)
        starts = np.flatnonzero(new)
        keep = rank[starts] == 0 if n else np.zeros(0, bool)  # `allocate` walks first options
        self.starts = starts[keep]
        self.ends = np.r_[starts[1:], n][keep]
        self.pids = pid[self.starts]
        self.counties, county = np.unique(ad[self.starts].astype(str), return_inverse=True)
        self.county = county.astype(np.int64)
        self.opt_rank = rank
        self.all_counties = set(ad.astype(str))

    def __call__(self, options: pd.DataFrame, headroom: Mapping | pd.Series) -> pd.DataFrame:
        if not options.index.equals(self.index):
            raise ValueError("GreedyDraws: the options' rows differ from the construction's")
        hr = pd.Series(headroom, dtype=float) if not isinstance(headroom, pd.Series) else headroom
        hr = pd.Series(hr.to_numpy(float), index=normalize_adcode(pd.Series(hr.index)).to_numpy())
        missing = sorted(self.all_counties - set(hr.index))
        if missing:
            raise InputError(
                f"no water headroom (budget row) for county(ies) {missing}, which have "
                f"candidate parcels"
            )
        cap = np.maximum(hr.reindex(self.counties).to_numpy(float), 0.0)  # NaN stays NaN
        dem = options["demand_m3"].to_numpy(float)[self.rows]
        ben = options["benefit"].to_numpy(float)[self.rows]
        d0, b0 = dem[self.starts], ben[self.starts]
        ratio = np.where(d0 > 0, b0 / np.where(d0 > 0, d0, 1.0), np.inf)
        # ties: the sorted position, which is parcel_id order within the county
        order = np.lexsort((-ratio, self.county))
        chosen = self._walk(order, dem.tolist(), cap.tolist())
        got = chosen >= 0
        return pd.DataFrame(
            {
                "parcel_id": self.pids,
                "allocated": got,
                "opt_rank": np.where(got, self.opt_rank[np.where(got, chosen, 0)], -1).astype(int),
            }
        )

    def _walk(self, order: np.ndarray, dem: list, cap: list) -> np.ndarray:
        """Sorted-option position chosen per parcel (-1: none): `_greedy_county`'s loop."""
        used = [0.0] * len(cap)
        chosen = [-1] * len(self.pids)
        county, starts, ends = self.county.tolist(), self.starts.tolist(), self.ends.tolist()
        for p in order.tolist():
            c = county[p]
            u, limit = used[c], cap[c]
            for k in range(starts[p], ends[p]):
                d = dem[k]
                if d == 0 or u + d <= limit:
                    chosen[p] = k
                    used[c] = u + d
                    break
        return np.asarray(chosen, dtype=np.int64)


def _exact_county(
    opts: pd.DataFrame, cap: float, time_limit: float, gap: float, node_limit: int | None = None
) -> dict | None:
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    from ..milp import milp_options, warn_if_timed_out

    d = opts["demand_m3"].to_numpy(float)
    b = opts["benefit"].to_numpy(float)
    free = d == 0
    chosen: dict = {}
    fit = (d <= cap) & ~free
    # parcels with a no-water option take the better of it and the MILP's pick: keep all
    var = np.flatnonzero(fit | free)
    if not len(var):
        return chosen
    sub = opts.iloc[var]
    pids, pidx = np.unique(sub["parcel_id"].to_numpy(str), return_inverse=True)
    n = len(var)
    rows = np.concatenate([pidx, np.full(n, len(pids))])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    vals = np.concatenate([np.ones(n), d[var]])
    A = sparse.csr_array((vals, (rows, cols)), shape=(len(pids) + 1, n))
    ub = np.concatenate([np.ones(len(pids)), [max(cap, 0.0)]])
    res = milp(
        -b[var],
        constraints=LinearConstraint(A, -np.inf, ub),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options=milp_options(time_limit, gap, node_limit),
    )
    warn_if_timed_out(res, time_limit, "exact water allocation", "water.exact_time_limit_s")
    if res.x is None:
        log.warning("exact water allocation: HiGHS found no solution (%s)", res.message)
        return None
    x = np.round(res.x).astype(bool)
    # repair tolerance breaches (never expected): drop the worst benefit per m3 first
    total = float(d[var][x].sum())
    if total > cap and not np.isclose(total, 0.0):
        sel = np.flatnonzero(x & (d[var] > 0))
        worst = sel[np.argsort(b[var][sel] / d[var][sel])]
        for i in worst:
            if total <= cap:
                break
            x[i] = False
            total -= d[var][i]
    for i in np.flatnonzero(x):
        chosen[pids[pidx[i]]] = sub.index[i]
    return chosen


def allocate(
    options: pd.DataFrame,
    headroom: Mapping | pd.Series,
    solver: str = "greedy",
    time_limit: float = 120.0,
    mip_rel_gap: float = 1e-6,
    compare: bool = True,
    node_limit: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocate the options (`build_options`) to each county's headroom (m3/yr).

    Returns (assignment, balance):
    - assignment: one row per parcel with options: parcel_id, adcode, allocated (bool),
      opt_rank (-1 when not allocated), final_target, final_use, water_m3, benefit;
    - balance: per county with options or headroom: adcode, headroom_m3, demand_m3 (of the
      first options), allocated_m3, left_m3 (headroom - allocated), n_candidates, n_allocated,
      n_fallback, benefit_greedy, benefit_exact, exact_greedy_ratio (1 when both are 0), solver.
      With ``compare=False`` only the chosen solver runs (the other benefit is NaN).
    """
    if solver not in ("greedy", "exact"):
        raise InputError(f"water.solver must be greedy or exact, not {solver!r}")
    hr = pd.Series(headroom, dtype=float) if not isinstance(headroom, pd.Series) else headroom
    hr.index = normalize_adcode(pd.Series(hr.index)).to_numpy()
    opts = options.sort_values(["adcode", "parcel_id", "opt_rank"], kind="stable").reset_index(
        drop=True
    )
    missing = sorted(set(opts["adcode"]) - set(hr.index))
    if missing:
        raise InputError(
            f"no water headroom (budget row) for county(ies) {missing}, which have "
            f"candidate parcels"
        )
    picks: dict = {}
    rows = []
    for adcode in sorted(set(hr.index) | set(opts["adcode"])):
        o = opts[opts["adcode"] == adcode]
        h = float(hr.get(adcode, 0.0))
        cap = max(h, 0.0)
        greedy = exact = None
        if solver == "greedy" or compare:
            greedy = _greedy_county(o, cap) if len(o) else {}
        if solver == "exact" or compare:
            exact = _exact_county(o, cap, time_limit, mip_rel_gap, node_limit) if len(o) else {}
            if exact is not None and len(o):
                exact = _greedy_county(o, cap, exact)
        bg = float(o.loc[list(greedy.values()), "benefit"].sum()) if greedy is not None else np.nan
        be = float(o.loc[list(exact.values()), "benefit"].sum()) if exact is not None else np.nan
        # relative, like the ratio reported: an exact pick worse than greedy's by more than
        # 1e-9 of it (HiGHS's tolerances on tiny benefits, a time limit) is never kept
        if exact is not None and greedy is not None and be < bg - 1e-9 * abs(bg):
            log.warning(
                "county %s: exact allocation (benefit %.6g) below greedy (%.6g): HiGHS "
                "stopped early; keeping greedy's",
                adcode,
                be,
                bg,
            )
            exact, be = greedy, bg
        if solver == "exact" and exact is None:
            exact = greedy if greedy is not None else _greedy_county(o, cap)
            be = float(o.loc[list(exact.values()), "benefit"].sum())
        chosen = exact if solver == "exact" else greedy
        assert chosen is not None  # solver is greedy or exact (checked above); each was run
        picks.update(chosen)
        first = o[o["opt_rank"] == 0]
        alloc = float(o.loc[list(chosen.values()), "demand_m3"].sum())
        if np.isnan(bg) or np.isnan(be):
            ratio = np.nan
        else:
            ratio = 1.0 if bg == be else (be / bg if bg > 0 else np.inf)
        rows.append(
            {
                "adcode": adcode,
                "headroom_m3": h,
                "demand_m3": float(first["demand_m3"].sum()),
                "allocated_m3": alloc,
                "left_m3": h - alloc,
                "n_candidates": len(first),
                "n_allocated": len(chosen),
                "n_fallback": int((o.loc[list(chosen.values()), "opt_rank"] > 0).sum()),
                "benefit_greedy": bg,
                "benefit_exact": be,
                "exact_greedy_ratio": ratio,
                "solver": solver,
            }
        )
    balance = pd.DataFrame(
        rows,
        columns=[
            "adcode",
            "headroom_m3",
            "demand_m3",
            "allocated_m3",
            "left_m3",
            "n_candidates",
            "n_allocated",
            "n_fallback",
            "benefit_greedy",
            "benefit_exact",
            "exact_greedy_ratio",
            "solver",
        ],
    )
    first = opts[opts["opt_rank"] == 0][["parcel_id", "adcode"]].reset_index(drop=True)
    sel = opts.loc[[picks[p] for p in first["parcel_id"] if p in picks]]
    sel = sel.set_index("parcel_id")
    got = first["parcel_id"].isin(sel.index).to_numpy()
    pid = first["parcel_id"]
    assign = pd.DataFrame(
        {
            "parcel_id": pid.to_numpy(),
            "adcode": first["adcode"].to_numpy(),
            "allocated": got,
            "opt_rank": np.where(got, pid.map(sel["opt_rank"]).fillna(-1), -1).astype(int),
            "final_target": pid.map(sel["target"]).astype(object).fillna("").to_numpy(),
            "final_use": pid.map(sel["use"]).astype(object).fillna("").to_numpy(),
            "water_m3": pid.map(sel["demand_m3"]).fillna(0.0).to_numpy(float),
            "benefit": pid.map(sel["benefit"]).fillna(0.0).to_numpy(float),
        }
    )
    return assign, balance

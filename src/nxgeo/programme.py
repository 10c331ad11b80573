"""A budgeted restoration programme (issue #16, seed 001; docs/programme.md).

Given a year's budget (亿元), optional caps per county and per funding source, and each
county's water headroom, choose the set of candidate parcels that maximises a configured
objective.

Items
-----
The allocated, eligible candidates of ``candidates.gpkg`` (every layer), each with the option
the water allocation gave it: cost ``cost_cny`` (`nxgeo.costs`), water ``water_demand_m3``,
funding, county. Its value v_i is the objective:

- ``gep``: the yearly GEP gain ``d_gep_cny`` (CNY/yr, `nxgeo.services.parcel_gains`);
- ``weighted``: Σ_k w_k · field_k over ``programme.weights`` (any numeric candidate field:
  new_cultivated_ha, greening_increment_ha, closure_ha, d_sand_t, pv_mw, d_gep_wan_cny ...).

Only items with v_i > 0 and a finite cost take part (a programme never buys a loss).

Formulation (MILP)
------------------
x_i ∈ {0, 1}; maximise Σ v_i x_i subject to

- Σ c_i x_i <= B (the year's budget ``programme.budget_yi_cny``);
- Σ_{i in county k} c_i x_i <= B_k (``budget_by_county_yi_cny``, counties listed);
- Σ_{i funded by f} c_i x_i <= B_f (``budget_by_funding_yi_cny``, sources listed);
- Σ_{i in county k} w_i x_i <= max(s_w · H_k, 0) (water: headroom H_k of the water balance x
  ``water_headroom_share`` s_w);
- optional equity: Σ_{i in k} c_i x_i >= s_min · N_k (``county_min_share``; need N_k = cost
  of all of county k's items) and Σ_{i in k} c_i x_i <= s_max · B (``county_max_share``).

Solved by scipy.optimize.milp (HiGHS, as the water allocation) with ``mip_rel_gap`` and two
limits: ``solver_node_limit`` (branch-and-bound nodes: a limit of work, so the same inputs give
the same programme on any machine and under any load) and ``solver_time_limit_s`` (a safety net
that should never be reached; when it is, the result depends on the machine's speed and a
warning says so). HiGHS's own gap is reported. Before branch-and-bound, the LP relaxation's
bound is compared with greedy's selection: when greedy is within ``mip_rel_gap`` of it, it is
optimal within that gap and no MILP is solved. The greedy baseline takes items in order of
v_i / c_i (free items first; ties by parcel_id), each when it fits every cap (with minimum
shares: first each county up to its minimum, then all); the exact programme keeps greedy's
selection if HiGHS stops early below it, so exact >= greedy always.

Marginal value: re-solved at B·(1 - step) and B·(1 + step) (``marginal_step``, 10 %); the
selection of a smaller budget stays feasible at a larger one and is kept when a time-limited
solve falls below it, so the objective never decreases with the budget. Marginal value of one
more 亿元 = Δ objective / Δ budget (亿元).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .atomic import atomic_path, write_csv
from .errors import InputError
from .keys import normalize_adcode
from .milp import milp_options, solve_status, warn_if_timed_out

log = logging.getLogger("nxgeo.programme")

YI = 1e8  # CNY per 亿元
WAN = 1e4  # CNY per 万元
MU_PER_HA = 15.0
TOL = 1e-7

PARCEL_COLUMNS = [
    "rank",
    "parcel_id",
    "pathway",
    "adcode",
    "county_name",
    "measure",
    "recommended_target",
    "target_zh",
    "funding",
    "area_ha",
    "area_mu",
    "unit_cost_cny_per_mu",
    "cost_cny",
    "cost_wan_cny",
    "water_m3",
    "new_cultivated_ha",
    "freed_quota_ha",
    "greening_increment_ha",
    "closure_ha",
    "natural_recovery_ha",
    "pv_mw",
    "d_sand_t",
    "d_carbon_seq_t_co2_per_yr",
    "d_gep_cny",
    "d_gep_wan_cny",
    "objective_value",
    "value_per_wan_cny",
    "in_greedy",
]
SUM_COLUMNS = [
    "area_ha",
    "area_mu",
    "cost_cny",
    "cost_wan_cny",
    "water_m3",
    "new_cultivated_ha",
    "freed_quota_ha",
    "greening_increment_ha",
    "closure_ha",
    "natural_recovery_ha",
    "pv_mw",
    "d_sand_t",
    "d_carbon_seq_t_co2_per_yr",
    "d_gep_cny",
    "d_gep_wan_cny",
    "objective_value",
]
OBJECTIVE_UNIT = {"gep": "CNY/yr (GEP gain)", "weighted": "weighted indicator units"}


# --------------------------------------------------------------------------------------------
# Items


def read_candidates(gpkg) -> gpd.GeoDataFrame:
    """Every candidates layer of a year's candidates.gpkg, as one frame."""
    from .vector_io import list_layers, read_vector

    frames = []
    for layer in list_layers(gpkg):
        if layer.startswith(("layer_styles", "gpkg_")):
            continue
        g = read_vector(gpkg, layer)
        if isinstance(g, gpd.GeoDataFrame) and "parcel_id" in g.columns and len(g):
            frames.append(g)
    if not frames:
        return gpd.GeoDataFrame(
            {"parcel_id": pd.Series([], dtype=object)},
            geometry=gpd.GeoSeries([], crs="EPSG:4507"),
            crs="EPSG:4507",
        )
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frames[0].crs)


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.zeros(len(df))
    return pd.to_numeric(df[col], errors="coerce").fillna(0.0).to_numpy(float)


def objective_values(df: pd.DataFrame, cfg: Mapping) -> np.ndarray:
    """v_i of every parcel (module docstring)."""
    kind = cfg["objective"]
    if kind == "gep":
        if "d_gep_cny" not in df.columns:
            raise InputError(
                "programme.objective is gep but the candidates carry no GEP gain "
                "(d_gep_cny); use objective: weighted or compute the service gains"
            )
        return _num(df, "d_gep_cny")
    if kind == "weighted":
        weights = dict(cfg["weights"] or {})
        if not weights:
            raise InputError(
                "programme.objective is weighted but programme.weights is empty; "
                "give a weight per indicator, e.g. {new_cultivated_ha: 1.0}"
            )
        unknown = [k for k in weights if k not in df.columns]
        if unknown and len(df):
            raise InputError(
                f"programme.weights names field(s) {', '.join(unknown)} that the "
                f"candidates do not have; use candidate fields such as "
                f"new_cultivated_ha, greening_increment_ha, closure_ha, pv_mw, "
                f"d_sand_t, d_gep_wan_cny"
            )
        v = np.zeros(len(df))
        for k, w in weights.items():
            v += float(w) * _num(df, k)
        return v
    raise InputError(f"programme.objective must be gep or weighted, not {kind!r}")


def programme_items(cands: pd.DataFrame, cfg: Mapping) -> pd.DataFrame:
    """The items of the programme: allocated, eligible parcels with a finite cost and a
    positive objective value; columns parcel_id, adcode, funding, cost_cny, water_m3, value
    (+ the candidate's fields), sorted by parcel_id."""
    df = pd.DataFrame(cands.drop(columns="geometry", errors="ignore")).copy()
    if not len(df):
        return df.assign(cost_cny=[], water_m3=[], value=[], adcode=[], funding=[])
    if "cost_cny" not in df.columns:
        raise InputError(
            "the candidates carry no cost (cost_cny): the unit-cost table "
            "(inputs.tables.unit_costs) was not applied"
        )
    value = objective_values(df, cfg)
    cost = pd.to_numeric(df["cost_cny"], errors="coerce").to_numpy(float)
    ok = (
        (_num(df, "allocated") > 0)
        & (_num(df, "eligible") > 0)
        & np.isfinite(cost)
        & (cost >= 0)
        & (value > 0)
    )
    out = df[ok].copy()
    out["value"] = value[ok]
    out["cost_cny"] = cost[ok]
    out["water_m3"] = np.maximum(_num(out, "water_demand_m3"), 0.0)
    out["adcode"] = normalize_adcode(out["adcode"]).to_numpy()
    out["funding"] = out.get("funding", pd.Series("", index=out.index)).fillna("").astype(str)
    return out.sort_values("parcel_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Constraints


@dataclass
class Caps:
    """Money (CNY) and water (m3) limits of one solve."""

    budget: float
    county_budget: dict = field(default_factory=dict)  # adcode -> CNY
    funding_budget: dict = field(default_factory=dict)  # source -> CNY
    water: dict = field(default_factory=dict)  # adcode -> m3 (>= 0)
    county_min_share: float | None = None
    county_max_share: float | None = None

    def scaled(self, factor: float) -> Caps:
        """The same caps at `factor` x the total budget (county and source caps unchanged)."""
        return Caps(
            self.budget * factor,
            self.county_budget,
            self.funding_budget,
            self.water,
            self.county_min_share,
            self.county_max_share,
        )


def _groups(items: pd.DataFrame, caps: Caps):
    """Rows (name, index array, coefficient column, upper bound) of every <= constraint, and
    (name, index array, lower bound) of every >= constraint."""
    cost = items["cost_cny"].to_numpy(float)
    water = items["water_m3"].to_numpy(float)
    ad = items["adcode"].to_numpy(str)
    fund = items["funding"].to_numpy(str)
    upper = [("budget", np.arange(len(items)), cost, float(caps.budget))]
    for k, cap in sorted(caps.county_budget.items()):
        upper.append((f"county {k}", np.flatnonzero(ad == k), cost, float(cap)))
    for f, cap in sorted(caps.funding_budget.items()):
        upper.append((f"funding {f}", np.flatnonzero(fund == f), cost, float(cap)))
    for k in sorted(set(ad[water > 0])):
        upper.append(
            (f"water {k}", np.flatnonzero(ad == k), water, max(float(caps.water.get(k, 0.0)), 0.0))
        )
    if caps.county_max_share is not None:
        for k in sorted(set(ad)):
            upper.append(
                (
                    f"max share {k}",
                    np.flatnonzero(ad == k),
                    cost,
                    float(caps.county_max_share) * float(caps.budget),
                )
            )
    lower = []
    if caps.county_min_share is not None:
        for k in sorted(set(ad)):
            idx = np.flatnonzero(ad == k)
            lower.append((f"min share {k}", idx, float(caps.county_min_share) * cost[idx].sum()))
    return upper, lower


def feasible(items: pd.DataFrame, x: np.ndarray, caps: Caps, lower: bool = True) -> bool:
    upper, low = _groups(items, caps)
    cost = items["cost_cny"].to_numpy(float)
    for _, idx, coef, ub in upper:
        if coef[idx][x[idx]].sum() > ub * (1 + TOL) + TOL:
            return False
    if lower:
        for _, idx, lb in low:
            if cost[idx][x[idx]].sum() < lb * (1 - TOL) - TOL:
                return False
    return True


# --------------------------------------------------------------------------------------------
# Solvers


def _order(items: pd.DataFrame) -> np.ndarray:
    c = items["cost_cny"].to_numpy(float)
    v = items["value"].to_numpy(float)
    ratio = np.where(c > 0, v / np.where(c > 0, c, 1.0), np.inf)
    return np.lexsort((items["parcel_id"].to_numpy(str), -v, -ratio))


def greedy(items: pd.DataFrame, caps: Caps) -> np.ndarray:
    """The benefit-per-cost baseline (module docstring): a boolean selection."""
    n = len(items)
    x = np.zeros(n, dtype=bool)
    if not n:
        return x
    upper, lower = _groups(items, caps)
    used = np.zeros(len(upper))
    member = [np.zeros(n, dtype=bool) for _ in upper]
    for j, (_, idx, _, _) in enumerate(upper):
        member[j][idx] = True
    cost = items["cost_cny"].to_numpy(float)

    def take(i) -> bool:
        add = np.array([upper[j][2][i] if member[j][i] else 0.0 for j in range(len(upper))])
        ub = np.array([u[3] for u in upper])
        if np.all(used + add <= ub * (1 + TOL) + TOL):
            used[:] = used + add
            x[i] = True
            return True
        return False

    order = _order(items)
    for _, idx, lb in lower:  # first each county up to its minimum share
        got = 0.0
        inside = set(idx.tolist())
        for i in order:
            if got >= lb:
                break
            if i in inside and not x[i] and take(i):
                got += cost[i]
    for i in order:
        if not x[i]:
            take(i)
    return x


@dataclass
class Solution:
    x: np.ndarray
    objective: float
    greedy_objective: float
    status: str
    mip_gap: float
    x_greedy: np.ndarray


#: the status of a solve that the LP bound settled (no branch-and-bound needed)
STATUS_LP_BOUND = "optimal (greedy within the gap of the LP bound)"


def solve(
    items: pd.DataFrame,
    caps: Caps,
    time_limit: float = 20.0,
    mip_rel_gap: float = 1e-4,
    start: np.ndarray | None = None,
    node_limit: int | None = None,
) -> Solution:
    """Exact programme (MILP, HiGHS) and the greedy baseline; never below greedy nor below
    `start` (a selection feasible under `caps`, e.g. that of a smaller budget)."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(items)
    v = items["value"].to_numpy(float) if n else np.zeros(0)
    xg = greedy(items, caps)
    bg = float(v[xg].sum())
    if not n:
        return Solution(xg, 0.0, 0.0, "no items", 0.0, xg)
    upper, lower = _groups(items, caps)
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    # money in 万元 and water in 万 m3: coefficients of order 1-1e5 for HiGHS
    for _, idx, coef, ub in upper:
        scale = WAN
        rows += [r] * len(idx)
        cols += idx.tolist()
        vals += (coef[idx] / scale).tolist()
        lo.append(-np.inf)
        hi.append(ub / scale)
        r += 1
    cost = items["cost_cny"].to_numpy(float)
    for _, idx, lb in lower:
        rows += [r] * len(idx)
        cols += idx.tolist()
        vals += (cost[idx] / WAN).tolist()
        lo.append(lb / WAN)
        hi.append(np.inf)
        r += 1
    A = sparse.csr_array((vals, (rows, cols)), shape=(r, n))
    vscale = max(float(np.abs(v).max()), 1.0)
    # The LP relaxation bounds every selection from above. When greedy's (or `start`'s)
    # selection is already within mip_rel_gap of it, it is optimal within the gap HiGHS would
    # stop at: the branch-and-bound (seconds to minutes on 10^4 items) is skipped.
    known = xg.copy()
    if start is not None and feasible(items, start, caps) and float(v[start].sum()) > bg:
        known = start.copy()
    bk = float(v[known].sum())

    def run(integer: bool, nodes: int | None):
        return milp(
            -v / vscale,
            constraints=LinearConstraint(A, lo, hi),
            integrality=np.full(n, 1 if integer else 0),
            bounds=Bounds(0, 1),
            options=milp_options(time_limit, mip_rel_gap, nodes),
        )

    lp = run(integer=False, nodes=None)  # the LP relaxation
    if lp.status == 0 and feasible(items, known, caps) and bk > 0:
        bound = -float(lp.fun) * vscale
        if bound - bk <= float(mip_rel_gap) * abs(bk):
            gap_lp = max(bound - bk, 0.0) / abs(bk)
            return Solution(known, bk, bg, STATUS_LP_BOUND, gap_lp, xg)
    res = run(integer=True, nodes=node_limit)
    warn_if_timed_out(res, time_limit, "programme MILP", "programme.solver_time_limit_s")
    status = solve_status(res)
    gap = float(getattr(res, "mip_gap", np.nan) if res.x is not None else np.nan)
    if res.x is None:
        if res.status == 2 and lower and not feasible(items, xg, caps):
            raise InputError(
                f"programme: the minimum county share {caps.county_min_share} cannot be met "
                f"within the budget {caps.budget / YI:.4g} 亿元 and the other caps; lower "
                "programme.county_min_share or raise the budget"
            )
        log.warning("programme MILP: HiGHS found no solution (%s); greedy kept", res.message)
        x = xg.copy()
    else:
        x = np.round(res.x).astype(bool)
        if not feasible(items, x, caps):  # tolerance breach (never expected): drop worst
            for i in _order(items)[::-1]:
                if feasible(items, x, caps):
                    break
                if x[i]:
                    x[i] = False
            if not feasible(items, x, caps):
                x = xg.copy()
    best = float(v[x].sum())
    if feasible(items, xg, caps) and bg > best + 1e-9 * max(1.0, abs(bg)):
        log.info(
            "programme: exact %.8g below greedy %.8g (HiGHS %s within gap %.2g); "
            "greedy's selection kept",
            best,
            bg,
            status,
            gap,
        )
        x, best = xg.copy(), bg
    if start is not None and feasible(items, start, caps):
        bs = float(v[start].sum())
        if bs > best + 1e-9 * max(1.0, abs(bs)):
            x, best = start.copy(), bs
    return Solution(x, best, bg, status, gap, xg)


# --------------------------------------------------------------------------------------------
# The programme of one year


def _yi_map(m, what: str, keyfn=str) -> dict:
    out = {}
    for k, val in (m or {}).items():
        if val is None:
            continue
        if float(val) < 0:
            raise InputError(f"programme.{what}[{k}]: {val} 亿元 is negative")
        out[keyfn(k)] = float(val) * YI
    return out


def year_budget(cfg: Mapping, year: int) -> float:
    """The year's budget in CNY (programme.budget_yi_cny[year])."""
    budgets = {int(k): v for k, v in (cfg["budget_yi_cny"] or {}).items()}
    if int(year) not in budgets:
        raise InputError(
            f"programme.budget_yi_cny has no budget for {year}; add `{year}: <亿元>` "
            f"(it has {', '.join(map(str, sorted(budgets))) or 'none'})"
        )
    b = float(budgets[int(year)])
    if not b >= 0:
        raise InputError(f"programme.budget_yi_cny[{year}]: {b} 亿元 is negative")
    return b * YI


def caps_for(cfg: Mapping, year: int, headroom: Mapping) -> Caps:
    share = float(cfg["water_headroom_share"])
    return Caps(
        budget=year_budget(cfg, year),
        county_budget=_yi_map(
            cfg["budget_by_county_yi_cny"],
            "budget_by_county_yi_cny",
            lambda k: normalize_adcode([k]).iat[0],
        ),
        funding_budget=_yi_map(cfg["budget_by_funding_yi_cny"], "budget_by_funding_yi_cny"),
        water={str(k): max(float(h) * share, 0.0) for k, h in headroom.items()},
        county_min_share=cfg["county_min_share"],
        county_max_share=cfg["county_max_share"],
    )


def headroom_from_balance(balance_csv) -> dict:
    wb = pd.read_csv(balance_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    return dict(
        zip(
            normalize_adcode(wb["adcode"]).to_numpy(),
            pd.to_numeric(wb["headroom_m3"], errors="coerce").fillna(0.0),
        )
    )


def selection_table(items: pd.DataFrame, sol: Solution) -> pd.DataFrame:
    """One row per selected parcel (PARCEL_COLUMNS), rank 1 = best value per 万元."""
    sel = items[sol.x].copy()
    sel["in_greedy"] = sol.x_greedy[sol.x].astype(int)
    sel["objective_value"] = sel["value"]
    c = sel["cost_cny"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sel["value_per_wan_cny"] = np.where(c > 0, sel["value"] / (c / WAN), np.inf)
    sel["cost_wan_cny"] = sel["cost_cny"] / WAN
    if "area_mu" not in sel.columns:
        sel["area_mu"] = _num(sel, "area_ha") * MU_PER_HA
    sel = sel.iloc[_order(sel)] if len(sel) else sel
    sel["rank"] = np.arange(1, len(sel) + 1)
    for c in PARCEL_COLUMNS:
        if c not in sel.columns:
            sel[c] = (
                ""
                if c in ("county_name", "measure", "recommended_target", "target_zh", "funding")
                else 0.0
            )
    return sel.reset_index(drop=True)


def programme_summary(sel: pd.DataFrame, budget: float) -> pd.DataFrame:
    """Per county and pathway, a row per county (pathway 合计), and the total (adcode 合计):
    parcels, 亩, cost (万元, 亿元, CNY/亩), indicators, gains; cost by funding source."""
    df = sel.copy()
    for c in SUM_COLUMNS:
        df[c] = _num(df, c)
    for f in ("public", "operator", "social_capital"):
        df[f"{f}_cost_wan_cny"] = np.where(df["funding"] == f, df["cost_wan_cny"], 0.0)
    cols = SUM_COLUMNS + [f"{f}_cost_wan_cny" for f in ("public", "operator", "social_capital")]
    parts = []
    if len(df):
        g = df.groupby(["adcode", "pathway"], as_index=False)
        a = g[cols].sum()
        a.insert(2, "n_parcels", g.size()["size"].to_numpy())
        a.insert(1, "county_name", a["adcode"].map(df.groupby("adcode")["county_name"].first()))
        parts.append(a)
        gc = df.groupby("adcode", as_index=False)
        c = gc[cols].sum()
        c.insert(1, "n_parcels", gc.size()["size"].to_numpy())
        c.insert(1, "pathway", "合计")
        c.insert(1, "county_name", c["adcode"].map(df.groupby("adcode")["county_name"].first()))
        parts.append(c)
    tot = {c: float(df[c].sum()) for c in cols}
    parts.append(
        pd.DataFrame(
            [
                {
                    "adcode": "合计",
                    "county_name": "全区 total",
                    "pathway": "合计",
                    "n_parcels": len(df),
                    **tot,
                }
            ]
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["cost_yi_cny"] = out["cost_cny"] / YI
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cost_per_mu_cny"] = np.where(
            out["area_mu"] > 0, out["cost_cny"] / out["area_mu"], np.nan
        )
    out["budget_share"] = out["cost_cny"] / budget if budget > 0 else np.nan
    key = out["adcode"].map(lambda a: "~" if a == "合计" else a)
    order = np.lexsort((out["pathway"].map(lambda p: "~" if p == "合计" else p), key))
    out = out.iloc[order].reset_index(drop=True)
    lead = [
        "adcode",
        "county_name",
        "pathway",
        "n_parcels",
        "area_ha",
        "area_mu",
        "cost_wan_cny",
        "cost_yi_cny",
        "cost_per_mu_cny",
        "budget_share",
    ]
    return out[lead + [c for c in out.columns if c not in lead and c != "cost_cny"]]


def marginal_table(items: pd.DataFrame, caps: Caps, cfg: Mapping) -> tuple[pd.DataFrame, dict]:
    """Solutions at (1 - step), 1 and (1 + step) x the budget, in increasing order (each solve
    keeps the smaller budget's selection when it is better): objective, greedy, gap, money
    spent, and the marginal value of one more 亿元 between neighbouring budgets. Returns
    (table, {factor: Solution})."""
    step = float(cfg["marginal_step"])
    tl, gap = float(cfg["solver_time_limit_s"]), float(cfg["mip_rel_gap"])
    nodes = int(cfg["solver_node_limit"])
    sols: dict = {}
    prev = None
    for f in (1.0 - step, 1.0, 1.0 + step):
        s = solve(
            items, caps.scaled(f), tl, gap, start=None if prev is None else prev.x, node_limit=nodes
        )
        sols[f] = s
        prev = s
    rows = []
    facs = sorted(sols)
    cost = items["cost_cny"].to_numpy(float) if len(items) else np.zeros(0)
    mu = _num(items, "area_mu")
    for j, f in enumerate(facs):
        s = sols[f]
        row = {
            "budget_factor": f,
            "budget_yi_cny": caps.budget * f / YI,
            "spent_yi_cny": float(cost[s.x].sum()) / YI,
            "n_selected": int(s.x.sum()),
            "area_mu": float(mu[s.x].sum()),
            "objective": s.objective,
            "objective_greedy": s.greedy_objective,
            "exact_vs_greedy": (
                s.objective / s.greedy_objective
                if s.greedy_objective > 0
                else (1.0 if s.objective == 0 else np.inf)
            ),
            "mip_gap": s.mip_gap,
            "solver_status": s.status,
        }
        for name, k in (("marginal_per_yi_down", j - 1), ("marginal_per_yi_up", j + 1)):
            if 0 <= k < len(facs):
                db = caps.budget * (facs[k] - f) / YI
                row[name] = (sols[facs[k]].objective - s.objective) / db if db else np.nan
            else:
                row[name] = np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    db = caps.budget * (facs[-1] - facs[0]) / YI
    out["marginal_per_yi"] = (
        (sols[facs[-1]].objective - sols[facs[0]].objective) / db if db else np.nan
    )
    out["objective_unit"] = OBJECTIVE_UNIT.get(str(cfg["objective"]), "")
    return out, sols


def compare_reference(
    sel: pd.DataFrame, cfg_reference: Mapping, items: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The programme's cost per 亩 next to observed figures (seed 001): one row per reference
    item — its pathway (for mine remediation the public = legacy mines only; pathway null: the
    whole programme) — with the selected parcels' 亿元, 万亩 and CNY/亩, and the same for all
    the candidates of that kind (`items`: what doing all of them would cost)."""

    def part(df, p):
        if df is None:
            return None
        sub = df if not p else df[df["pathway"] == p]
        if p == "mine_remediation":
            sub = sub[sub["funding"] == "public"]
        return sub

    def figures(sub):
        if sub is None:
            return 0, np.nan, np.nan, np.nan
        cost, mu = float(_num(sub, "cost_cny").sum()), float(_num(sub, "area_mu").sum())
        return len(sub), cost / YI, mu / 1e4, (cost / mu if mu > 0 else np.nan)

    rows = []
    for it in cfg_reference["items"]:
        p = it.get("pathway")
        obs_yi, obs_wmu = float(it["yi_cny"]), float(it["wan_mu"])
        obs_per = obs_yi * YI / (obs_wmu * 1e4) if obs_wmu > 0 else np.nan
        n, yi, wmu, per = figures(part(sel, p))
        cn, cyi, cwmu, cper = figures(part(items, p))
        rows.append(
            {
                "item": it["name"],
                "pathway": p or "合计",
                "observed_projects": it.get("projects"),
                "observed_yi_cny": obs_yi,
                "observed_wan_mu": obs_wmu,
                "observed_cost_per_mu_cny": obs_per,
                "programme_parcels": n,
                "programme_yi_cny": yi,
                "programme_wan_mu": wmu,
                "programme_cost_per_mu_cny": per,
                "ratio_to_observed": per / obs_per if obs_per > 0 else np.nan,
                "candidates_parcels": cn,
                "candidates_yi_cny": cyi,
                "candidates_wan_mu": cwmu,
                "candidates_cost_per_mu_cny": cper,
                "source": cfg_reference["source"],
            }
        )
    return pd.DataFrame(rows)


def programme_year(
    candidates_gpkg,
    water_balance_csv,
    year: int,
    cfg: Mapping,
    out_csv,
    out_gpkg,
    out_summary_csv,
    out_marginal_csv,
    out_reference_csv,
) -> dict:
    """The year's programme: items, exact and greedy, marginal budgets, tables and layer."""
    cands = read_candidates(candidates_gpkg)
    items = programme_items(cands, cfg)
    caps = caps_for(cfg, year, headroom_from_balance(water_balance_csv))
    marginal, sols = marginal_table(items, caps, cfg)
    base = sols[1.0]
    sel = selection_table(items, base)
    table = sel[PARCEL_COLUMNS]
    write_csv(table, out_csv)
    geo = cands[["parcel_id", "geometry"]].merge(table, on="parcel_id", how="inner")
    geo = (
        gpd.GeoDataFrame(geo[PARCEL_COLUMNS + ["geometry"]], geometry="geometry", crs=cands.crs)
        .sort_values("rank")
        .reset_index(drop=True)
    )
    write_programme_gpkg(geo, out_gpkg)
    summary = programme_summary(sel, caps.budget)
    write_csv(summary, out_summary_csv)
    write_csv(marginal, out_marginal_csv)
    pool = pd.DataFrame(cands.drop(columns="geometry", errors="ignore"))
    if len(pool):
        ok = (
            (_num(pool, "allocated") > 0)
            & (_num(pool, "eligible") > 0)
            & np.isfinite(pd.to_numeric(pool["cost_cny"], errors="coerce").to_numpy(float))
        )
        pool = pool[ok]
    ref = compare_reference(sel, cfg["reference"], pool)
    write_csv(ref, out_reference_csv)
    spent = float(sel["cost_cny"].sum()) if len(sel) else 0.0
    log.info(
        "programme %s: %d of %d items, %.4g of %.4g 亿元, objective %.6g (greedy %.6g, %s, gap %s)",
        year,
        len(sel),
        len(items),
        spent / YI,
        caps.budget / YI,
        base.objective,
        base.greedy_objective,
        base.status,
        base.mip_gap,
    )
    return {
        "items": len(items),
        "selected": len(sel),
        "spent_cny": spent,
        "objective": base.objective,
        "greedy": base.greedy_objective,
        "status": base.status,
    }


def write_programme_gpkg(gdf: gpd.GeoDataFrame, path) -> None:
    """Layer ``programme`` (MultiPolygons), styled for QGIS like the candidates (colour by
    target, aliases and value maps from `nxgeo.fields`)."""
    from .candidates.clumps import to_multi
    from .candidates.styles import add_layer_styles
    from .vector_io import write_layers

    out = gdf.copy()
    out.insert(out.columns.get_loc("rank") + 1, "allocated", 1)  # the style's class expression
    if len(out):
        out = gpd.GeoDataFrame(
            out.drop(columns="geometry"),
            geometry=gpd.GeoSeries(to_multi(out.geometry.values), crs=gdf.crs),
            crs=gdf.crs,
        )
    for c in ("value_per_wan_cny",):
        if c in out.columns:  # OGR stores inf as text in some readers: free items get NULL
            out[c] = out[c].replace([np.inf], np.nan)
    with atomic_path(path) as tmp:
        write_layers(tmp, {"programme": out})
        add_layer_styles(tmp, ["programme"], style_name="nxgeo programme")


# --------------------------------------------------------------------------------------------
# The report's section (helper 17b wires it into nxgeo.report)


def report_rows(summary_csv, marginal_csv, reference_csv) -> dict:
    """Rows of the report's programme section: what the programme buys (total row of the
    summary), the marginal value of one more 亿元 and the cost per 亩 next to seed 001's
    figures; labels bilingual. Returns {"buys": [(label, value)], "reference": [dict],
    "marginal": [dict]}."""
    s = pd.read_csv(summary_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    tot = s[s["adcode"] == "合计"].iloc[0] if (s["adcode"] == "合计").any() else None
    m = pd.read_csv(marginal_csv, encoding="utf-8-sig")
    r = pd.read_csv(reference_csv, encoding="utf-8-sig")
    buys = []
    if tot is not None:
        buys = [
            ("地块数 parcels", int(tot["n_parcels"])),
            ("面积 area (亩)", float(tot["area_mu"])),
            ("投资 cost (亿元)", float(tot["cost_yi_cny"])),
            ("亩均投资 cost per 亩 (元)", float(tot["cost_per_mu_cny"])),
            ("新增耕地 new cultivated land (亩)", float(tot["new_cultivated_ha"]) * MU_PER_HA),
            ("绿化增量 greening increment (亩)", float(tot["greening_increment_ha"]) * MU_PER_HA),
            ("封禁保护 closure (亩)", float(tot["closure_ha"]) * MU_PER_HA),
            ("光伏 PV (MW)", float(tot["pv_mw"])),
            ("GEP 增量 GEP gain (万元/年)", float(tot["d_gep_wan_cny"])),
        ]
    return {"buys": buys, "reference": r.to_dict("records"), "marginal": m.to_dict("records")}

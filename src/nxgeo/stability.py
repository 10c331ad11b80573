"""Rank stability of the candidate selection (docs/tracking.md, "Rank stability").

A selection that flips when a placeholder weight moves a little must not read as certain. The
parameters the config marks uncertain (``stability.uncertain``: a range [low, high] per
parameter) are drawn uniformly, ``stability.draws`` times (seeded: ``stability.seed``), and for
every draw the year's water allocation and ranking are solved again with the configured solver:

- ``water.benefit.<use>`` and ``water.benefit_default``: benefit per ha of a use (the
  allocation's objective and the greedy priority);
- ``water.demand_factor``: multiplies every use's water demand (the water-demand table);
- ``water.headroom_factor``: multiplies every county's headroom (the water budgets);
- ``pathways.sand_control.priority_weights.<threat|area|wind>``: the sand-control priority
  (ranking within the county).

The options of every parcel (which uses it may take, in which order) do not depend on these
parameters (a uniform demand factor keeps their order), so they are built once; each draw
recomputes benefit and demand of the options, the allocation per county and the rank — the
parcel attributes (suitability scores, shares) stay those of the run. Suitability weights
therefore are not drawn: they would need the suitability rasters recomputed per draw.

A parcel is *selected* in a draw when it is allocated its recommended target (its first
option): where water binds, a parcel that falls back to a drier use or to natural recovery
(which always fits: it needs no water) is not selected.

Per parcel: ``p_selected`` (share of draws in which it is selected), ``p_top_k`` (share in
which its rank within county and pathway is ≤ ``stability.top_k``), ``rank_p05`` and
``rank_p95`` (5–95 % interval of that rank) and ``selection_stability``: ``robust`` when
``p_selected`` ≥ ``stability.robust_share`` or 1 − ``p_selected`` ≥ robust_share (selected,
or left out, in nearly every draw), else ``fragile``. With zero-width ranges every draw is the run itself:
every probability is 0 or 1 and equals the selection of the run (tests/test_stability.py).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import ConfigError

log = logging.getLogger("nxgeo.stability")

FIELDS = ["p_selected", "p_top_k", "rank_p05", "rank_p95", "selection_stability"]
FACTORS = ("water.demand_factor", "water.headroom_factor")
SAND_WEIGHTS = "pathways.sand_control.priority_weights."
# the parcel columns `rank` reads (nxgeo.candidates.stage._rank)
RANK_COLUMNS = ("parcel_id", "pathway", "adcode", "eligible", "sand_priority")


def check_uncertain(uncertain: Mapping, cfg_water: Mapping, cfg_pathways: Mapping) -> dict:
    """{param: (low, high)} after checking every name and range (ConfigError lists them)."""
    errors, out = [], {}
    benefit = dict(cfg_water["benefit"])
    for name, rng in (uncertain or {}).items():
        name = str(name)
        try:
            lo, hi = (float(rng[0]), float(rng[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            errors.append(f"stability.uncertain.{name}: expected [low, high], got {rng!r}")
            continue
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi or lo < 0:
            errors.append(
                f"stability.uncertain.{name}: range [{lo}, {hi}] must be finite, "
                f"non-negative, low <= high"
            )
            continue
        ok = (
            name in FACTORS
            or name == "water.benefit_default"
            or (name.startswith("water.benefit.") and name.split(".", 2)[2] in benefit)
            or (
                name.startswith(SAND_WEIGHTS)
                and name[len(SAND_WEIGHTS) :] in ("threat", "area", "wind")
            )
        )
        if not ok:
            errors.append(
                f"stability.uncertain.{name}: not a parameter that can be drawn "
                f"(water.benefit.<use of water.benefit>, water.benefit_default, "
                f"{', '.join(FACTORS)}, {SAND_WEIGHTS}<threat|area|wind>)"
            )
            continue
        out[name] = (lo, hi)
    if errors:
        raise ConfigError(errors)
    return out


def draw(ranges: Mapping[str, tuple[float, float]], n: int, seed: int) -> pd.DataFrame:
    """n draws (rows) of every parameter (columns), uniform in its range, reproducible."""
    rng = np.random.default_rng(int(seed))
    cols = sorted(ranges)
    u = rng.random((int(n), len(cols)))
    lo = np.array([ranges[c][0] for c in cols])
    hi = np.array([ranges[c][1] for c in cols])
    return pd.DataFrame(lo + u * (hi - lo), columns=cols)


def selection_stability(
    parcels: pd.DataFrame,
    options: pd.DataFrame,
    headroom: pd.Series,
    cfg: Mapping,
    cfg_water: Mapping,
    cfg_pathways: Mapping,
    allocate: Callable,
    rank: Callable,
    sand_priority: Callable,
) -> pd.DataFrame:
    """The stability fields (`FIELDS`) of every parcel (index of `parcels`).

    `parcels`: the year's parcels after the allocation (parcel_id, pathway, adcode, eligible,
    area_ha, sand_priority inputs); `options`: their options (`build_options`); `allocate`:
    function(options, headroom) -> assignment (parcel_id, allocated, opt_rank); `rank`:
    function(parcels, options) -> rank within county; `sand_priority`: function(parcels,
    cfg_sand) -> priority."""
    ranges = check_uncertain(cfg["uncertain"], cfg_water, cfg_pathways)
    n, k = int(cfg["draws"]), int(cfg["top_k"])
    robust = float(cfg["robust_share"])
    draws = draw(ranges, n, int(cfg["seed"]))
    base_benefit = {str(u): float(v) for u, v in cfg_water["benefit"].items()}
    base_default = float(cfg_water["benefit_default"])
    sand_cfg = copy.deepcopy(dict(cfg_pathways["sand_control"]))
    base_w = dict(sand_cfg["priority_weights"])
    area = options["parcel_id"].map(parcels.set_index("parcel_id")["area_ha"]).to_numpy(float)
    uses = options["use"].astype(str).to_numpy()
    demand0 = options["demand_m3"].to_numpy(float)
    pid = parcels["parcel_id"]
    sel = np.zeros((n, len(parcels)), dtype=bool)
    ranks = np.zeros((n, len(parcels)), dtype=np.int64)
    sand = parcels["pathway"].to_numpy() == "sand_control"
    redraw_sand = bool(sand.any()) and any(c.startswith(SAND_WEIGHTS) for c in ranges)
    # what `rank` reads, without the geometry and the other attributes (copied once)
    view = pd.DataFrame(
        {c: parcels[c].to_numpy() for c in RANK_COLUMNS if c in parcels.columns},
        index=parcels.index,
    )
    sand_parcels = parcels[sand] if redraw_sand else None
    opts = options.copy()
    benefit_of_use = pd.Series(uses)
    for i in range(n):
        p = draws.iloc[i]
        ben = {u: float(p.get(f"water.benefit.{u}", v)) for u, v in base_benefit.items()}
        bdef = float(p.get("water.benefit_default", base_default))
        opts["benefit"] = benefit_of_use.map(ben).fillna(bdef).to_numpy(float) * area
        opts["demand_m3"] = demand0 * float(p.get("water.demand_factor", 1.0))
        hr = headroom * float(p.get("water.headroom_factor", 1.0))
        a = allocate(opts, hr).set_index("parcel_id")
        alloc = pid.map(a["allocated"]).fillna(False).astype(bool).to_numpy()
        first = (pid.map(a["opt_rank"]).fillna(-1).to_numpy() == 0) & alloc
        view["allocated"] = alloc
        if redraw_sand:
            w = {key: float(p.get(SAND_WEIGHTS + key, base_w[key])) for key in base_w}
            sc = {**sand_cfg, "priority_weights": w}
            view.loc[sand, "sand_priority"] = sand_priority(sand_parcels, sc)
        sel[i] = first
        ranks[i] = rank(view, opts)
    out = pd.DataFrame(index=parcels.index)
    if n:
        ps = sel.mean(axis=0)
        out["p_selected"] = np.round(ps, 4)
        out["p_top_k"] = np.round((ranks <= k).mean(axis=0), 4)
        out["rank_p05"] = np.percentile(ranks, 5, axis=0, method="lower").astype(np.int64)
        out["rank_p95"] = np.percentile(ranks, 95, axis=0, method="higher").astype(np.int64)
        out["selection_stability"] = np.where(
            (ps >= robust) | (1 - ps >= robust), "robust", "fragile"
        )
    else:
        for c in FIELDS:
            out[c] = np.nan if c != "selection_stability" else ""
    log.info(
        "rank stability: %d draws of %s; %d robust, %d fragile parcels",
        n,
        sorted(ranges),
        int((out["selection_stability"] == "robust").sum()),
        int((out["selection_stability"] == "fragile").sum()),
    )
    return out

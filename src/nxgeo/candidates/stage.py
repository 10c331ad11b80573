"""Stage functions the workflow calls: one reach (parcels, attributes, decisions) and one year
(gather the reaches, allocate water, rank, write the styled GeoPackage and the two tables)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd

from ..atomic import write_csv, write_json
from ..costs import parcel_costs
from ..errors import InputError
from ..keys import normalize_adcode
from ..stability import FIELDS as STABILITY_FIELDS
from ..stability import selection_stability
from ..suitability.spec import best_use_order
from ..vector_io import read_vector
from ..water import county_headroom
from .allocation import GreedyDraws, _benefit_table, allocate, build_options
from .attributes import CONTINUOUS, ZONE_RASTERS, finest_slope_max, sand_extras, zonal_attributes
from .decide import NATURAL, finalize, sand_priority
from .ids import resolve_collisions
from .outputs import pathway_summary, summary_by_county, water_balance, write_candidates_gpkg
from .parcels import PATHWAYS, ReachContext
from .registry import DECIDERS, PARCEL_BUILDERS

log = logging.getLogger("nxgeo.candidates")


def _classes(classes_table) -> pd.DataFrame:
    if isinstance(classes_table, pd.DataFrame):
        return classes_table
    return pd.read_csv(classes_table, encoding="utf-8-sig")


def reach_rasters(targets: Sequence[str]) -> list[str]:
    """Every reach raster the candidate parcels of a reach read, as paths relative to the
    reach folder without ``.tif`` (``slope``, ``suitability/best_use``): the rule declares each
    (workflow/rules/candidates.smk) and `candidates_reach` is given them by file stem.
    `targets`: the suitability targets (best_use_order)."""
    from .units import ZONE_BITS

    zones = dict.fromkeys([*ZONE_RASTERS, *ZONE_BITS, "county"])
    return [
        "landuse",
        "landuse_code",  # survey codes: state-owned waste land, field ridges (三调 1203)
        "ownership",  # 1 state-owned, 2 collective, 0 unknown
        *CONTINUOUS,
        "aspect",  # wind exposure of the sand parcels
        *[f"zone_{z}" for z in zones],
        *[f"suitability/suit_{t}_{k}" for t in targets for k in ("score", "grade", "reason")],
        "suitability/best_use",
    ]


def _demand_table(demand_csv) -> pd.DataFrame:
    if isinstance(demand_csv, pd.DataFrame):
        return demand_csv
    return pd.read_csv(demand_csv, encoding="utf-8-sig")


def _first_demand(df: pd.DataFrame, demand: pd.DataFrame, water_cfg: Mapping) -> np.ndarray:
    """Water demand (m3/yr) of each parcel's recommended option (0 when not eligible)."""
    opts = build_options(df, demand, water_cfg)
    first = opts[opts["opt_rank"] == 0].set_index("parcel_id")["demand_m3"]
    return df["parcel_id"].map(first).fillna(0.0).to_numpy(float)


def candidates_reach(
    reach_dir,
    vectors_gpkg,
    reach_id: str,
    year: int,
    cfg_pathways: Mapping,
    cfg_suitability: Mapping,
    classes_table,
    out_gpkg,
    *,
    demand_csv=None,
    water_cfg: Mapping,
    mu_per_ha: float = 15.0,
    out_stats=None,
    hazard_dem=None,
) -> dict:
    """Candidate parcels of one reach and year, before the water allocation.

    `reach_dir`: {file stem: path} of the reach rasters (`reach_rasters`; only those are
    opened), or the reach folder holding them.

    Writes `out_gpkg` with the layers homestead_greening, mine_remediation, sand_control (all
    attributes and the decision; ``allocated`` 0, ``rank_in_county`` 0; indicators are the
    potential of the recommended target). `water_cfg` (config ``water``) decides the
    reclamation use (以水定地); with `demand_csv` (water-demand table) ``water_demand_m3`` is
    the recommended use's demand, else NaN. `hazard_dem`: the finest DEM, whose slope inside
    every mine decides the hazard flag (``hazard_slope_max_deg``); None: the reach's slope. Returns (and with `out_stats` writes as JSON) the counts per pathway: parcels,
    dropped below the minimum mapping unit (``dropped_mmu``), below ``min_parcel_ha``
    (``dropped_min_parcel``), outside the configured counties / zones, not eligible, seconds.
    """
    cfg_pathways = dict(cfg_pathways or {})
    classes = _classes(classes_table)
    ctx = ReachContext.load(reach_dir, vectors_gpkg, str(reach_id), classes, mu_per_ha)
    ctx.cfg_pathways = cfg_pathways
    order = best_use_order(cfg_suitability)
    counties = ctx.counties()
    names = dict(zip(counties["id"], counties["name"].astype(str))) if "name" in counties else {}
    demand = _demand_table(demand_csv) if demand_csv is not None else None
    layers, stats = {}, {"reach": str(reach_id), "year": int(year)}
    for pathway in PATHWAYS:
        t0 = time.perf_counter()
        parcels, st = PARCEL_BUILDERS[pathway](ctx, cfg_pathways)
        if not len(parcels):
            layers[pathway] = parcels
            st["seconds"] = round(time.perf_counter() - t0, 3)
            stats[pathway] = st
            continue
        attrs = zonal_attributes(ctx, parcels, order, order)
        if pathway == "sand_control":
            attrs = sand_extras(ctx, parcels, attrs, cfg_pathways["sand_control"])
        if pathway == "mine_remediation" and hazard_dem is not None:
            attrs["hazard_slope_max_deg"] = finest_slope_max(parcels, hazard_dem)
        df = pd.concat([pd.DataFrame(parcels).reset_index(drop=True), attrs], axis=1)
        df = DECIDERS[pathway](df, cfg_pathways, cfg_suitability, dict(water_cfg))
        df = finalize(
            df, natural_counts_as_greening=bool(cfg_pathways["natural_recovery_counts_as_greening"])
        )
        df["year"] = int(year)
        df["county_name"] = df["adcode"].map(names).fillna("")
        df["allocated"] = 0
        df["rank_in_county"] = 0
        df["water_demand_m3"] = (
            _first_demand(df, demand, water_cfg) if demand is not None else np.nan
        )
        layers[pathway] = gpd.GeoDataFrame(df, geometry="geometry", crs=ctx.crs)
        st["seconds"] = round(time.perf_counter() - t0, 3)
        stats[pathway] = st
        log.info("reach %s %s: %s", reach_id, pathway, st)
    write_candidates_gpkg(layers, out_gpkg, styles=False)
    if out_stats:  # timings stay in the log: the file must be the same bytes on every run
        write_json(
            {
                k: (
                    {kk: vv for kk, vv in v.items() if kk != "seconds"}
                    if isinstance(v, dict)
                    else v
                )
                for k, v in stats.items()
            },
            out_stats,
        )
    return stats


def _read_reach_layers(paths: Sequence) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for p in PATHWAYS:
        frames = []
        for path in paths:
            g = read_vector(path, p)
            if len(g):
                frames.append(g)
        if frames:
            g = pd.concat(frames, ignore_index=True)
            out[p] = gpd.GeoDataFrame(g, geometry="geometry", crs=frames[0].crs)
        else:
            out[p] = read_vector(paths[0], p) if paths else None
    return out


def _rank(df: pd.DataFrame, options: pd.DataFrame) -> np.ndarray:
    """Rank within (pathway, county): allocated, then not allocated, then not eligible; within
    those, sand_priority (C) or water priority (A, B: benefit per m3 of the recommended option,
    no-water options first, then larger benefit); ties by parcel_id."""
    first = options[options["opt_rank"] == 0].set_index("parcel_id")
    d = df["parcel_id"].map(first["demand_m3"]).to_numpy(float)
    b = df["parcel_id"].map(first["benefit"]).fillna(0.0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d > 0, b / d, np.inf)
    ratio = np.where(np.isnan(d), -np.inf, ratio)
    sand = df["pathway"].to_numpy() == "sand_control"
    prio = np.where(sand, pd.to_numeric(df["sand_priority"], errors="coerce").fillna(-1), ratio)
    tier = np.where(df["allocated"].astype(bool), 0, np.where(df["eligible"].astype(bool), 1, 2))
    # sort by pathway, adcode, tier, -prio, -ben, parcel_id (stable; strings by their sorted
    # codes, as pandas' sort_values), then number within (pathway, adcode) from 1
    pathway = _sorted_codes(df["pathway"])
    adcode = _sorted_codes(df["adcode"])
    order = np.lexsort(
        (_sorted_codes(df["parcel_id"]), -np.where(sand, 0.0, b), -prio, tier, adcode, pathway)
    )
    group = (pathway * (adcode.max(initial=0) + 1) + adcode)[order]
    start = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, bool)
    pos = np.arange(len(order))
    first_of_group = np.maximum.accumulate(np.where(start, pos, 0)) if len(pos) else pos
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = pos - first_of_group + 1
    return rank


def _sorted_codes(values: pd.Series) -> np.ndarray:
    """Integer codes in sorted order of the values (missing values last)."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes).astype(np.int64)


def allocate_year(
    reach_gpkgs: Sequence,
    budgets_csv,
    demand_csv,
    year: int,
    water_cfg: Mapping,
    out_gpkg,
    out_summary_csv,
    out_water_balance_csv,
    *,
    cfg_pathways: Mapping,
    county_names: Mapping[str, str] | None = None,
    gains=None,
    out_gains_csv=None,
    out_pathways_csv=None,
    unit_costs=None,
    previous_gpkg=None,
    tracking_cfg: Mapping | None = None,
    stability_cfg: Mapping | None = None,
) -> dict:
    """Gather the per-reach candidates of one year, allocate each county's water headroom
    (``water.solver``; both solvers run for the exact/greedy ratio), rank within county and
    pathway, write ``candidates.gpkg`` (styled), the summary by county and pathway and the
    water balance by county (CSV, UTF-8 with BOM). Returns {"summary", "water_balance",
    "seconds"}.

    `gains`: optional function(parcels) -> parcels with service-gain columns (d_*; e.g.
    `nxgeo.services.parcel_gains` with its parameters bound): the change in each ecosystem
    service if the parcel takes its recommended target, added as fields and summed per county
    and pathway into `out_gains_csv`. Natural recovery reaches it as the services target
    ``natural`` (same land, natural restoration). `cfg_pathways` (config ``pathways``): the
    natural-recovery counting rule and the Three-North targets of the pathway summary
    (`out_pathways_csv`, `outputs.pathway_summary`). `unit_costs` (the unit-cost table,
    ``inputs.tables.unit_costs``): every parcel gets ``measure``, ``unit_cost_cny_per_mu``,
    ``cost_cny``, ``cost_wan_cny`` and its ``funding`` (`nxgeo.costs.parcel_costs`; None: NULL
    costs). `previous_gpkg`: the previous survey year's candidates.gpkg, whose ids the parcels
    take by overlap (`nxgeo.tracking.carry_ids`, rules `tracking_cfg`); without it every parcel
    keeps its own id. `stability_cfg` (config ``stability``): the Monte-Carlo selection
    probabilities of every parcel (`nxgeo.stability.selection_stability`)."""
    t0 = time.perf_counter()
    water_cfg = dict(water_cfg or {})
    layers = _read_reach_layers(list(reach_gpkgs))
    frames = [layers[p] for p in PATHWAYS if layers.get(p) is not None]
    parts = [f for f in frames if len(f)]
    crs = parts[0].crs if parts else "EPSG:4507"
    allp = pd.concat(parts if parts else frames, ignore_index=True)
    for c in (
        "parcel_id",
        "pathway",
        "adcode",
        "eligible",
        "initial_target",
        "initial_use",
        "area_ha",
        "precip_mean_mm",
        "reason",
        "decision",
        "geometry",
    ):
        if c not in allp.columns:
            allp[c] = pd.Series([], dtype=object)
    allp["adcode"] = normalize_adcode(allp["adcode"]).to_numpy() if len(allp) else allp["adcode"]
    if len(allp):
        allp["parcel_id"] = resolve_collisions(allp["parcel_id"], allp.geometry.values).to_numpy()
        if tracking_cfg is not None:
            # nxgeo.tracking builds on this package (its parcel ids): imported at use
            from ..tracking import carry_ids, read_candidate_layers

            prev = read_candidate_layers(previous_gpkg) if previous_gpkg else None
            carried = carry_ids(
                prev, gpd.GeoDataFrame(allp, geometry="geometry", crs=crs), tracking_cfg
            )
            for c in ("parcel_id", "parent_ids", "id_origin"):
                allp[c] = carried[c].to_numpy()
    allp["eligible"] = pd.to_numeric(allp["eligible"], errors="coerce").fillna(0).astype(bool)
    for c in (
        "initial_target",
        "initial_use",
        "green_use",
        "suitable_uses",
        "reason",
        "decision",
        "sub_mode",
        "funding",
    ):
        if c in allp.columns:
            allp[c] = allp[c].fillna("").astype(str)
    budgets = pd.read_csv(budgets_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    headroom = county_headroom(budgets, year)
    hr = pd.Series(headroom["headroom_m3"].to_numpy(float), index=headroom["adcode"])
    demand = _demand_table(demand_csv)
    options = build_options(allp, demand, water_cfg)
    unknown = sorted(set(options["adcode"]) - set(hr.index))
    if unknown:
        raise InputError(
            f"{budgets_csv}: no water budget for year {year} for county(ies) "
            f"{unknown}, which have candidate parcels"
        )
    solve = partial(
        allocate,
        solver=str(water_cfg["solver"]),
        time_limit=float(water_cfg["exact_time_limit_s"]),
        mip_rel_gap=float(water_cfg["exact_mip_rel_gap"]),
        node_limit=int(water_cfg["exact_node_limit"]),
    )
    assign, balance = solve(options, hr, compare=bool(water_cfg["compare_solvers"]))
    a = assign.set_index("parcel_id")
    pid = allp["parcel_id"]
    allp["allocated"] = pid.map(a["allocated"]).fillna(False).astype(bool).to_numpy()
    allp["final_target"] = pid.map(a["final_target"]).astype(object).fillna("").to_numpy()
    allp["final_use"] = pid.map(a["final_use"]).astype(object).fillna("").to_numpy()
    rank = pid.map(a["opt_rank"]).fillna(-1).to_numpy(int)
    first = options[options["opt_rank"] == 0].set_index("parcel_id")["demand_m3"]
    allp["water_demand_m3"] = np.where(
        allp["allocated"], pid.map(a["water_m3"]).fillna(0.0), pid.map(first).fillna(0.0)
    ).astype(float)
    if len(allp):
        short = allp["eligible"].to_numpy() & ~allp["allocated"].to_numpy()
        allp.loc[short, "reason"] = "water_budget"
        allp.loc[allp["allocated"].to_numpy(), "reason"] = ""
        fb = rank > 0
        allp.loc[fb, "decision"] = [
            f"{d};water_fallback_from_{u}" if d else f"water_fallback_from_{u}"
            for d, u in zip(allp.loc[fb, "decision"], allp.loc[fb, "initial_use"])
        ]
        allp = finalize(
            allp,
            allocated=True,
            natural_counts_as_greening=bool(cfg_pathways["natural_recovery_counts_as_greening"]),
        )
        allp["rank_in_county"] = _rank(allp, options)
        if unit_costs is not None:
            allp = parcel_costs(allp, unit_costs)
        if stability_cfg is not None:
            stab = selection_stability(
                allp,
                options,
                hr,
                stability_cfg,
                water_cfg,
                cfg_pathways,
                # greedy: the same selection as `solve`, without a DataFrame per county
                allocate=GreedyDraws(options)
                if str(water_cfg["solver"]) == "greedy"
                else lambda o, h: solve(o, h, compare=False)[0],
                rank=_rank,
                sand_priority=sand_priority,
            )
            for c in STABILITY_FIELDS:
                allp[c] = stab[c].to_numpy()
    allp["allocated"] = allp["allocated"].astype(int)
    allp = gpd.GeoDataFrame(allp, geometry="geometry", crs=crs)
    gain_cols: list[str] = []
    if gains is not None and len(allp):
        view = allp.copy()
        for c in ("recommended_target", "green_use", "final_use"):
            if c in view.columns:
                view[c] = view[c].replace({NATURAL: "natural"})
        with_gains = gains(view)
        gain_cols = [c for c in with_gains.columns if c.startswith("d_")]
        for c in gain_cols:
            allp[c] = with_gains[c].to_numpy()
    final = {p: allp[allp["pathway"] == p].reset_index(drop=True) for p in PATHWAYS}
    for p in PATHWAYS:  # keep empty layers' schema
        if not len(final[p]) and layers.get(p) is not None:
            final[p] = layers[p]
    write_candidates_gpkg(final, out_gpkg, styles=True)
    summary = summary_by_county(final)
    names = dict(county_names or {})
    if len(allp):
        names = {**dict(zip(allp["adcode"], allp["county_name"].fillna(""))), **names}
    wb = water_balance(balance, names)
    write_csv(summary, out_summary_csv)
    pathways = pathway_summary(final, cfg_pathways)
    if out_pathways_csv is not None:
        write_csv(pathways, out_pathways_csv)
    write_csv(wb, out_water_balance_csv)
    if out_gains_csv is not None:
        cols = [c for c in gain_cols if not c.endswith("_key")]
        g = (
            allp.groupby(["adcode", "pathway"], as_index=False)[cols].sum(min_count=1)
            if cols
            else pd.DataFrame(columns=["adcode", "pathway"])
        )
        if cols:
            g.insert(1, "county_name", g["adcode"].map(names).fillna(""))
        write_csv(g, out_gains_csv)
    secs = round(time.perf_counter() - t0, 3)
    benefit, _ = _benefit_table(water_cfg)
    log.info(
        "candidates %s: %d parcels, %d allocated, %.1fs (benefit per ha: %s)",
        year,
        len(allp),
        int(allp["allocated"].sum()) if len(allp) else 0,
        secs,
        benefit,
    )
    return {"summary": summary, "water_balance": wb, "pathways": pathways, "seconds": secs}

"""Candidate layers as files: field schema, the styled GeoPackage, per-county summaries.

Fields of every candidates layer (same schema in the three layers; a field that does not apply
to a pathway is NULL / 0):

- identity: parcel_id, parent_ids and id_origin (ids carried from the previous survey year,
  `nxgeo.tracking`), pathway, year, adcode, county_name, reach, source_id, status, legacy
  (B: 1 = 历史遗留 legacy mine, 0 = not, or no other pathway), funding (B: ``public`` for
  legacy mines, ``operator`` otherwise — 治理恢复基金; empty when unknown or not a mine);
- size: area_ha, area_mu (= ha x 15);
- decision: current_class, recommended_target, target_zh, sub_mode (C for-profit: pv / shrub /
  tourism), green_use (the planting of ecological land), initial_target (before the water
  allocation), water_use (use whose water demand applies), score and grade (of that use's
  suitability; grade 255 = none), decision (codes, ";"-separated), eligible (0/1), reason
  (empty when eligible and allocated; else operating, status_<x>, no_data, already_restored,
  water_budget);
- cost (`nxgeo.costs`, the unit-cost table): measure (what is done: the use implemented, or
  the sand-control mode), unit_cost_cny_per_mu (with slope cutting for hazard mines),
  cost_cny, cost_wan_cny (of the recommended target; NULL without a target); funding is then
  ``public`` / ``operator`` / ``social_capital`` for every parcel with a target;
- water: water_demand_m3 (m3/yr: the allocated option's demand, else the recommended one's),
  allocated (0/1), rank_in_county (1 = best within county and pathway; 0 before allocation);
- rank stability (Monte-Carlo over the uncertain parameters, `nxgeo.stability`): p_selected,
  p_top_k, rank_p05, rank_p95, selection_stability (robust / fragile);
- indicators (after the allocation only allocated, eligible parcels count; rules in
  `decide`): new_cultivated_ha (占补平衡: cropland or dry cropland), freed_quota_ha (增减挂钩,
  A, D), greening_increment_ha, closure_ha (C closed protection, 封禁), natural_recovery_ha
  (自然恢复/封育, no water), pv_mw, sand_priority (C, 0-100), hazard_flag (B, 削坡减荷, from
  hazard_slope_max_deg: the steepest slope inside the mine on the finest DEM);
- zonal attributes (`attributes.py`): slope_mean/min/max, precip_mean_mm, elev_mean_m,
  dist_*_m, dist_*_min_m, dist_farmland_m, threat_dist_m, threat_kind, wind_exposure,
  protected_share (C), hazard_slope_max_deg (B),
- village measures (D land consolidation, `consolidation.FIELDS`): village_id, village_name,
  village_area_ha, cropland_ha, cropland_share, cropland_patches, mean_patch_ha, ridge_ha,
  scattered_built_ha, homestead_ha, quota_source_ha;
  protected_core, protected_any, ecological_redline, basic_farmland_share,
  water_secured_share, planned_share, best_use, suitable_uses, share_<class>, score_<target>,
  grade_<target>, reason_<target>.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..fields import bool_fields
from ..vector_io import write_layers
from . import consolidation as _lc
from .clumps import to_multi
from .parcels import PATHWAYS
from .styles import add_layer_styles

CRS = "EPSG:4507"
CORE_FIELDS = [
    "parcel_id",
    "parent_ids",
    "id_origin",
    "pathway",
    "year",
    "adcode",
    "county_name",
    "reach",
    "source_id",
    "status",
    "legacy",
    "funding",
    "area_ha",
    "area_mu",
    "current_class",
    "recommended_target",
    "target_zh",
    "sub_mode",
    "green_use",
    "initial_target",
    "initial_use",
    "water_use",
    "score",
    "grade",
    "decision",
    "eligible",
    "reason",
    "measure",
    "unit_cost_cny_per_mu",
    "cost_cny",
    "cost_wan_cny",
    "water_demand_m3",
    "allocated",
    "rank_in_county",
    "p_selected",
    "p_top_k",
    "rank_p05",
    "rank_p95",
    "selection_stability",
    "new_cultivated_ha",
    "freed_quota_ha",
    "greening_increment_ha",
    "closure_ha",
    "natural_recovery_ha",
    "pv_mw",
    "sand_priority",
    "hazard_flag",
]
ATTRIBUTE_FIELDS = [
    "slope_mean",
    "slope_min",
    "slope_max",
    "precip_mean_mm",
    "elev_mean_m",
    "dist_water_m",
    "dist_roads_m",
    "dist_settlements_m",
    "dist_water_min_m",
    "dist_roads_min_m",
    "dist_settlements_min_m",
    "dist_farmland_m",
    "threat_dist_m",
    "threat_kind",
    "wind_exposure",
    "protected_share",
    "hazard_slope_max_deg",
    "protected_core",
    "protected_any",
    "ecological_redline",
    "basic_farmland_share",
    "water_secured_share",
    "planned_share",
    "best_use",
    "suitable_uses",
]
#: fields of one pathway (NULL in the other layers): D land consolidation's village measures
PATHWAY_FIELDS = list(_lc.FIELDS)
EMPTY_STR_FIELDS = {
    "selection_stability",
    "parent_ids",
    "id_origin",
    "reason",
    "decision",
    "recommended_target",
    "target_zh",
    "sub_mode",
    "green_use",
    "initial_target",
    "initial_use",
    "water_use",
    "suitable_uses",
    "best_use",
    "current_class",
    "county_name",
    "funding",
    "measure",
}
DYNAMIC_PREFIXES = ("share_", "score_", "grade_", "reason_", "d_")  # d_: service gains
INT_FIELDS = {
    "year",
    "eligible",
    "allocated",
    "rank_in_county",
    "rank_p05",
    "rank_p95",
    "hazard_flag",
    "grade",
    "legacy",
    "cropland_patches",
    "protected_core",
    "protected_any",
    "ecological_redline",
}
BOOL_FIELDS = bool_fields()  # eligible, allocated, legacy, hazard_flag, protected_* (nxgeo.fields)
STR_FIELDS = {
    "parcel_id",
    "selection_stability",
    "parent_ids",
    "id_origin",
    "pathway",
    "adcode",
    "county_name",
    "reach",
    "source_id",
    "status",
    "funding",
    "measure",
    "current_class",
    "recommended_target",
    "target_zh",
    "sub_mode",
    "green_use",
    "initial_target",
    "initial_use",
    "water_use",
    "decision",
    "reason",
    "threat_kind",
    "best_use",
    "suitable_uses",
    *_lc.STR_FIELDS,
}


def dynamic_fields(frames) -> list[str]:
    """share_*, score_*, grade_*, reason_* fields in first-seen order, grouped by prefix."""
    seen: dict[str, list[str]] = {p: [] for p in DYNAMIC_PREFIXES}
    for df in frames:
        for c in df.columns:
            for p in DYNAMIC_PREFIXES:
                if c.startswith(p) and c not in seen[p]:
                    seen[p].append(c)
    return [c for p in DYNAMIC_PREFIXES for c in seen[p]]


def schema(frames) -> list[str]:
    return CORE_FIELDS + ATTRIBUTE_FIELDS + PATHWAY_FIELDS + dynamic_fields(frames)


def conform(gdf: gpd.GeoDataFrame, fields: list[str]) -> gpd.GeoDataFrame:
    """Columns in `fields` order with fixed types (missing: NULL / 0 / 255), MultiPolygons in
    EPSG:4507, rows by parcel_id."""
    crs = gdf.crs or CRS
    data = {}
    n = len(gdf)
    for f in fields:
        col = gdf[f] if f in gdf.columns else None
        if f in STR_FIELDS:
            vals: list[str | None]
            if col is None:
                vals = [None] * n
            elif f in EMPTY_STR_FIELDS:
                vals = list(col.fillna("").astype(str))
            else:
                vals = [
                    None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v)
                    for v in col
                ]
            data[f] = np.asarray(vals, dtype=object)
        elif f in BOOL_FIELDS:  # real booleans (GeoPackage boolean subtype)
            v = pd.to_numeric(col, errors="coerce") if col is not None else pd.Series([0] * n)
            data[f] = v.fillna(0).astype(bool).to_numpy()
        elif f in INT_FIELDS or f.startswith(("grade_", "reason_")):
            default = 255 if (f == "grade" or f.startswith("grade_")) else 0
            v = pd.to_numeric(col, errors="coerce") if col is not None else pd.Series([default] * n)
            data[f] = v.fillna(default).astype(np.int64).to_numpy()
        else:
            v = pd.to_numeric(col, errors="coerce") if col is not None else pd.Series([np.nan] * n)
            if f.startswith("share_"):
                v = v.fillna(0.0)
            data[f] = v.astype(float).to_numpy()
    geom = gpd.GeoSeries(to_multi(gdf.geometry.values), crs=crs)
    out = gpd.GeoDataFrame(data, geometry=geom.values, crs=crs)
    if out.crs is not None and out.crs.to_epsg() != 4507:
        out = out.to_crs(CRS)
    return out.sort_values("parcel_id", kind="stable").reset_index(drop=True)


def write_candidates_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, styles: bool = True
) -> Path:
    """One GeoPackage with the layers homestead_greening, mine_remediation, sand_control,
    land_consolidation (all always present, possibly empty), the documented schema, EPSG:4507, QGIS default
    styles in ``layer_styles`` (with `styles`). Atomic and byte-reproducible."""
    frames = [layers.get(p) for p in PATHWAYS]
    fields = schema([f for f in frames if f is not None])
    empty = gpd.GeoDataFrame(
        {"parcel_id": pd.Series([], dtype=object)}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS
    )
    out = {p: conform(layers[p] if layers.get(p) is not None else empty, fields) for p in PATHWAYS}
    path = Path(path)
    with atomic_path(path) as tmp:
        write_layers(tmp, out)
        con = sqlite3.connect(str(tmp))
        try:  # empty layers: declare the geometry type the others have
            con.execute(
                "UPDATE gpkg_geometry_columns SET geometry_type_name = 'MULTIPOLYGON' "
                "WHERE geometry_type_name = 'GEOMETRY'"
            )
            con.commit()
        finally:
            con.close()
        if styles:
            add_layer_styles(tmp, list(PATHWAYS))
    return path


SUMMARY_COLUMNS = [
    "adcode",
    "county_name",
    "pathway",
    "n_parcels",
    "n_eligible",
    "n_allocated",
    "area_ha",
    "area_mu",
    "allocated_area_ha",
    "new_cultivated_ha",
    "freed_quota_ha",
    "greening_increment_ha",
    "closure_ha",
    "natural_recovery_ha",
    "pv_mw",
    "water_allocated_m3",
    "n_hazard",
    "n_already_restored",
    "n_no_data",
    "n_public_funded",
    "n_operator_funded",
    "public_funded_ha",
    "operator_funded_ha",
    "social_capital_funded_ha",
    "cost_wan_cny",
    "public_cost_wan_cny",
    "operator_cost_wan_cny",
    "social_capital_cost_wan_cny",
    "cost_yi_cny",
]
FUNDERS = ("public", "operator", "social_capital")
#: indicators that are sums of the parcel fields of the same name (only allocated parcels
#: carry them: the summary equals the sum over the allocated parcels)
INDICATORS = (
    "new_cultivated_ha",
    "freed_quota_ha",
    "greening_increment_ha",
    "closure_ha",
    "natural_recovery_ha",
    "pv_mw",
)


def _frame(layers: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    parts = [
        pd.DataFrame(layers[p].drop(columns="geometry", errors="ignore"))
        for p in PATHWAYS
        if layers.get(p) is not None and len(layers[p])
    ]
    return pd.concat(parts, ignore_index=True) if parts else None


def summary_by_county(layers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per county and pathway: counts, area, indicators (sums of the parcels' indicator
    fields), water allocated, hazard flags, parcels left out as already restored or on no
    data, the allocated parcels by funding (mines: public = legacy 历史遗留, operator = 治理恢复基金;
    social capital: for-profit sand control) and their cost (万元, 亿元; NaN-free sums of
    ``cost_wan_cny``, 0 without the unit-cost table)."""
    df = _frame(layers)
    if df is None:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    df["adcode"] = df["adcode"].astype(str)
    df["county_name"] = df.get("county_name", pd.Series([""] * len(df))).fillna("").astype(str)
    alloc = pd.to_numeric(df["allocated"], errors="coerce").fillna(0).astype(bool)
    df["_alloc_area"] = np.where(alloc, df["area_ha"], 0.0)
    df["_water"] = np.where(
        alloc, pd.to_numeric(df["water_demand_m3"], errors="coerce").fillna(0), 0.0
    )
    df["_elig"] = pd.to_numeric(df["eligible"], errors="coerce").fillna(0).astype(int)
    df["_alloc"] = alloc.astype(int)
    df["_hazard"] = pd.to_numeric(df["hazard_flag"], errors="coerce").fillna(0).astype(int)
    reason = df["reason"].fillna("").astype(str)
    df["_restored"] = (reason == "already_restored").astype(int)
    df["_nodata"] = (reason == "no_data").astype(int)
    fund = df.get("funding", pd.Series([""] * len(df))).fillna("").astype(str)
    cost = pd.to_numeric(
        df.get("cost_wan_cny", pd.Series(np.nan, index=df.index)), errors="coerce"
    ).fillna(0.0)
    df["_cost"] = np.where(alloc, cost, 0.0)
    for k in FUNDERS:
        df[f"_n_{k}"] = (alloc & (fund == k)).astype(int)
        df[f"_{k}_ha"] = np.where(alloc & (fund == k), df["area_ha"], 0.0)
        df[f"_{k}_cost"] = np.where(alloc & (fund == k), cost, 0.0)
    for c in INDICATORS:
        df[c] = pd.to_numeric(df.get(c, 0.0), errors="coerce").fillna(0.0)
    g = df.groupby(["adcode", "pathway"], sort=True)
    out = pd.DataFrame(
        {
            "county_name": g["county_name"].first(),
            "n_parcels": g.size(),
            "n_eligible": g["_elig"].sum(),
            "n_allocated": g["_alloc"].sum(),
            "area_ha": g["area_ha"].sum(),
            "area_mu": g["area_mu"].sum(),
            "allocated_area_ha": g["_alloc_area"].sum(),
            **{c: g[c].sum() for c in INDICATORS},
            "water_allocated_m3": g["_water"].sum(),
            "n_hazard": g["_hazard"].sum(),
            "n_already_restored": g["_restored"].sum(),
            "n_no_data": g["_nodata"].sum(),
            "n_public_funded": g["_n_public"].sum(),
            "n_operator_funded": g["_n_operator"].sum(),
            "public_funded_ha": g["_public_ha"].sum(),
            "operator_funded_ha": g["_operator_ha"].sum(),
            "social_capital_funded_ha": g["_social_capital_ha"].sum(),
            "cost_wan_cny": g["_cost"].sum(),
            **{f"{k}_cost_wan_cny": g[f"_{k}_cost"].sum() for k in FUNDERS},
        }
    ).reset_index()
    out["cost_yi_cny"] = out["cost_wan_cny"] / 1e4
    return out[SUMMARY_COLUMNS]


PATHWAY_COLUMNS = [
    "pathway",
    "n_parcels",
    "n_allocated",
    "area_ha",
    "allocated_area_ha",
    "max_parcel_ha",
    *INDICATORS,
    "water_allocated_m3",
    "n_hazard",
    "public_funded_ha",
    "operator_funded_ha",
    "social_capital_funded_ha",
    "cost_wan_cny",
    "cost_yi_cny",
    "cost_per_mu_cny",
    "planting_ha",
    "shrub_planting_ha",
    "closure_share",
    "target_closure_share",
    "shrub_share_of_planting",
    "target_shrub_share_of_planting",
    "meets_three_north",
]


def pathway_summary(layers: Mapping[str, pd.DataFrame], cfg_pathways: Mapping) -> pd.DataFrame:
    """One row per pathway (region totals) with, for sand control, the Three-North shares
    actually reached: ``closure_share`` = (closure + natural recovery, 封育) / allocated
    (treated) area; ``shrub_share_of_planting`` = area planted with shrub / area planted with
    any green use (forest, shrub, grass, wetland); the targets
    ``pathways.sand_control.three_north`` and ``meets_three_north`` (closure share within ±10
    percentage points of its target and the shrub share >= its target)."""
    from .decide import GREEN_USES

    df = _frame(layers)
    rows = []
    tn = dict(cfg_pathways["sand_control"]["three_north"])
    for p in PATHWAYS:
        sub = df[df["pathway"] == p] if df is not None else None
        if sub is None or not len(sub):
            rows.append({"pathway": p, "n_parcels": 0})
            continue
        alloc = pd.to_numeric(sub["allocated"], errors="coerce").fillna(0).astype(bool)
        area = sub["area_ha"].astype(float)
        use = sub["water_use"].fillna("").astype(str)
        fund = sub.get("funding", pd.Series([""] * len(sub), index=sub.index)).fillna("")
        row: dict[str, Any] = {
            "pathway": p,
            "n_parcels": len(sub),
            "n_allocated": int(alloc.sum()),
            "area_ha": float(area.sum()),
            "allocated_area_ha": float(area[alloc].sum()),
            "max_parcel_ha": float(area.max()),
            **{
                c: float(pd.to_numeric(sub[c], errors="coerce").fillna(0).sum()) for c in INDICATORS
            },
            "water_allocated_m3": float(
                pd.to_numeric(sub["water_demand_m3"], errors="coerce").fillna(0)[alloc].sum()
            ),
            "n_hazard": int(pd.to_numeric(sub["hazard_flag"], errors="coerce").fillna(0).sum()),
            "public_funded_ha": float(area[alloc & (fund == "public")].sum()),
            "operator_funded_ha": float(area[alloc & (fund == "operator")].sum()),
            "social_capital_funded_ha": float(area[alloc & (fund == "social_capital")].sum()),
        }
        cost = pd.to_numeric(
            sub.get("cost_wan_cny", pd.Series(np.nan, index=sub.index)), errors="coerce"
        ).fillna(0.0)
        row["cost_wan_cny"] = float(cost[alloc].sum())
        row["cost_yi_cny"] = row["cost_wan_cny"] / 1e4
        mu = float(pd.to_numeric(sub["area_mu"], errors="coerce").fillna(0.0)[alloc].sum())
        row["cost_per_mu_cny"] = row["cost_wan_cny"] * 1e4 / mu if mu > 0 else np.nan
        if p == "sand_control":
            planted = alloc & use.isin(GREEN_USES)
            treated = row["allocated_area_ha"]
            row["planting_ha"] = float(area[planted].sum())
            row["shrub_planting_ha"] = float(area[planted & (use == "shrub")].sum())
            row["closure_share"] = (
                (row["closure_ha"] + row["natural_recovery_ha"]) / treated
                if treated > 0
                else np.nan
            )
            row["shrub_share_of_planting"] = (
                row["shrub_planting_ha"] / row["planting_ha"] if row["planting_ha"] > 0 else np.nan
            )
            row["target_closure_share"] = float(tn["closure_share"])
            row["target_shrub_share_of_planting"] = float(tn["shrub_share_of_planting"])
            with np.errstate(invalid="ignore"):
                row["meets_three_north"] = bool(
                    abs(row["closure_share"] - row["target_closure_share"]) <= 0.10
                    and row["shrub_share_of_planting"] >= row["target_shrub_share_of_planting"]
                )
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=PATHWAY_COLUMNS)


BALANCE_COLUMNS = [
    "adcode",
    "county_name",
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
]


def water_balance(balance: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The allocation's per-county balance with county names, in report column order."""
    out = balance.copy()
    names = dict(names or {})
    out["county_name"] = out["adcode"].astype(str).map(lambda a: names.get(a, ""))
    return out[BALANCE_COLUMNS].sort_values("adcode").reset_index(drop=True)

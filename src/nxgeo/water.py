"""Water capacity (以水定地, decide land by water): county headroom, water-quota modulus,
demand per use and the potential demand of all suitable land (docs/domain.md §5).

- headroom_m3 = allocation_m3 - consumption_m3 - reserve_m3 (may be zero or negative: then only
  rain-fed uses fit).
- water-quota modulus (10^4 m3/km2) = allocation_m3 / 1e4 / county area (km2), the area
  measured in a projected CRS (``water.area_crs``, default EPSG:4507).
- demand per use (m3/ha/yr) from the ``water_demand`` table; a use listed in
  ``rainfed_above_mm`` (default {forest: 400}) needs its demand only where precipitation is
  below the threshold, elsewhere 0 (rain-fed); NaN precipitation -> NaN demand.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import InputError
from .keys import normalize_adcode

BUDGET_COLUMNS = ["allocation_m3", "consumption_m3", "reserve_m3"]


def county_headroom(budgets_df: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per county for `year`: adcode, allocation_m3, consumption_m3, reserve_m3, headroom_m3."""
    need = ["adcode", "year", *BUDGET_COLUMNS]
    missing = [c for c in need if c not in budgets_df.columns]
    if missing:
        raise InputError(
            f"water budgets table lacks column(s) {', '.join(missing)}; expected {', '.join(need)}"
        )
    df = budgets_df.loc[
        pd.to_numeric(budgets_df["year"], errors="coerce") == int(year), need
    ].copy()
    if df.empty:
        years = sorted(
            int(y) for y in pd.to_numeric(budgets_df["year"], errors="coerce").dropna().unique()
        )
        raise InputError(f"water budgets table has no rows for year {year}; years present: {years}")
    df["adcode"] = normalize_adcode(df["adcode"]).to_numpy()
    dup = df["adcode"][df["adcode"].duplicated()].unique().tolist()
    if dup:
        raise InputError(f"water budgets table: more than one row for year {year} and county {dup}")
    for c in BUDGET_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    bad = df.loc[df[BUDGET_COLUMNS].isna().any(axis=1), "adcode"].tolist()
    if bad:
        raise InputError(
            f"water budgets table: missing or non-numeric values for year {year}, counties {bad}"
        )
    df["headroom_m3"] = df["allocation_m3"] - df["consumption_m3"] - df["reserve_m3"]
    return (
        df[["adcode", *BUDGET_COLUMNS, "headroom_m3"]].sort_values("adcode").reset_index(drop=True)
    )


def water_quota_modulus(
    budgets_df: pd.DataFrame,
    counties_gdf,
    year: int,
    id_field: str = "adcode",
    area_crs: str = "EPSG:4507",
):
    """Counties with ``adcode``, ``allocation_m3``, ``area_km2`` and ``water_quota_modulus``
    (10^4 m3/km2 = allocation_m3 / 1e4 / area_km2) for `year`, as a GeoDataFrame in the
    counties' CRS (ready to rasterise). Parts of a county with the same id are dissolved.
    Raises InputError for a county without a budget row."""
    from pyproj import CRS

    if counties_gdf.crs is None:
        raise InputError(
            "counties layer has no CRS; set it (e.g. EPSG:4490) before computing areas"
        )
    if id_field not in counties_gdf.columns:
        raise InputError(
            f"counties layer has no field {id_field!r}; fields: {list(counties_gdf.columns)}"
        )
    if not CRS.from_user_input(area_crs).is_projected:
        raise InputError(
            f"water.area_crs {area_crs!r} is geographic; use a projected CRS (EPSG:4507)"
        )
    budgets = county_headroom(budgets_df, year).set_index("adcode")
    g = counties_gdf[[id_field, "geometry"]].copy()
    g["adcode"] = normalize_adcode(g[id_field]).to_numpy()
    g = g[["adcode", "geometry"]].dissolve(by="adcode", as_index=False)
    area_km2 = g.geometry.to_crs(area_crs).area.to_numpy() / 1e6
    missing = sorted(set(g["adcode"]) - set(budgets.index))
    if missing:
        raise InputError(
            f"water budgets table has no row for year {year} for county(ies) {missing}"
        )
    g["allocation_m3"] = budgets.loc[g["adcode"], "allocation_m3"].to_numpy()
    g["area_km2"] = area_km2
    with np.errstate(divide="ignore", invalid="ignore"):
        g["water_quota_modulus"] = np.where(
            area_km2 > 0, g["allocation_m3"] / 1e4 / area_km2, np.nan
        )
    return g[["adcode", "allocation_m3", "area_km2", "water_quota_modulus", "geometry"]]


def demand_per_use(
    table_df: pd.DataFrame, precipitation=None, rainfed_above_mm: Mapping[str, float] | None = None
) -> dict:
    """Water demand per use (m3/ha/yr).

    Without `precipitation`: {use: nominal demand from the table} (float).
    With `precipitation` (scalar or array, mm/yr): {use: demand at that precipitation}; a use in
    `rainfed_above_mm` (config water.rainfed_above_precipitation_mm; required with
    `precipitation`) gets its demand only where precipitation is
    below its threshold (exactly at the threshold -> 0), others the table value everywhere.
    NaN precipitation gives NaN for the precipitation-dependent uses.
    """
    if precipitation is not None and rainfed_above_mm is None:
        raise TypeError("demand_per_use: rainfed_above_mm is required with precipitation")
    rules = dict(rainfed_above_mm or {})
    for c in ("use", "demand_m3_per_ha"):
        if c not in table_df.columns:
            raise InputError(
                f"water demand table lacks column {c!r}; expected use, demand_m3_per_ha"
            )
    dup = table_df["use"][table_df["use"].duplicated()].tolist()
    if dup:
        raise InputError(f"water demand table lists use(s) {dup} more than once")
    values = pd.to_numeric(table_df["demand_m3_per_ha"], errors="coerce")
    if values.isna().any() or (values < 0).any():
        bad = table_df.loc[values.isna() | (values < 0), "use"].tolist()
        raise InputError(f"water demand table: demand_m3_per_ha must be a number >= 0 for {bad}")
    nominal = {str(u): float(v) for u, v in zip(table_df["use"], values)}
    unknown = [u for u in rules if u not in nominal]
    if unknown:
        raise InputError(
            f"rainfed_above_precipitation_mm names use(s) {unknown} that are not in the "
            f"water demand table ({', '.join(nominal)})"
        )
    if precipitation is None:
        return nominal
    p = np.asarray(precipitation, dtype=np.float64)
    out = {}
    for use, d in nominal.items():
        if use in rules:
            with np.errstate(invalid="ignore"):
                dem = np.where(np.isnan(p), np.nan, np.where(p < float(rules[use]), d, 0.0))
            out[use] = dem if dem.ndim else float(dem)
        else:
            out[use] = np.full(p.shape, d) if p.ndim else d
    return out


def _long_areas(df: pd.DataFrame) -> pd.DataFrame:
    if {"adcode", "use", "area_ha"} <= set(df.columns):
        cols = ["adcode", "use", "area_ha"] + (["demand_m3"] if "demand_m3" in df.columns else [])
        out = df[cols].copy()
    else:  # wide: one row per county (adcode column or index), one column per use
        wide = df.set_index("adcode") if "adcode" in df.columns else df
        out = (
            wide.rename_axis("adcode")
            .reset_index()
            .melt(id_vars="adcode", var_name="use", value_name="area_ha")
        )
    out["adcode"] = normalize_adcode(out["adcode"]).to_numpy()
    out["use"] = out["use"].astype(str)
    out["area_ha"] = pd.to_numeric(out["area_ha"], errors="coerce").fillna(0.0)
    return out


def potential_demand_summary(
    suitable_area_ha_by_county_and_use: pd.DataFrame, demand: Mapping, headroom
) -> pd.DataFrame:
    """Per county: the water all suitable land would need if converted, vs headroom.

    `suitable_area_ha_by_county_and_use`: long (adcode, use, area_ha[, demand_m3]) or wide
    (adcode + one column per use) table of suitable area. A ``demand_m3`` column, when present,
    is used as is (e.g. forest demand summed pixel by pixel with `demand_per_use` and the
    precipitation raster); otherwise demand_m3 = area_ha x demand[use] (m3/ha/yr).
    `headroom`: `county_headroom` output (adcode, headroom_m3) or a Series indexed by adcode.

    Columns: adcode, area_<use>_ha ..., demand_<use>_m3 ..., demand_total_m3, headroom_m3,
    left_m3 (= headroom - demand), ratio (= demand / headroom; inf when headroom <= 0 and
    demand > 0, 0 when demand is 0) and binding (demand > 0 and demand > headroom).
    Counties with headroom but no suitable area appear with demand 0.
    """
    areas = _long_areas(suitable_area_ha_by_county_and_use)
    if "demand_m3" not in areas.columns:
        unknown = sorted(set(areas["use"]) - set(demand))
        if unknown:
            raise InputError(f"no water demand for use(s) {unknown}; known: {', '.join(demand)}")
        areas["demand_m3"] = areas["area_ha"] * areas["use"].map(lambda u: float(demand[u]))
    if isinstance(headroom, pd.DataFrame):
        hr = pd.Series(
            headroom["headroom_m3"].to_numpy(dtype=float),
            index=normalize_adcode(headroom["adcode"]).to_numpy(),
        )
    else:
        hr = pd.Series(
            np.asarray(headroom, dtype=float),
            index=normalize_adcode(pd.Series(headroom.index)).to_numpy(),
        )
    missing = sorted(set(areas["adcode"]) - set(hr.index))
    if missing:
        raise InputError(f"no water headroom for county(ies) {missing}")
    uses = list(dict.fromkeys(areas["use"]))
    area_w = areas.pivot_table(index="adcode", columns="use", values="area_ha", aggfunc="sum")
    dem_w = areas.pivot_table(index="adcode", columns="use", values="demand_m3", aggfunc="sum")
    counties = sorted(set(hr.index))
    area_w = area_w.reindex(index=counties, columns=uses).fillna(0.0)
    dem_w = dem_w.reindex(index=counties, columns=uses).fillna(0.0)
    out = pd.DataFrame({"adcode": counties})
    for u in uses:
        out[f"area_{u}_ha"] = area_w[u].to_numpy()
    for u in uses:
        out[f"demand_{u}_m3"] = dem_w[u].to_numpy()
    total = dem_w.sum(axis=1).to_numpy() if uses else np.zeros(len(counties))
    h = hr.reindex(counties).to_numpy(dtype=float)
    out["demand_total_m3"] = total
    out["headroom_m3"] = h
    out["left_m3"] = h - total
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total == 0, 0.0, np.where(h > 0, total / np.where(h > 0, h, 1.0), np.inf))
    out["ratio"] = ratio
    out["binding"] = (total > 0) & (total > h)
    return out


# Canonical classes that already are a target use: such pixels are not "converted".
CURRENT_CLASSES = {
    "cropland": ["cropland_irrigated", "cropland_dry"],
    "forest": ["forest"],
    "shrub": ["shrub"],
    "grass": ["grassland"],
    "wetland": ["wetland"],
    "orchard": ["orchard"],
}


def water_capacity_year(
    reach_dirs: Mapping[str, str | Mapping[str, str]],
    order: list[str],
    year: int,
    budgets_csv,
    demand_csv,
    classes_table,
    water_cfg: Mapping,
    out_summary,
    out_headroom,
) -> pd.DataFrame:
    """Gather all reaches of one year: the water that all suitable land would need if every
    pixel took its best use (best_use.tif: suitable or moderately suitable, the tie rule of the
    overlay), pixels already in that use left out, vs each county's headroom.

    Demand is summed pixel by pixel, so forest needs water only where precipitation is below
    `water.rainfed_above_precipitation_mm`. Pixels are attributed to counties by the reach's
    county raster (zone_county.tif). `reach_dirs`: reach id -> the reach's files best_use,
    zone_county, landuse, precipitation ({stem: path}, nxgeo.layout.reach_file) or its folder.
    Writes water_capacity.csv and water_headroom.csv.
    """
    import rasterio

    from .atomic import write_csv
    from .layout import reach_file

    classes = pd.read_csv(classes_table)
    class_id = dict(zip(classes["canonical"], classes["class_id"]))
    current = CURRENT_CLASSES  # (not a config key: the schema has no water.current_classes)
    budgets = pd.read_csv(budgets_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    headroom = county_headroom(budgets, year)
    demand_tab = pd.read_csv(demand_csv, encoding="utf-8-sig")
    rules = water_cfg["rainfed_above_precipitation_mm"]
    nominal = demand_per_use(demand_tab, rainfed_above_mm=rules)
    n_uses = len(order)
    # per use: classes already in that use (not "converted"), nominal demand, rain-fed threshold
    already = np.zeros((n_uses, 256), dtype=bool)
    for i, use in enumerate(order):
        for cls in current.get(use, []):
            if cls in class_id and 0 <= int(class_id[cls]) < 256:
                already[i, int(class_id[cls])] = True
    nominal_arr = np.array([nominal.get(u, np.nan) for u in order], dtype=np.float64)
    thr_arr = np.array([float(rules[u]) if u in rules else np.nan for u in order])
    rows = []
    for d in reach_dirs.values():
        with (
            rasterio.open(reach_file(d, "suitability/best_use.tif")) as b,
            rasterio.open(reach_file(d, "zone_county.tif")) as c,
            rasterio.open(reach_file(d, "landuse.tif")) as lu,
            rasterio.open(reach_file(d, "precipitation.tif")) as p,
        ):
            px_ha = abs(b.transform.a * b.transform.e) / 1e4
            for _, win in b.block_windows(1):
                best = b.read(1, window=win).astype(np.int64)
                county = c.read(1, window=win)
                sel = (best >= 1) & (best <= n_uses) & (county > 0)
                if not sel.any():
                    continue
                ui = best[sel] - 1
                land = lu.read(1, window=win)[sel].astype(np.int64)
                keep = ~already[ui, np.clip(land, 0, 255)]
                ui = ui[keep]
                if not ui.size:
                    continue
                cty = county[sel][keep]
                prec = p.read(1, window=win)[sel][keep].astype("float64")
                if p.nodata is not None:
                    prec[prec == p.nodata] = np.nan
                missing = np.unique(ui[np.isnan(nominal_arr[ui])])
                if missing.size:
                    use = order[int(missing[0])]
                    raise InputError(
                        f"no water demand for use {use!r} in {demand_csv}; "
                        f"add a row `{use},<m3 per ha>`"
                    )
                dem = nominal_arr[ui]
                thr = thr_arr[ui]
                ruled = ~np.isnan(thr)
                with np.errstate(invalid="ignore"):
                    dem = np.where(
                        ruled, np.where(np.isnan(prec), np.nan, np.where(prec < thr, dem, 0.0)), dem
                    )
                dem = np.nan_to_num(dem) * px_ha
                codes, ci = np.unique(cty, return_inverse=True)
                key = ci.ravel() * n_uses + ui
                n = np.bincount(key, minlength=codes.size * n_uses)
                tot = np.bincount(key, weights=dem, minlength=codes.size * n_uses)
                for k in np.flatnonzero(n):
                    rows.append(
                        (str(int(codes[k // n_uses])), order[k % n_uses], n[k] * px_ha, tot[k])
                    )
    long = pd.DataFrame(rows, columns=["adcode", "use", "area_ha", "demand_m3"])
    long = long.groupby(["adcode", "use"], as_index=False).sum()
    summary = potential_demand_summary(long, nominal, headroom)
    write_csv(summary, out_summary)
    write_csv(headroom, out_headroom)
    return summary

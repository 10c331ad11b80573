"""County assessment scorecard (考核评价指标表, seed 000 八(四)): one row per county and survey year
with the supply of ecological products, the change of their quantity and quality and the degree
of value realisation — GEP and its change, forest cover, grassland vegetation cover, wetland
protection, soil-and-water conservation, cropland kept and its balance, greening against the
target after trades, carbon balance, the candidates' indicators and the water headroom.

Every indicator, its definition, formula, unit and source: docs/indicators.md (`INDICATORS`
below is the same list in code: column -> Chinese name, English name, unit).

Inputs (all read by `county_scorecard`, all declared by the workflow rule):

- per reach: ``landuse.tif``, ``zone_county.tif``, ``zone_protected_any.tif``,
  ``zone_ecological_redline.tif``, ``services/soil_loss_t.tif`` (RUSLE actual loss),
  ``services/wind_erosion_t.tif`` (RWEQ actual loss), optionally ``fvc.tif``; summed per county
  block by block (`raster_sums`), pixels shared by overlapping reaches counted once;
- tables of the year: ``gep_by_county.csv``, ``water_balance.csv``, the candidates layers,
  ``programme.csv`` (the parcels the budgeted programme selects, nxgeo.programme);
- tables of the comparison ending in this year (when there is one): ``gep_change_by_county``,
  ``cropland_protection``, ``greening_ledger``, ``carbon_balance``. The first survey year has no
  comparison: its change columns are empty and ``change_note`` says why.

Raster measures per county (`raster_sums`): land area (every classified pixel, 国土面积),
forest-cover area (``scorecard.forest_cover_classes``), cropland (``cropland_classes``),
grassland area and Σ FVC × area (``grassland_classes``; FVC from the fvc raster where given,
else ``services.fvc_by_class``), wetland area (``wetland_classes``) and the part inside a
protected area or the ecological red line, and the area of each soil-erosion intensity class of
SL 190-2007 (`erosion_class`): the pixel's water-erosion modulus (RUSLE actual loss, t/(km²·a))
graded by ``water_erosion_breaks_t_per_km2`` (the first break is the tolerable soil loss, 容许土
壤流失量) and, with ``include_wind_erosion``, its wind-erosion modulus (RWEQ actual loss) by
``wind_erosion_breaks_t_per_km2``; the pixel's class is the more severe of the two.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from .atomic import write_csv
from .errors import InputError
from .grid import Grid, block_windows
from .layout import reach_file

log = logging.getLogger("nxgeo.scorecard")

#: SL 190-2007 土壤侵蚀强度分级: class codes 0..5 (微度 .. 剧烈)
EROSION_CLASSES = [
    ("slight", "微度", "slight"),
    ("light", "轻度", "light"),
    ("moderate", "中度", "moderate"),
    ("intense", "强烈", "intense"),
    ("extreme", "极强烈", "extremely intense"),
    ("severe", "剧烈", "severe"),
]
TOTAL_ID = "total"
TOTAL_NAME = "合计 Total"
NO_COMPARE_NOTE = (
    "首个调查年度或未配置对比年份，变化列为空 first survey year or no comparison "
    "configured (config compare): the change columns are empty"
)

#: column -> (中文, English, unit); the order of the scorecard (docs/indicators.md)
INDICATORS: dict[str, tuple[str, str, str]] = {
    "adcode": ("县区代码", "County code", ""),
    "county_name": ("县区", "County", ""),
    "year": ("调查年度", "Survey year", ""),
    "compare_from": ("对比年度", "Compared with year", ""),
    "change_note": ("变化说明", "Note on the change columns", ""),
    "land_area_ha": ("国土面积", "Land area", "ha"),
    "gep_yi_cny": ("生态产品总值 GEP", "Gross ecosystem product", "亿元"),
    "gep_change_yi_cny": ("GEP 变化", "GEP change", "亿元"),
    "gep_change_pct": ("GEP 变化率", "GEP change", "%"),
    "forest_cover_pct": ("森林覆盖率", "Forest cover", "%"),
    "grassland_fvc_pct": ("草原综合植被盖度", "Grassland vegetation cover", "%"),
    "grassland_fvc_source": ("植被盖度来源", "Source of the vegetation cover", ""),
    "wetland_ha": ("湿地面积", "Wetland area", "ha"),
    "wetland_protected_ha": ("受保护湿地面积", "Protected wetland", "ha"),
    "wetland_protection_pct": ("湿地保护率", "Wetland protection rate", "%"),
    "erosion_ha": ("水土流失面积", "Soil erosion area (light and above)", "ha"),
    **{
        f"erosion_{k}_ha": (f"{zh}侵蚀面积", f"Erosion {en}", "ha") for k, zh, en in EROSION_CLASSES
    },
    "soil_conservation_pct": ("水土保持率", "Soil and water conservation rate", "%"),
    "cropland_ha": ("耕地保有量", "Cropland kept", "ha"),
    "cropland_mu": ("耕地保有量", "Cropland kept", "亩"),
    "cropland_gain_ha": ("耕地补入", "Cropland gained", "ha"),
    "cropland_loss_ha": ("耕地流出", "Cropland lost", "ha"),
    "cropland_net_ha": ("耕地进出平衡", "Cropland in/out balance", "ha"),
    "greening_increment_ha": ("绿化增量", "Greening increment", "ha"),
    "greening_target_ha": ("绿化目标", "Greening target", "ha"),
    "greening_after_trade_ha": ("交易后绿化量", "Greening after trades", "ha"),
    "greening_vs_target_ha": ("交易后绿化量减目标", "Greening after trades minus target", "ha"),
    "greening_status": ("绿化目标完成情况", "Greening status", ""),
    "carbon_sink_t_co2": ("碳汇量", "Carbon sink", "t CO2"),
    "carbon_emission_t_co2": ("碳排放量", "Carbon emission", "t CO2"),
    "carbon_balance_t_co2": ("碳收支", "Carbon balance", "t CO2"),
    "carbon_after_trade_t_co2": ("交易后碳收支", "Carbon balance after trades", "t CO2"),
    "carbon_status": ("碳收支状态", "Carbon status", ""),
    "cand_allocated_n": ("入选地块数", "Allocated candidate parcels", ""),
    "cand_new_cultivated_ha": ("新增耕地（候选）", "New cultivated land (candidates)", "ha"),
    "cand_freed_quota_ha": (
        "腾退建设用地指标（候选）",
        "Freed construction quota (candidates)",
        "ha",
    ),
    "cand_greening_ha": ("绿化增量（候选）", "Greening increment (candidates)", "ha"),
    "cand_pv_mw": ("光伏装机（候选）", "PV capacity (candidates)", "MW"),
    "cand_closure_ha": ("封禁保护（候选）", "Closed protection (candidates)", "ha"),
    "water_headroom_m3": ("可用水量余量", "Water headroom", "m3/yr"),
    "water_allocated_m3": ("候选地块配水量", "Water allocated to candidates", "m3/yr"),
    "water_left_m3": ("配水后余量", "Water left after allocation", "m3/yr"),
    "prog_parcels_n": ("规划项目地块数", "Programme parcels", ""),
    "prog_area_mu": ("规划项目面积", "Programme area", "亩"),
    "prog_cost_wan_cny": ("规划投资", "Programme cost", "万元"),
    "prog_new_cultivated_ha": ("规划新增耕地", "Programme new cultivated land", "ha"),
    "prog_greening_ha": ("规划绿化增量", "Programme greening increment", "ha"),
    "prog_gep_gain_wan_cny": ("规划GEP增量", "Programme GEP gain", "万元/年"),
}
COLUMNS = list(INDICATORS)
#: indicators summed over the allocated, eligible parcels of the candidates layers
CANDIDATE_SUMS = {
    "cand_new_cultivated_ha": "new_cultivated_ha",
    "cand_freed_quota_ha": "freed_quota_ha",
    "cand_greening_ha": "greening_increment_ha",
    "cand_pv_mw": "pv_mw",
    "cand_closure_ha": "closure_ha",
}
#: scorecard column -> column of the programme's selected parcels (programme.csv, nxgeo.programme)
PROGRAMME_SUMS = {
    "prog_area_mu": "area_mu",
    "prog_cost_wan_cny": "cost_wan_cny",
    "prog_new_cultivated_ha": "new_cultivated_ha",
    "prog_greening_ha": "greening_increment_ha",
    "prog_gep_gain_wan_cny": "d_gep_wan_cny",
}
#: the columns the report shows first, in this order
REPORT_COLUMNS = [
    "county_name",
    "gep_yi_cny",
    "gep_change_pct",
    "forest_cover_pct",
    "grassland_fvc_pct",
    "wetland_protection_pct",
    "soil_conservation_pct",
    "cropland_ha",
    "cropland_net_ha",
    "greening_vs_target_ha",
    "carbon_balance_t_co2",
    "cand_new_cultivated_ha",
    "cand_freed_quota_ha",
    "cand_greening_ha",
    "cand_pv_mw",
    "cand_closure_ha",
    "water_headroom_m3",
    "prog_cost_wan_cny",
    "prog_gep_gain_wan_cny",
]
RASTER_KEYS = [
    "land_ha",
    "forest_ha",
    "cropland_ha",
    "grassland_ha",
    "grassland_fvc_ha",
    "wetland_ha",
    "wetland_protected_ha",
    *[f"erosion_{k}_ha" for k, _, _ in EROSION_CLASSES],
]


# --------------------------------------------------------------------------------------------
# Per-pixel rules (pure)


def erosion_class(modulus_t_per_km2, breaks) -> np.ndarray:
    """SL 190-2007 intensity class 0..5 (微度, 轻度, 中度, 强烈, 极强烈, 剧烈) of an erosion
    modulus (t/(km²·a)); `breaks` the five lower limits of 轻度..剧烈 (the first is the
    tolerable loss). A modulus exactly at a break is in the higher class; NaN -> 0 (no erosion
    known: counted as 微度)."""
    b = np.asarray([float(x) for x in breaks], dtype=np.float64)
    if b.size != 5 or np.any(np.diff(b) <= 0):
        raise ValueError(f"erosion breaks must be 5 increasing moduli (t/km2/yr), not {list(b)}")
    m = np.nan_to_num(np.asarray(modulus_t_per_km2, dtype=np.float64), nan=0.0)
    return np.searchsorted(b, m, side="right").astype(np.uint8)


def rates(sums: pd.DataFrame) -> pd.DataFrame:
    """The rate indicators from the raster sums (one row per zone): forest_cover_pct = forest
    area / land area; grassland_fvc_pct = Σ FVC·area / grassland area; wetland_protection_pct =
    protected wetland / wetland; soil_conservation_pct = (land − erosion ≥ 轻度) / land; all in %,
    empty where the denominator is 0."""
    s = sums
    out = pd.DataFrame(index=s.index)

    def pct(num, den):
        num, den = np.asarray(num, float), np.asarray(den, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, 100.0 * num / den, np.nan)

    eroded = sum(s[f"erosion_{k}_ha"] for k, _, _ in EROSION_CLASSES[1:])
    out["land_area_ha"] = s["land_ha"]
    out["forest_cover_pct"] = pct(s["forest_ha"], s["land_ha"])
    out["grassland_fvc_pct"] = pct(s["grassland_fvc_ha"], s["grassland_ha"])
    out["wetland_ha"] = s["wetland_ha"]
    out["wetland_protected_ha"] = s["wetland_protected_ha"]
    out["wetland_protection_pct"] = pct(s["wetland_protected_ha"], s["wetland_ha"])
    out["erosion_ha"] = eroded
    for k, _, _ in EROSION_CLASSES:
        out[f"erosion_{k}_ha"] = s[f"erosion_{k}_ha"]
    out["soil_conservation_pct"] = pct(s["land_ha"] - eroded, s["land_ha"])
    out["cropland_ha"] = s["cropland_ha"]
    return out


def candidate_indicators(parcels: pd.DataFrame) -> pd.DataFrame:
    """Per county (adcode): the sums of the candidates' indicator fields over the parcels that
    are eligible AND allocated (an unallocated parcel counts nothing), and their number."""
    cols = ["adcode", "cand_allocated_n", *CANDIDATE_SUMS]
    if parcels is None or not len(parcels):
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(parcels).copy()
    for c in ("allocated", "eligible"):
        df[c] = pd.to_numeric(df.get(c, 0), errors="coerce").fillna(0).astype(bool)
    real = df["allocated"] & df["eligible"]
    df = df[real.to_numpy()]
    df["adcode"] = df["adcode"].astype(str)
    df["cand_allocated_n"] = 1
    for col, field in CANDIDATE_SUMS.items():
        df[col] = pd.to_numeric(df[field], errors="coerce").fillna(0.0) if field in df else 0.0
    g = df.groupby("adcode", sort=True)[["cand_allocated_n", *CANDIDATE_SUMS]].sum()
    return g.reset_index()[cols]


def programme_indicators(programme: pd.DataFrame | None) -> pd.DataFrame:
    """Per county (adcode): the number of parcels the budgeted programme selects and the sums
    of their area, cost and gains (PROGRAMME_SUMS; programme.csv has one row per selected
    parcel)."""
    cols = ["adcode", "prog_parcels_n", *PROGRAMME_SUMS]
    if programme is None or not len(programme):
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(programme).copy()
    df["adcode"] = df["adcode"].astype(str).str.replace(r"\.0$", "", regex=True)
    df["prog_parcels_n"] = 1
    for col, field in PROGRAMME_SUMS.items():
        df[col] = pd.to_numeric(df[field], errors="coerce").fillna(0.0) if field in df else 0.0
    g = df.groupby("adcode", sort=True)[["prog_parcels_n", *PROGRAMME_SUMS]].sum()
    return g.reset_index()[cols]


# --------------------------------------------------------------------------------------------
# Raster sums over the reaches


def _read(ds, win) -> np.ndarray:
    a = ds.read(1, window=win).astype(np.float64)
    if ds.nodata is not None:
        a = np.where(a == ds.nodata, np.nan, a)
    return a


def raster_sums(
    reach_dirs: Mapping[str, str | Path],
    codes: Sequence[int],
    classes_table,
    cfg_scorecard: Mapping,
    fvc_by_class: Mapping[str, float],
    *,
    subdir: str = "services",
    block_rows: int = 512,
) -> pd.DataFrame:
    """Per county of `codes` (adcodes): the RASTER_KEYS areas (ha) summed block by block over
    the reaches (module docstring). Pixels outside every county of `codes` are left out; a
    pixel shared by overlapping reaches counts once (the first reach, as the service tables)."""
    from .services.stage import _overlap_masks

    cfg = dict(cfg_scorecard)
    classes = (
        pd.read_csv(classes_table, encoding="utf-8-sig")
        if not isinstance(classes_table, pd.DataFrame)
        else classes_table
    )
    cid = {str(c): int(i) for c, i in zip(classes["canonical"], classes["class_id"])}

    def ids(key):
        unknown = [c for c in cfg[key] if str(c) not in cid]
        if unknown:
            raise InputError(
                f"scorecard.{key}: unknown land-use class(es) {unknown}; known: {', '.join(cid)}"
            )
        return [cid[str(c)] for c in cfg[key]]

    forest, crop = ids("forest_cover_classes"), ids("cropland_classes")
    grass, wet = ids("grassland_classes"), ids("wetland_classes")
    lut_size = max(cid.values()) + 1
    fvc_lut = np.full(lut_size, np.nan)
    for c, v in (fvc_by_class or {}).items():
        if str(c) in cid:
            fvc_lut[cid[str(c)]] = float(v)
    missing = [c for c in cfg["grassland_classes"] if np.isnan(fvc_lut[cid[str(c)]])]
    sorted_codes = np.asarray(sorted(int(c) for c in codes), dtype=np.int64)
    n = len(sorted_codes)
    sums = {k: np.zeros(n + 1) for k in RASTER_KEYS}
    dirs = {k: v if isinstance(v, Mapping) else Path(v) for k, v in reach_dirs.items()}
    claimed = _overlap_masks({k: reach_file(d, "landuse.tif") for k, d in dirs.items()})
    wind = bool(cfg["include_wind_erosion"])
    for name, d in dirs.items():
        paths = {
            "landuse": reach_file(d, "landuse.tif"),
            "county": reach_file(d, "zone_county.tif"),
            "protected": reach_file(d, "zone_protected_any.tif"),
            "redline": reach_file(d, "zone_ecological_redline.tif"),
            "water_loss": reach_file(d, f"{subdir}/soil_loss_t.tif"),
        }
        if wind:
            paths["wind_loss"] = reach_file(d, f"{subdir}/wind_erosion_t.tif")
        if reach_file(d, "fvc.tif").exists():
            paths["fvc"] = reach_file(d, "fvc.tif")
        elif missing:
            raise InputError(
                f"services.fvc_by_class has no value for {missing} and reach "
                f"{name} has no fvc.tif: the grassland vegetation cover needs one"
            )
        for k, p in paths.items():
            if not p.exists():
                raise InputError(f"{p}: {k} raster of reach {name} not found (county scorecard)")
        grid = Grid.from_raster(paths["landuse"])
        for p in paths.values():
            if not Grid.from_raster(p).matches(grid):
                raise InputError(f"{p}: not on the grid of {paths['landuse']}")
        px_ha = grid.pixel_area / 1e4
        px_km2 = grid.pixel_area / 1e6
        ds = {k: rasterio.open(p) for k, p in paths.items()}
        try:
            for win in block_windows(grid.width, grid.height, block_rows):
                lu = ds["landuse"].read(1, window=win).astype(np.int64)
                valid = (ds["landuse"].read_masks(1, window=win) > 0) & (lu > 0) & (lu < lut_size)
                if name in claimed:
                    r0, c0 = int(win.row_off), int(win.col_off)
                    valid &= ~claimed[name][r0 : r0 + int(win.height), c0 : c0 + int(win.width)]
                county = ds["county"].read(1, window=win).astype(np.int64)
                pos = np.minimum(np.searchsorted(sorted_codes, county), max(n - 1, 0))
                known = (sorted_codes[pos] == county) if n else np.zeros(county.shape, bool)
                valid &= known
                if not valid.any():
                    continue
                b = pos[valid]
                luv = lu[valid]

                def add(key, weight, b=b):
                    sums[key] += np.bincount(
                        b, weights=np.broadcast_to(weight, b.shape), minlength=n + 1
                    )

                add("land_ha", px_ha)
                add("forest_ha", np.where(np.isin(luv, forest), px_ha, 0.0))
                add("cropland_ha", np.where(np.isin(luv, crop), px_ha, 0.0))
                is_grass = np.isin(luv, grass)
                add("grassland_ha", np.where(is_grass, px_ha, 0.0))
                f = fvc_lut[luv]
                if "fvc" in ds:
                    fr = _read(ds["fvc"], win)[valid]
                    f = np.where(np.isfinite(fr), np.clip(fr, 0.0, 1.0), f)
                add("grassland_fvc_ha", np.where(is_grass, np.nan_to_num(f) * px_ha, 0.0))
                is_wet = np.isin(luv, wet)
                prot = (ds["protected"].read(1, window=win) == 1) | (
                    ds["redline"].read(1, window=win) == 1
                )
                add("wetland_ha", np.where(is_wet, px_ha, 0.0))
                add("wetland_protected_ha", np.where(is_wet & prot[valid], px_ha, 0.0))
                cls = erosion_class(
                    _read(ds["water_loss"], win)[valid] / px_km2,
                    cfg["water_erosion_breaks_t_per_km2"],
                )
                if wind:
                    cls = np.maximum(
                        cls,
                        erosion_class(
                            _read(ds["wind_loss"], win)[valid] / px_km2,
                            cfg["wind_erosion_breaks_t_per_km2"],
                        ),
                    )
                for ci, (key, _, _) in enumerate(EROSION_CLASSES):
                    add(f"erosion_{key}_ha", np.where(cls == ci, px_ha, 0.0))
        finally:
            for x in ds.values():
                x.close()
    out = pd.DataFrame({k: v[:n] for k, v in sums.items()})
    out.insert(0, "adcode", [str(c) for c in sorted_codes])
    out["grassland_fvc_source"] = (
        "fvc raster"
        if any(reach_file(d, "fvc.tif").exists() for d in dirs.values())
        else "services.fvc_by_class (no fvc raster)"
    )
    return out


# --------------------------------------------------------------------------------------------
# The table


def _table(path, need: Sequence[str], what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} not found (county scorecard)")
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"adcode": str, "zone_id": str})
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise InputError(f"{path}: column(s) {miss} missing ({what})")
    return df


def _county_rows(df: pd.DataFrame, key: str = "adcode") -> pd.DataFrame:
    if "zone_kind" in df.columns:
        df = df[df["zone_kind"] == "county"]
    df = df[df[key].astype(str) != TOTAL_ID].copy()
    df["adcode"] = df[key].astype(str).str.replace(r"\.0$", "", regex=True)
    return df.drop_duplicates("adcode").set_index("adcode")


def build_scorecard(
    counties: pd.DataFrame,
    year: int,
    sums: pd.DataFrame,
    gep: pd.DataFrame,
    parcels: pd.DataFrame | None,
    water_balance: pd.DataFrame | None,
    *,
    compare_from: int | None = None,
    gep_change: pd.DataFrame | None = None,
    cropland: pd.DataFrame | None = None,
    greening: pd.DataFrame | None = None,
    carbon: pd.DataFrame | None = None,
    programme: pd.DataFrame | None = None,
    mu_per_ha: float = 15.0,
) -> pd.DataFrame:
    """The scorecard (COLUMNS) from the pieces, one row per county of `counties` (adcode,
    name) and a total row (sums; rates recomputed from the summed areas). Pure."""
    idx = pd.Index([str(c) for c in counties["adcode"]], name="adcode")
    out = pd.DataFrame(index=idx)
    out["county_name"] = list(counties["name"].astype(str))
    out["year"] = int(year)
    s = sums.set_index(sums["adcode"].astype(str)).reindex(idx)
    s[RASTER_KEYS] = s[RASTER_KEYS].fillna(0.0)
    r = rates(s)
    g = _county_rows(gep, "zone_id")
    out["gep_yi_cny"] = g["gep_yi_cny"].reindex(idx)
    cmp_ok = compare_from is not None
    out["compare_from"] = int(compare_from) if compare_from is not None else np.nan
    out["change_note"] = f"{compare_from}→{year}" if cmp_ok else NO_COMPARE_NOTE

    def take(df, key, src):
        if not cmp_ok or df is None:
            return np.nan
        return _county_rows(df, key)[src].reindex(idx) if src in df.columns else np.nan

    out["gep_change_yi_cny"] = take(gep_change, "zone_id", "d_gep_yi_cny")
    out["gep_change_pct"] = take(gep_change, "zone_id", "d_gep_pct")
    for c in r.columns:
        out[c] = r[c]
    out["grassland_fvc_source"] = s["grassland_fvc_source"].fillna("")
    out["cropland_mu"] = out["cropland_ha"] * float(mu_per_ha)
    for col, src in (
        ("cropland_gain_ha", "cropland_gain_ha"),
        ("cropland_loss_ha", "cropland_loss_ha"),
        ("cropland_net_ha", "cropland_net_ha"),
    ):
        out[col] = take(cropland, "adcode", src)
    for col, src in (
        ("greening_increment_ha", "increment_ha"),
        ("greening_target_ha", "target_ha"),
        ("greening_after_trade_ha", "after_trade_ha"),
        ("greening_status", "status_zh"),
    ):
        out[col] = take(greening, "adcode", src)
    out["greening_vs_target_ha"] = pd.to_numeric(
        out["greening_after_trade_ha"], errors="coerce"
    ) - pd.to_numeric(out["greening_target_ha"], errors="coerce")
    for col, src in (
        ("carbon_sink_t_co2", "sink_t_co2"),
        ("carbon_emission_t_co2", "emission_t_co2"),
        ("carbon_balance_t_co2", "balance_t_co2"),
        ("carbon_after_trade_t_co2", "after_trade_balance_t_co2"),
        ("carbon_status", "status_zh"),
    ):
        out[col] = take(carbon, "adcode", src)
    cand = candidate_indicators(parcels).set_index("adcode").reindex(idx)
    for c in ["cand_allocated_n", *CANDIDATE_SUMS]:
        out[c] = cand[c].fillna(0.0).to_numpy() if c in cand else 0.0
    out["cand_allocated_n"] = out["cand_allocated_n"].astype(int)
    if water_balance is not None and len(water_balance):
        wb = _county_rows(water_balance, "adcode")
        out["water_headroom_m3"] = wb["headroom_m3"].reindex(idx)
        out["water_allocated_m3"] = wb["allocated_m3"].reindex(idx)
        out["water_left_m3"] = wb["left_m3"].reindex(idx)
    else:
        out[["water_headroom_m3", "water_allocated_m3", "water_left_m3"]] = np.nan
    prog = programme_indicators(programme).set_index("adcode").reindex(idx)
    for c in ["prog_parcels_n", *PROGRAMME_SUMS]:
        out[c] = pd.to_numeric(prog[c], errors="coerce").fillna(0.0).to_numpy()
    out["prog_parcels_n"] = out["prog_parcels_n"].astype(int)
    out = out.reset_index()
    # total row: sums of the additive columns, rates from the summed areas
    tot = {
        "adcode": TOTAL_ID,
        "county_name": TOTAL_NAME,
        "year": int(year),
        "compare_from": out["compare_from"].iloc[0] if len(out) else np.nan,
        "change_note": out["change_note"].iloc[0] if len(out) else "",
    }
    tsum = pd.DataFrame([s[RASTER_KEYS].sum()])
    tr = rates(tsum).iloc[0]
    for c in tr.index:
        tot[c] = tr[c]
    tot["grassland_fvc_source"] = out["grassland_fvc_source"].iloc[0] if len(out) else ""
    additive = [
        "gep_yi_cny",
        "gep_change_yi_cny",
        "cropland_mu",
        "cropland_gain_ha",
        "cropland_loss_ha",
        "cropland_net_ha",
        "greening_increment_ha",
        "greening_target_ha",
        "greening_after_trade_ha",
        "greening_vs_target_ha",
        "carbon_sink_t_co2",
        "carbon_emission_t_co2",
        "carbon_balance_t_co2",
        "carbon_after_trade_t_co2",
        "cand_allocated_n",
        *CANDIDATE_SUMS,
        "water_headroom_m3",
        "water_allocated_m3",
        "water_left_m3",
        "prog_parcels_n",
        *PROGRAMME_SUMS,
    ]
    for c in additive:
        tot[c] = pd.to_numeric(out[c], errors="coerce").sum(min_count=1)
    if cmp_ok and gep_change is not None:
        gt = gep_change[gep_change["zone_id"].astype(str) == TOTAL_ID]
        tot["gep_change_pct"] = float(gt["d_gep_pct"].iloc[0]) if len(gt) else np.nan
    else:
        tot["gep_change_pct"] = np.nan
    out = pd.concat([out, pd.DataFrame([tot])], ignore_index=True)
    return out[COLUMNS]


def county_scorecard(
    reach_dirs: Mapping[str, str | Path],
    year: int,
    vectors_gpkg,
    classes_table,
    out_csv,
    *,
    cfg_scorecard: Mapping,
    fvc_by_class: Mapping[str, float],
    gep_csv,
    candidates_gpkg,
    water_balance_csv,
    compare_from: int | None = None,
    gep_change_csv=None,
    cropland_csv=None,
    greening_csv=None,
    carbon_csv=None,
    programme_csv=None,
    mu_per_ha: float = 15.0,
) -> pd.DataFrame:
    """Stage: read every input (module docstring), build the scorecard, write `out_csv` (UTF-8
    with BOM). `compare_from`: the earlier year of the comparison ending in `year` (None: the
    first year, and the compare tables are not read). `programme_csv`: the budgeted
    programme's selected parcels (programme.csv); None: the programme columns are 0."""
    import pyogrio

    from .vector_io import read_vector

    c = read_vector(vectors_gpkg, "counties")
    counties = pd.DataFrame(
        {
            "adcode": c["id"].astype(str).str.replace(r"\.0$", "", regex=True),
            "name": c["name"].astype(str) if "name" in c else c["id"],
        }
    )
    counties = counties.drop_duplicates("adcode").sort_values("adcode").reset_index(drop=True)
    sums = raster_sums(
        reach_dirs, [int(a) for a in counties["adcode"]], classes_table, cfg_scorecard, fvc_by_class
    )
    gep = _table(gep_csv, ["zone_id", "gep_yi_cny"], "GEP by county")
    wb = _table(
        water_balance_csv, ["adcode", "headroom_m3", "allocated_m3", "left_m3"], "water balance"
    )
    frames = []
    for name, _ in pyogrio.list_layers(candidates_gpkg):
        if name == "layer_styles":
            continue
        df = pyogrio.read_dataframe(candidates_gpkg, layer=name, read_geometry=False)
        if len(df):
            frames.append(pd.DataFrame(df))
    parcels = pd.concat(frames, ignore_index=True) if frames else None
    kw = {}
    if compare_from is not None:
        kw = {
            "gep_change": _table(
                gep_change_csv, ["zone_id", "d_gep_yi_cny", "d_gep_pct"], "GEP change by county"
            ),
            "cropland": _table(cropland_csv, ["adcode", "cropland_net_ha"], "cropland protection"),
            "greening": _table(
                greening_csv, ["adcode", "target_ha", "after_trade_ha"], "greening ledger"
            ),
            "carbon": _table(carbon_csv, ["adcode", "balance_t_co2"], "carbon balance"),
        }
    if programme_csv is not None:
        kw["programme"] = _table(
            programme_csv, ["adcode", *PROGRAMME_SUMS.values()], "programme (selected parcels)"
        )
    table = build_scorecard(
        counties, year, sums, gep, parcels, wb, compare_from=compare_from, mu_per_ha=mu_per_ha, **kw
    )
    write_csv(table, out_csv)
    log.info(
        "county scorecard %s: %d counties, compared with %s", year, len(counties), compare_from
    )
    return table


# --------------------------------------------------------------------------------------------
# Report


def _fmt(v, unit: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if isinstance(v, str):
        return v
    if unit == "%":
        return f"{float(v):.1f}"
    if unit in ("亿元",):
        return f"{float(v):.2f}"
    if abs(float(v)) >= 1000:
        return f"{float(v):,.0f}"
    return f"{float(v):,.1f}"


def report_table(
    scorecard, columns: Sequence[str] = REPORT_COLUMNS
) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """The report's scorecard as data: (the table with the `columns` present, in that order;
    {column: (中文, English)}) — for a renderer that formats numbers itself (nxgeo.report's
    make_table takes the headers; the unit comes from the column's kind)."""
    df = (
        pd.read_csv(scorecard, encoding="utf-8-sig", dtype={"adcode": str})
        if not isinstance(scorecard, pd.DataFrame)
        else scorecard
    )
    cols = [c for c in columns if c in df.columns]
    return df[cols].copy(), {c: INDICATORS[c][:2] for c in cols}


def report_rows(
    scorecard, columns: Sequence[str] = REPORT_COLUMNS
) -> tuple[list[str], list[list[str]]]:
    """Report-ready scorecard (the report's first table): (headers, rows) — bilingual headers
    with units ("森林覆盖率 Forest cover (%)"), one row per county and the total, numbers
    formatted (%, 亿元 two decimals, thousands separators), '—' where empty. `scorecard`: the
    table or the path of county_scorecard.csv."""
    df = (
        pd.read_csv(scorecard, encoding="utf-8-sig", dtype={"adcode": str})
        if not isinstance(scorecard, pd.DataFrame)
        else scorecard
    )
    heads = []
    for c in columns:
        zh, en, unit = INDICATORS[c]
        heads.append(f"{zh} {en}" + (f" ({unit})" if unit else ""))
    rows = [[_fmt(r[c], INDICATORS[c][2]) for c in columns] for _, r in df.iterrows()]
    return heads, rows

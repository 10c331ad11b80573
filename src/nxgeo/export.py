"""Exports in the formats the department files (issue #15; docs/exports.md).

One folder per survey year, ``results/<year>/export/``:

- ``candidates.gdb``: the candidate layers (one feature class per pathway) as an Esri File
  Geodatabase (GDAL's OpenFileGDB driver, which writes since GDAL 3.6), long field names kept.
- ``shp/<pathway>.shp`` (+ .shx .dbf .prj .cpg): the same layers as Shapefiles, text in UTF-8
  (``.cpg`` says so), field names cut to at most 10 characters by `short_names` (one-to-one,
  case-insensitively distinct, as dBASE needs); ``shp/field_names.csv`` maps every short
  name back to the long name with its Chinese alias (the field registry, `nxgeo.fields`).
- ``tables.xlsx``: the year's county tables, one sheet each, with Chinese headers (the Chinese
  name then the CSV column name) and a sheet ``字段说明`` listing every header.

Coordinates: the analysis CRS (EPSG:4507, the 6-degree zone CM 105E), or ``export.crs`` —
e.g. a CGCS2000 3-degree Gauss-Krüger zone the department files in: EPSG:4544 / 4545 (CM 105E /
108E, easting without the zone number) or EPSG:4523 / 4524 (zones 35 / 36, with the zone
number prefixed to the easting).

Reproducible: the same inputs give the same Shapefile and xlsx bytes (the dBASE header's
update date and the workbook's timestamps are fixed to 2000-01-01).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .atomic import temp_dir_beside
from .errors import InputError

MAX_SHP_FIELD = 10
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
#: Chinese names of the workbook sheets (the table's file stem -> sheet; Excel: <= 31 chars)
SHEETS = {
    "candidates_summary": "候选地块汇总（县·路径）",
    "candidates_pathways": "修复路径汇总",
    "candidates_service_gains": "生态服务增量（县·路径）",
    "water_balance": "县域水量平衡",
    "water_capacity": "以水定地承载力",
    "services_by_county": "生态系统服务（县）",
    "gep_by_county": "GEP核算（县）",
    "inventory_by_class": "土地利用现状（县·地类）",
}
FIELD_SHEET = "字段说明"
#: curated short names (the others by rule, `short_names`)
SHORT = {
    "county_name": "county_nm",
    "recommended_target": "rec_target",
    "initial_target": "init_targ",
    "initial_use": "init_use",
    "water_demand_m3": "water_m3",
    "rank_in_county": "rank_cnty",
    "new_cultivated_ha": "new_cul_ha",
    "freed_quota_ha": "freed_ha",
    "greening_increment_ha": "green_ha",
    "natural_recovery_ha": "natrec_ha",
    "sand_priority": "sand_prio",
    "hazard_flag": "hazard",
    "current_class": "cur_class",
    "suitable_uses": "suit_uses",
    "precip_mean_mm": "precip_mm",
    "elev_mean_m": "elev_m",
    "water_secured_share": "secured_sh",
    "basic_farmland_share": "farmld_sh",
    "protected_share": "prot_sh",
    "protected_core": "prot_core",
    "protected_any": "prot_any",
    "ecological_redline": "redline",
    "planned_share": "planned_sh",
    "hazard_slope_max_deg": "haz_slope",
    "threat_dist_m": "threat_m",
    "threat_kind": "threat_knd",
    "wind_exposure": "wind_exp",
    "dist_farmland_m": "d_farm_m",
}
PREFIXES = {"share_": "sh_", "score_": "sc_", "grade_": "gr_", "reason_": "rs_", "dist_": "d_"}

# --- Chinese headers of the county tables ----------------------------------------------------
#: phrases (of "_"-separated tokens, longest match first) -> Chinese
PHRASES = {
    "adcode": "县区代码",
    "county_name": "县（区）",
    "zone_kind": "统计单元类型",
    "zone_id": "统计单元代码",
    "zone_name": "统计单元名称",
    "year": "年度",
    "pathway": "修复路径",
    "class_id": "地类代码",
    "class_zh": "地类名称",
    "class_en": "地类英文名",
    "class": "地类",
    "share": "占比",
    "n_parcels": "地块数",
    "n_eligible": "符合条件地块数",
    "n_allocated": "已配水地块数",
    "n_candidates": "候选地块数",
    "n_fallback": "降级用途地块数",
    "n_hazard": "需削坡减荷地块数",
    "n_already_restored": "已修复地块数",
    "n_no_data": "无数据地块数",
    "n_public_funded": "财政资金地块数",
    "n_operator_funded": "矿权人资金地块数",
    "max_parcel": "最大地块",
    "allocated_area": "已配水面积",
    "area": "面积",
    "new_cultivated": "新增耕地",
    "freed_quota": "腾退建设用地指标",
    "greening_increment": "绿化增量",
    "closure_share": "封育占比",
    "closure": "封禁保护",
    "natural_recovery": "自然恢复",
    "pv_mw": "光伏装机（兆瓦）",
    "water_allocated": "配置水量",
    "public_funded": "财政资金",
    "operator_funded": "矿权人资金",
    "planting": "造林种草",
    "shrub_planting": "灌木种植",
    "shrub_share_of_planting": "灌木占种植比",
    "target_closure_share": "目标封育占比",
    "target_shrub_share_of_planting": "目标灌木占种植比",
    "meets_three_north": "达到三北目标",
    "headroom": "可用水量余量",
    "demand": "需水量",
    "allocated": "已配置水量",
    "left": "剩余水量",
    "benefit_greedy": "效益（贪心法）",
    "benefit_exact": "效益（精确法）",
    "exact_greedy_ratio": "精确/贪心效益比",
    "solver": "求解方法",
    "ratio": "需水/余量比",
    "binding": "水量约束",
    "total": "合计",
    "carbon_stock": "碳储量",
    "carbon_sequestration": "固碳",
    "carbon_seq": "固碳",
    "carbon": "碳储量",
    "soil_retention": "土壤保持",
    "soil": "土壤保持",
    "sand_fixation": "防风固沙",
    "sand": "防风固沙",
    "water_conservation": "水源涵养",
    "flood_regulation": "洪水调蓄",
    "flood": "洪水调蓄",
    "climate_regulation": "气候调节",
    "climate": "气候调节",
    "air_purification": "空气净化",
    "air": "空气净化",
    "water_purification": "水质净化",
    "water_purif": "水质净化",
    "nutrient_retention": "养分保持",
    "nutrient": "养分保持",
    "oxygen_release": "释氧",
    "air_so2": "净化二氧化硫",
    "air_nox": "净化氮氧化物",
    "air_dust": "滞尘",
    "water_cod": "净化COD",
    "water_tn": "净化总氮",
    "water_tp": "净化总磷",
    "gep_regulating": "调节服务GEP",
    "gep": "生态产品总值GEP",
    "material_products": "物质产品",
    "regulating_services": "调节服务",
    "cultural_services": "文化服务",
    "agriculture": "农业产品",
    "forestry": "林业产品",
    "animal_husbandry": "畜牧业产品",
    "fishery": "渔业产品",
    "water_supply": "水资源供给",
    "tourism": "旅游休憩",
    "not_accounted": "未核算项",
    "cropland": "耕地",
    "forage": "饲草",
    "solar_pv": "光伏",
    "wetland": "湿地",
    "wine_grape": "酿酒葡萄",
    "grass": "草地",
    "shrub": "灌木林地",
    "forest": "林地",
    "value": "价值",
    "water": "水源涵养",
}
UNITS = {
    "ha": "公顷",
    "mu": "亩",
    "m3": "立方米",
    "cny": "元",
    "wan_cny": "万元",
    "yi_cny": "亿元",
    "t": "吨",
    "t_c": "吨碳",
    "t_co2": "吨CO₂",
    "t_o2": "吨O₂",
    "kg": "千克",
    "kwh": "千瓦时",
    "t_c_per_yr": "吨碳/年",
    "t_co2_per_yr": "吨CO₂/年",
    "wan_cny_per_km2": "万元/平方千米",
}


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text))


def header_zh(column: str) -> str:
    """Chinese header of a table column: the Chinese name (phrases of `PHRASES`, unit of
    `UNITS` in brackets) then the column name, e.g. ``面积（公顷） area_ha``."""
    col = str(column)
    if col in PHRASES:
        return f"{PHRASES[col]} {col}"
    change = col.startswith("d_")  # d_<x>: the change of <x> (service gains)
    tokens = (col[2:] if change else col).split("_")
    unit = ""
    for k in sorted(UNITS, key=lambda u: -len(u.split("_"))):  # longest unit suffix first
        n = len(k.split("_"))
        if len(tokens) > n and tokens[-n:] == k.split("_"):
            unit, tokens = UNITS[k], tokens[:-n]
            break
    words, i = [], 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            phrase = "_".join(tokens[i:j])
            if phrase in PHRASES:
                words.append(PHRASES[phrase])
                i = j
                break
        else:
            words.append(tokens[i])
            i += 1
    zh = "".join(words) if all(_cjk(w) for w in words) else " ".join(words)
    if change:
        zh = zh.replace("变化", "") + "变化"
    if unit:
        zh = f"{zh}（{unit}）"
    return f"{zh} {col}"


# --- short field names ---------------------------------------------------------------------
_VALID = re.compile(r"[^A-Za-z0-9_]")


def _abbrev(name: str, limit: int) -> str:
    name = SHORT.get(name, name)
    for long, short in PREFIXES.items():
        if name.startswith(long) and len(name) > limit:
            name = short + name[len(long) :]
            break
    name = _VALID.sub("_", name) or "f"
    if name[0].isdigit() or name[0] == "_":
        name = "f" + name
    if len(name) <= limit:
        return name
    words = [w for w in name.split("_") if w]
    for k in range(max(len(w) for w in words), 0, -1):  # cut every word to k letters
        cand = "_".join(w[:k] for w in words)
        if len(cand) <= limit:
            return cand
    return "".join(w[0] for w in words)[:limit]


def short_names(names: Sequence[str], limit: int = MAX_SHP_FIELD) -> dict[str, str]:
    """{long: short}: every name cut to at most `limit` ASCII characters ([A-Za-z0-9_],
    starting with a letter), case-insensitively distinct (dBASE compares names without case),
    the same names in the same order always giving the same map. Names that already fit are
    kept; longer ones get the curated `SHORT` name or are abbreviated (prefix `PREFIXES`, every
    word cut to the same length); a clash gets ``_2``, ``_3``... in order of `names`."""
    if len(set(names)) != len(names):
        raise ValueError("short_names: duplicate field names")
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        base = _abbrev(str(n), limit)
        cand, k = base, 1
        while cand.lower() in used:
            k += 1
            suffix = f"_{k}"
            cand = base[: limit - len(suffix)] + suffix
        used.add(cand.lower())
        out[str(n)] = cand
    return out


def field_table(layers: Mapping[str, gpd.GeoDataFrame], mapping: Mapping[str, str]) -> pd.DataFrame:
    """The CSV beside the Shapefiles: short name, long name, Chinese alias, English name, the
    layers that carry the field."""
    from .fields import lookup

    rows = []
    for long, short in mapping.items():
        f = None
        try:
            f = lookup(long)
        except (KeyError, ValueError):
            f = None
        rows.append(
            {
                "short_name": short,
                "long_name": long,
                "alias_zh": f.zh if f is not None else "",
                "name_en": f.en if f is not None else "",
                "unit": f.unit if f is not None else "",
                "layers": ";".join(k for k, g in layers.items() if long in g.columns),
            }
        )
    return pd.DataFrame(rows)


# --- writers -------------------------------------------------------------------------------
def _prepare(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """In `crs` (None: as it is), 64-bit integer fields as 32-bit where the values fit (a File
    Geodatabase for ArcGIS before Pro 3.2 and dBASE have no 64-bit integers)."""
    out = gdf.to_crs(crs) if crs is not None and gdf.crs is not None else gdf.copy()
    i32 = np.iinfo(np.int32)
    for c in out.columns:
        if c != "geometry" and out[c].dtype == np.int64:
            v = out[c].to_numpy()
            if not len(v) or (v.min() >= i32.min and v.max() <= i32.max):
                out[c] = v.astype(np.int32)
    return out


def _fix_dbf_date(path: Path) -> None:
    """Bytes 1-3 of a dBASE header are the date of the last update (YY since 1900, MM, DD):
    fixed to 2000-01-01 so the same data give the same bytes."""
    with open(path, "r+b") as f:
        f.seek(1)
        f.write(bytes([100, 1, 1]))


def write_gdb(layers: Mapping[str, gpd.GeoDataFrame], path: Path) -> Path:
    """One File Geodatabase (a folder) with a feature class per layer (MultiPolygon)."""
    import pyogrio

    from .vector_io import FIXED_DATE, pyogrio_config

    # GDAL's switch for reproducible UUIDs (otherwise random GUIDs in GDB_Items)
    with pyogrio_config(OPENFILEGDB_REPRODUCIBLE_UUID="YES", OGR_CURRENT_DATE=FIXED_DATE):
        for name, gdf in layers.items():
            pyogrio.write_dataframe(
                gdf, path, layer=name, driver="OpenFileGDB", geometry_type="MultiPolygon"
            )
    return path


def write_shapefiles(
    layers: Mapping[str, gpd.GeoDataFrame], folder: Path, mapping: Mapping[str, str]
) -> list[Path]:
    """`<layer>.shp` per layer, UTF-8 with `.cpg`, fields renamed by `mapping`."""
    import pyogrio

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, gdf in layers.items():
        g = gdf.rename(columns={c: mapping[c] for c in gdf.columns if c in mapping})
        shp = folder / f"{name}.shp"
        pyogrio.write_dataframe(
            g, shp, driver="ESRI Shapefile", encoding="UTF-8", geometry_type="MultiPolygon"
        )
        cpg = folder / f"{name}.cpg"
        if not cpg.exists() or cpg.read_text().strip().upper() not in ("UTF-8", "UTF8"):
            cpg.write_text("UTF-8")
        _fix_dbf_date(folder / f"{name}.dbf")
        out.append(shp)
    return out


def write_workbook(tables: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """One .xlsx: a sheet per table (Chinese sheet names of `SHEETS`), Chinese headers
    (`header_zh`), frozen header row, and the sheet `FIELD_SHEET` listing every header with
    its column; reproducible bytes (fixed timestamps)."""
    from datetime import datetime

    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    fixed = datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "nxgeo"
    listing = []
    for stem, df in tables.items():
        title = SHEETS.get(stem, stem)[:31]
        ws = wb.create_sheet(title)
        heads = [header_zh(c) for c in df.columns]
        ws.append(heads)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        ws.freeze_panes = "A2"
        listing += [(title, h, c, f"{stem}.csv") for h, c in zip(heads, df.columns)]
    ws = wb.create_sheet(FIELD_SHEET)
    ws.append(["工作表 Sheet", "表头 Header", "字段 Column", "来源 Source table"])
    for r in listing:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    _fixed_zip(buf.getvalue(), path)
    return path


def _cell(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _number(v):
        return "'" + v  # never a formula
    return v


def _number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _fixed_zip(data: bytes, path: Path) -> None:
    """Rewrite the xlsx zip with every entry at `FIXED_ZIP_TIME` (same bytes every run)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            z = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            z.compress_type = zipfile.ZIP_DEFLATED
            z.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    data,
                )
            dst.writestr(z, data)


def read_candidate_layers(gpkg, pathways: Sequence[str]) -> dict[str, gpd.GeoDataFrame]:
    """The candidate layers of `gpkg` (every pathway must be a layer)."""
    import pyogrio

    present = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    missing = [p for p in pathways if p not in present]
    if missing:
        raise InputError(
            f"{gpkg}: no layer(s) {missing} to export; layers present: {', '.join(sorted(present))}"
        )
    return {p: gpd.read_file(gpkg, layer=p, engine="pyogrio") for p in pathways}


def export_year(
    candidates_gpkg, tables: Mapping[str, str | Path], out_dir, *, pathways: Sequence[str], crs=None
) -> dict:
    """Write ``out_dir`` (the year's export folder) as the module docstring says: the GDB,
    the Shapefiles with field_names.csv, tables.xlsx from `tables` ({stem: csv path}), all in
    `crs` (None: the candidates' CRS). The folder is built beside and renamed into place (a
    failed export leaves no half folder). Returns counts."""
    out_dir = Path(out_dir)
    if crs is not None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(crs)
        except CRSError as exc:
            raise InputError(f"export.crs: {crs!r} is not a CRS ({exc})") from None
        if not crs.is_projected:
            raise InputError(
                f"export.crs: {crs.name} is not a projected CRS (areas and the "
                f"department's 3-degree zones are in metres)"
            )
    layers = {
        p: _prepare(g, crs) for p, g in read_candidate_layers(candidates_gpkg, pathways).items()
    }
    names = []
    for g in layers.values():
        names += [c for c in g.columns if c != "geometry" and c not in names]
    mapping = short_names(names)
    frames = {}
    for stem, p in tables.items():
        frames[stem] = pd.read_csv(p, encoding="utf-8-sig", dtype={"adcode": str, "zone_id": str})
    with temp_dir_beside(out_dir) as td:
        tmp = td / out_dir.name
        tmp.mkdir()
        write_gdb(layers, tmp / "candidates.gdb")
        write_shapefiles(layers, tmp / "shp", mapping)
        from .atomic import csv_safe

        csv_safe(field_table(layers, mapping)).to_csv(
            tmp / "shp" / "field_names.csv", index=False, encoding="utf-8-sig", lineterminator="\n"
        )
        from .gis_styles import write_csvt

        write_csvt(tmp / "shp" / "field_names.csv")  # QGIS reads the column types (#17)
        write_workbook(frames, tmp / "tables.xlsx")
        if out_dir.exists():  # moved aside, not deleted, until the new folder is in place
            os.replace(out_dir, td / "previous")
        os.replace(tmp, out_dir)
    return {
        "layers": {p: len(g) for p, g in layers.items()},
        "fields": len(mapping),
        "tables": list(frames),
        "crs": crs.to_string() if crs is not None else None,
    }

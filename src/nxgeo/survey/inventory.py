"""The survey inventory from the DLTB polygon areas (docs/survey.md).

Area rule: a polygon contributes its 图斑地类面积 (TBDLMJ, or the ellipsoidal area minus the
deduction when TBDLMJ is absent) to its own class (DLBM), and its deduction (KCMJ) to the
deduction's class (KCDLBM, 1203 田坎 by default) — the way the survey's statistics are made
(TD/T 1055-2019). Areas are summed exactly: in hundredths of a square metre (the survey
databases' two decimals) as integers, so county sums equal the polygon sums to the 0.01 m².

Zones:
- counties by ``county_from: zldwdm`` — the polygon's county is the first 6 digits of its
  坐落单位代码 (ZLDWDM), its whole area counts there; or ``overlay`` — the area is split by the
  share of the polygon's (planar, grid CRS) area inside each county;
- reaches always by overlay (reach boundaries are not survey units).
A split area is rounded to 0.01 m² per piece; the rounding remainder of a polygon lying
wholly inside the zones goes to its largest piece, so the pieces add up to the polygon
exactly; area outside every zone is reported as outside (zone id ``outside``).

Major groups (三大类) after GB/T 21010-2017 Table A.1 (土地利用现状分类与《土地管理法》"三大类"
对照表), as the survey uses them: 农用地 (farm land) 01, 02, 03, 0401–0403, 1006 农村道路,
1104 坑塘水面, 1107 沟渠, 1202 设施农用地, 1203 田坎; 建设用地 05–09, 10 except 1006, 1103 水库水面,
1109 水工建筑用地, 1201 空闲地; 未利用地 0404, 1101, 1102, 1105, 1106, 1108, 1110, 1204–1207.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .read import OWNER_LABELS

GROUPS = {
    "farm": ("农用地", "Farm land"),
    "construction": ("建设用地", "Construction land"),
    "unused": ("未利用地", "Unused land"),
}
OUTSIDE = "outside"


def major_group(code: int) -> str:
    """三大类 of a GB/T 21010 code as an integer (0103 -> 103): farm, construction, unused."""
    code = int(code)
    first = code // 100
    if first in (1, 2, 3):
        return "farm"
    if first == 4:
        return "unused" if code == 404 else "farm"
    if 5 <= first <= 9:
        return "construction"
    if first == 10:
        return "farm" if code == 1006 else "construction"
    if first == 11:
        if code in (1103, 1109):
            return "construction"
        return "farm" if code in (1104, 1107) else "unused"
    if first == 12:
        if code == 1201:
            return "construction"
        return "farm" if code in (1202, 1203) else "unused"
    raise ValueError(f"code {code} is not a GB/T 21010-2017 code")


def cents(m2) -> np.ndarray:
    """Areas (m²) as integer hundredths of a square metre (the survey's 2 decimals)."""
    return np.round(np.asarray(m2, dtype=float) * 100.0).astype(np.int64)


def _pieces(dltb: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per (polygon, class): the polygon's own class with its area and the deduction's
    class with KCMJ; columns poly (row number), code, owner, cents."""
    own = pd.DataFrame(
        {
            "poly": np.arange(len(dltb)),
            "code": dltb["code"].to_numpy(np.int64),
            "owner": dltb["owner"].to_numpy(np.int64),
            "cents": cents(dltb["area_m2"]),
        }
    )
    kc = cents(dltb["kcmj"])
    has = kc > 0
    ded = pd.DataFrame(
        {
            "poly": np.flatnonzero(has),
            "code": dltb["kc_code"].to_numpy(np.int64)[has],
            "owner": dltb["owner"].to_numpy(np.int64)[has],
            "cents": kc[has],
        }
    )
    return pd.concat([own, ded], ignore_index=True)


def zone_shares(
    dltb: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, id_field: str = "id"
) -> pd.DataFrame:
    """(poly, zone_id, share): the share of each polygon's planar area inside each zone
    (same CRS); polygons or parts outside every zone get zone ``outside``."""
    geoms = dltb.geometry.to_numpy()
    area = shapely.area(geoms)
    tree = shapely.STRtree(geoms)
    rows = []
    for zid, zg in zones.groupby(id_field, sort=False).geometry:
        z = shapely.union_all(zg.to_numpy())
        shapely.prepare(z)
        idx = tree.query(z, predicate="intersects")
        if not len(idx):
            continue
        inside = shapely.contains_properly(z, geoms[idx])
        share = np.ones(len(idx))
        cut = ~inside
        if cut.any():
            part = shapely.area(shapely.intersection(geoms[idx[cut]], z))
            share[cut] = np.where(
                area[idx[cut]] > 0, part / np.where(area[idx[cut]] > 0, area[idx[cut]], 1), 0.0
            )
        keep = share > 0
        rows.append(pd.DataFrame({"poly": idx[keep], "zone_id": str(zid), "share": share[keep]}))
    out = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame({"poly": np.array([], np.int64), "zone_id": [], "share": []})
    )
    tot = out.groupby("poly")["share"].sum().reindex(np.arange(len(dltb)), fill_value=0.0)
    rest = 1.0 - tot.to_numpy()
    # a polygon wholly inside the zones (rest ~ 0 within the float error) has no outside piece
    lack = rest > 1e-9
    if lack.any():
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {"poly": np.flatnonzero(lack), "zone_id": OUTSIDE, "share": rest[lack]}
                ),
            ],
            ignore_index=True,
        )
    return out


def split_pieces(pieces: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The pieces spread over zones by `shares`, each part rounded to whole cents and the
    rounding remainder of a piece added to its largest part, so a piece's parts add up to it
    exactly."""
    m = pieces.reset_index(drop=True).rename_axis("piece").reset_index()
    m = m.merge(shares, on="poly", how="left")
    m["zone_id"] = m["zone_id"].fillna(OUTSIDE)
    m["share"] = m["share"].fillna(1.0)
    m["part"] = np.round(m["cents"].to_numpy() * m["share"].to_numpy()).astype(np.int64)
    diff = m.groupby("piece")["cents"].first() - m.groupby("piece")["part"].sum()
    top = (
        m.sort_values(["piece", "share"], ascending=[True, False], kind="stable")
        .groupby("piece")
        .head(1)
    )
    m.loc[top.index, "part"] += diff.loc[top["piece"]].to_numpy()
    m["cents"] = m.pop("part")
    return m.drop(columns=["piece", "share"])


def county_pieces(
    dltb: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, county_from: str
) -> pd.DataFrame:
    pieces = _pieces(dltb)
    if county_from == "zldwdm":
        pieces["zone_id"] = dltb["county"].to_numpy()[pieces["poly"].to_numpy()]
        return pieces
    return split_pieces(pieces, zone_shares(dltb, counties))


def _label(df: pd.DataFrame, scheme, mu_per_ha: float) -> pd.DataFrame:
    t = scheme.table.set_index("code")
    df = df.copy()
    df["dlbm"] = df["code"].map(t["source_code"])
    df["name_zh"] = df["code"].map(t["name_zh"])
    df["name_en"] = df["code"].map(t["name_en"])
    df["canonical"] = df["code"].map(t["canonical"])
    df["group"] = df["code"].map(major_group)
    return df


def _areas(df: pd.DataFrame, mu_per_ha: float) -> pd.DataFrame:
    df = df.copy()
    df["area_m2"] = df["cents"] / 100.0
    df["area_ha"] = df["cents"] / 1e6
    df["area_mu"] = df["area_ha"] * float(mu_per_ha)
    return df.drop(columns="cents")


def polygon_inventory(
    dltb: gpd.GeoDataFrame,
    zones: dict[str, tuple[pd.DataFrame, pd.Series]],
    scheme,
    mu_per_ha: float = 15.0,
) -> dict[str, pd.DataFrame]:
    """The inventory tables from the polygon pieces per zone kind.

    `zones`: zone kind ("county", "reach") -> (pieces with zone_id, zone names by id).
    Returns by_code, by_class, by_group, ownership (each with zone_kind, zone_id, zone_name,
    area_m2, area_ha, area_mu) and reconcile (per zone kind: the polygon total, the sum over
    zones and outside; difference_m2 is exactly 0)."""
    classes = scheme.classes.set_index("canonical")
    total = int(_pieces(dltb)["cents"].sum())
    out: dict[str, list] = {
        k: [] for k in ("by_code", "by_class", "by_group", "ownership", "reconcile")
    }
    for kind, (pieces, names) in zones.items():
        p = _label(pieces, scheme, mu_per_ha)
        p["zone_kind"] = kind
        p["zone_name"] = p["zone_id"].map(names).where(p["zone_id"] != OUTSIDE, "区域外 / outside")
        keys = ["zone_kind", "zone_id", "zone_name"]
        code = (
            p.groupby(
                keys + ["code", "dlbm", "name_zh", "name_en", "canonical", "group"],
                sort=True,
                dropna=False,
            )
            .agg(cents=("cents", "sum"), n_polygons=("poly", "nunique"))
            .reset_index()
        )
        out["by_code"].append(_areas(code, mu_per_ha))
        cls = p.groupby(keys + ["canonical"], sort=True, dropna=False)["cents"].sum().reset_index()
        cls.insert(3, "class_id", cls["canonical"].map(classes["class_id"]).astype(int))
        cls["class_zh"] = cls["canonical"].map(classes["name_zh"])
        cls["class_en"] = cls["canonical"].map(classes["name_en"])
        out["by_class"].append(_areas(cls.rename(columns={"canonical": "class"}), mu_per_ha))
        grp = p.groupby(keys + ["group"], sort=True, dropna=False)["cents"].sum().reset_index()
        grp["group_zh"] = grp["group"].map(lambda g: GROUPS[g][0])
        grp["group_en"] = grp["group"].map(lambda g: GROUPS[g][1])
        out["by_group"].append(_areas(grp, mu_per_ha))
        own = (
            p.groupby(keys + ["owner", "group"], sort=True, dropna=False)["cents"]
            .sum()
            .reset_index()
        )
        own.insert(4, "ownership", own["owner"].map(lambda o: OWNER_LABELS[int(o)][0]))
        own.insert(5, "ownership_zh", own["owner"].map(lambda o: OWNER_LABELS[int(o)][1]))
        own["group_zh"] = own["group"].map(lambda g: GROUPS[g][0])
        out["ownership"].append(_areas(own, mu_per_ha))
        zsum = int(p.loc[p["zone_id"] != OUTSIDE, "cents"].sum())
        outside = int(p.loc[p["zone_id"] == OUTSIDE, "cents"].sum())
        out["reconcile"].append(
            pd.DataFrame(
                [
                    {
                        "zone_kind": kind,
                        "polygons_m2": total / 100.0,
                        "zones_m2": zsum / 100.0,
                        "outside_m2": outside / 100.0,
                        "difference_m2": (total - zsum - outside) / 100.0,
                        "polygons_ha": total / 1e6,
                        "zones_ha": zsum / 1e6,
                        "n_polygons": len(dltb),
                        "n_zones": int(p.loc[p["zone_id"] != OUTSIDE, "zone_id"].nunique()),
                    }
                ]
            )
        )
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def versus_raster(by_class: pd.DataFrame, raster_by_class: pd.DataFrame) -> pd.DataFrame:
    """Polygon and raster inventories side by side per zone and class, with the difference
    (raster − polygons; the raster counts 田坎 as part of the cropland cells around it)."""
    keys = ["zone_kind", "zone_id", "class_id"]
    r = raster_by_class.assign(zone_id=raster_by_class["zone_id"].astype(str))
    poly = by_class[by_class["zone_id"] != OUTSIDE]
    m = poly[keys + ["zone_name", "class", "class_zh", "area_ha"]].merge(
        r[keys + ["zone_name", "class", "class_zh", "area_ha"]],
        on=keys,
        how="outer",
        suffixes=("_polygons", "_raster"),
    )
    for c in ("zone_name", "class", "class_zh"):
        m[c] = m[f"{c}_polygons"].fillna(m[f"{c}_raster"])
        m = m.drop(columns=[f"{c}_polygons", f"{c}_raster"])
    m["area_ha_polygons"] = m["area_ha_polygons"].fillna(0.0)
    m["area_ha_raster"] = m["area_ha_raster"].fillna(0.0)
    m["difference_ha"] = m["area_ha_raster"] - m["area_ha_polygons"]
    m["difference_pct"] = np.where(
        m["area_ha_polygons"] > 0,
        100.0 * m["difference_ha"] / m["area_ha_polygons"].where(m["area_ha_polygons"] > 0, 1.0),
        np.nan,
    )
    m = m[(m["area_ha_polygons"] > 0) | (m["area_ha_raster"] > 0)]
    cols = [
        "zone_kind",
        "zone_id",
        "zone_name",
        "class_id",
        "class",
        "class_zh",
        "area_ha_polygons",
        "area_ha_raster",
        "difference_ha",
        "difference_pct",
    ]
    return (
        m[cols]
        .sort_values(["zone_kind", "zone_id", "class_id"], kind="stable")
        .reset_index(drop=True)
    )


def inventory_polygons_year(
    dltb_gpkg: str | Path,
    vectors_gpkg: str | Path,
    classes_table: str | Path,
    scheme_name: str,
    county_from: str,
    raster_by_class_csv: str | Path,
    outputs: dict[str, str | Path],
    mu_per_ha: float = 15.0,
) -> None:
    """The polygon inventory of one year: tables by_code, by_class, by_group, ownership,
    reconcile and vs_raster (keys of `outputs`), CSV UTF-8 with BOM."""
    from ..atomic import write_csv
    from ..keys import normalize_adcode
    from ..landuse import load_scheme
    from ..vector_io import read_vector

    scheme = load_scheme(scheme_name, Path(classes_table).parent, classes_table)
    dltb = read_vector(dltb_gpkg, "dltb")
    counties = read_vector(vectors_gpkg, "counties")
    counties = counties.assign(id=normalize_adcode(counties["id"], "counties: id").to_numpy())
    reaches = read_vector(vectors_gpkg, "reaches")
    reaches = reaches.assign(id=reaches["id"].astype(str))
    zones = {}
    for kind, layer in (("county", counties), ("reach", reaches)):
        layer = layer.to_crs(dltb.crs) if layer.crs != dltb.crs else layer
        names = (
            layer.drop_duplicates("id").set_index("id")["name"]
            if "name" in layer.columns
            else pd.Series(dtype=object)
        )
        pieces = (
            county_pieces(dltb, layer, county_from)
            if kind == "county"
            else split_pieces(_pieces(dltb), zone_shares(dltb, layer))
        )
        zones[kind] = (pieces, names)
    tables = polygon_inventory(dltb, zones, scheme, mu_per_ha)
    tables["vs_raster"] = versus_raster(
        tables["by_class"],
        pd.read_csv(raster_by_class_csv, dtype={"zone_id": str}, encoding="utf-8-sig"),
    )
    for key, path in outputs.items():
        write_csv(tables[key], path)


def ownership_change(
    a: pd.DataFrame, b: pd.DataFrame, year_a: int, year_b: int, mu_per_ha: float = 15.0
) -> pd.DataFrame:
    """Per county and ownership type: area in both years and the change (from the ownership
    tables of the two years: the polygon inventory's, or the raster's)."""
    keys = ["zone_kind", "zone_id", "zone_name", "ownership", "ownership_zh"]

    def tot(df):
        df = df[(df["zone_kind"] == "county") & (df["zone_id"].astype(str) != OUTSIDE)]
        return (
            df.assign(zone_id=df["zone_id"].astype(str))
            .groupby(keys, dropna=False)["area_ha"]
            .sum()
        )

    m = (
        pd.concat([tot(a).rename(f"area_ha_{year_a}"), tot(b).rename(f"area_ha_{year_b}")], axis=1)
        .fillna(0.0)
        .reset_index()
    )
    m["change_ha"] = m[f"area_ha_{year_b}"] - m[f"area_ha_{year_a}"]
    m["change_mu"] = m["change_ha"] * float(mu_per_ha)
    return m.sort_values(["zone_id", "ownership"], kind="stable").reset_index(drop=True)


def ownership_change_files(
    csv_a, csv_b, year_a: int, year_b: int, out_csv, mu_per_ha: float = 15.0
) -> None:
    """`ownership_change` of two ownership tables (CSV), written as CSV (UTF-8 with BOM)."""
    from ..atomic import write_csv

    read = lambda p: pd.read_csv(p, dtype={"zone_id": str}, encoding="utf-8-sig")
    write_csv(ownership_change(read(csv_a), read(csv_b), year_a, year_b, mu_per_ha), out_csv)


def ownership_transitions(
    own_a: str | Path,
    own_b: str | Path,
    vectors_gpkg: str | Path,
    year_a: int,
    year_b: int,
    out_csv: str | Path,
    mu_per_ha: float = 15.0,
    block_size: int = 512,
) -> pd.DataFrame:
    """Per county: the area that went from each ownership type of `year_a` to each of
    `year_b` (e.g. collective -> state: 征收), from the two years' ownership rasters on the
    grid (coverage-weighted per county like the raster inventory). The pair code a·10 + b is
    written block-wise to a temporary raster beside `out_csv` and summed by exactextract."""
    import rasterio

    from ..atomic import temp_dir_beside, write_csv
    from ..grid import Grid
    from ..inventory import _complete, _extract, _zone_names
    from ..keys import normalize_adcode
    from ..raster_io import gtiff_profile, work_windows
    from ..vector_io import read_vector
    from .read import OWNER_NODATA

    counties = read_vector(vectors_gpkg, "counties")
    counties = counties.assign(id=normalize_adcode(counties["id"], "counties: id").to_numpy())
    with temp_dir_beside(out_csv) as td, rasterio.open(own_a) as a, rasterio.open(own_b) as b:
        grid = Grid(crs=a.crs, transform=a.transform, width=a.width, height=a.height)
        if not Grid(crs=b.crs, transform=b.transform, width=b.width, height=b.height).matches(grid):
            raise ValueError(f"{own_a} and {own_b} are not on the same grid")
        pair = Path(td) / "pair.tif"
        profile = gtiff_profile(grid, "uint8", OWNER_NODATA)
        with rasterio.open(pair, "w", **profile) as dst:
            for win in work_windows(profile, grid.width, grid.height, block_size):
                x, y = a.read(1, window=win), b.read(1, window=win)
                valid = (x != OWNER_NODATA) & (y != OWNER_NODATA)
                dst.write(
                    np.where(valid, x.astype(np.uint8) * 10 + y, OWNER_NODATA).astype(np.uint8),
                    1,
                    window=win,
                )
        long, order, px_ha = _extract(pair, counties, "id", name=f"{vectors_gpkg} (counties)")
        values = [i * 10 + j for i in OWNER_LABELS for j in OWNER_LABELS]
        df = _complete(long, order, values, px_ha)
    names = _zone_names(counties, "id", "name" if "name" in counties.columns else None)
    df.insert(0, "zone_kind", "county")
    df["zone_name"] = df["zone_id"].map(names) if len(names) else None
    df[f"from_{year_a}"] = (df["value"] // 10).map(lambda o: OWNER_LABELS[int(o)][0])
    df[f"to_{year_b}"] = (df["value"] % 10).map(lambda o: OWNER_LABELS[int(o)][0])
    df["from_zh"] = (df["value"] // 10).map(lambda o: OWNER_LABELS[int(o)][1])
    df["to_zh"] = (df["value"] % 10).map(lambda o: OWNER_LABELS[int(o)][1])
    df["changed"] = (df["value"] // 10) != (df["value"] % 10)
    df["area_mu"] = df["area_ha"] * float(mu_per_ha)
    df = df[
        [
            "zone_kind",
            "zone_id",
            "zone_name",
            f"from_{year_a}",
            f"to_{year_b}",
            "from_zh",
            "to_zh",
            "changed",
            "area_ha",
            "area_mu",
        ]
    ]
    write_csv(df, out_csv)
    return df


def ownership_change_year(
    inputs, outputs, year_a: int, year_b: int, mu_per_ha: float = 15.0, block_size: int = 512
) -> None:
    """The compare step's ownership tables: `ownership_change_files` (inputs a, b -> csv) and
    `ownership_transitions` (own_a, own_b, vectors -> transitions)."""
    ownership_change_files(inputs.a, inputs.b, year_a, year_b, outputs.csv, mu_per_ha)
    ownership_transitions(
        inputs.own_a,
        inputs.own_b,
        inputs.vectors,
        year_a,
        year_b,
        outputs.transitions,
        mu_per_ha=mu_per_ha,
        block_size=block_size,
    )

"""Land-use inventory per zone (county or reach): area by canonical class and by original code.

Boundary rule — **coverage-weighted** (exactextract): a pixel cut by the zone boundary counts
by the fraction of its area inside the polygon, so a polygon that halves a pixel gets half of
its area. Per zone and value: area = Σ coverage fraction of the pixels holding that value ×
pixel area. This is computed with exactextract's `count` (Σ coverage of non-nodata pixels),
`unique` (the distinct values) and `frac` (each value's share of that coverage, in the order
of `unique`), i.e. area_v = count × frac_v × pixel_area. Nodata pixels count for nothing;
parts of the polygon outside the raster count for nothing. `reconcile` reports both.

exactextract reads the raster in its own blocks (≤ `MAX_CELLS` cells), so memory
does not grow with the raster size. Zones are reprojected to the raster CRS first; coverage
fractions and polygon areas are planar areas in that (projected, metric) CRS.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from exactextract import exact_extract

from .errors import InputError
from .prepare import reproject_vector
from .vector_io import repair_geometries

M2_PER_HA = 10_000.0
# Zone ids travel through exactextract under this name: exactextract's GeoDataFrame reader
# turns features into GeoJSON, where a property called "id" is replaced by the row index.
ZONE_COL = "nxgeo_zone_id"
# Cells exactextract reads at once (its default, 30 M, would be a fifth of Ningxia at 30 m).
MAX_CELLS = 4_000_000


def pixel_area_ha(transform) -> float:
    """Area of one pixel in hectares (transform in a metric CRS)."""
    return abs(transform.a * transform.e - transform.b * transform.d) / M2_PER_HA


def _raster_info(raster_path: str | Path):
    raster_path = Path(raster_path)
    if not raster_path.exists():
        raise InputError(f"{raster_path}: file not found")
    with rasterio.open(raster_path) as src:
        if src.crs is None:
            raise InputError(f"{raster_path}: raster has no CRS")
        if src.crs.is_geographic:
            raise InputError(
                f"{raster_path}: raster is in a geographic CRS ({src.crs}); areas "
                f"need the projected analysis grid"
            )
        return src.crs, src.transform


def _zones_for(
    raster_crs, zones_gdf: gpd.GeoDataFrame, id_field: str, name: str = "zones"
) -> gpd.GeoDataFrame:
    if id_field not in zones_gdf.columns:
        raise InputError(
            f"{name}: field {id_field!r} not found; fields are "
            f"{', '.join(map(str, zones_gdf.columns.drop('geometry', errors='ignore')))}"
        )
    zones = gpd.GeoDataFrame(
        {ZONE_COL: zones_gdf[id_field].to_numpy()},
        geometry=zones_gdf.geometry.to_numpy(),
        crs=zones_gdf.crs,
    )
    zones = reproject_vector(zones, raster_crs, name=name)
    # Repaired after reprojection (collapsed slivers), polygonal parts only: self-intersections
    # would give wrong coverage fractions, and exactextract refuses GeometryCollections.
    return repair_geometries(zones, "polygon", name, id_field=ZONE_COL).reset_index(drop=True)


def area_by_class(
    raster_path: str | Path,
    zones_gdf: gpd.GeoDataFrame,
    id_field: str,
    values: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Coverage-weighted area of every raster value in every zone (long format).

    Columns: zone_id, value, area_ha, pixel_count (coverage-weighted, so fractional at edges).
    Several features with the same id are summed. With `values`, every zone gets a row for
    every listed value (0 where absent) and other values are dropped; without, only the values
    present appear. Rows are ordered by zone (first appearance) then value.
    """
    long, order, px_ha = _extract(raster_path, zones_gdf, id_field)
    return _complete(long, order, values, px_ha)


def _extract(raster_path, zones_gdf, id_field, name: str = "zones"):
    crs, transform = _raster_info(raster_path)
    px_ha = pixel_area_ha(transform)
    zones = _zones_for(crs, zones_gdf, id_field, name=name)
    order = list(pd.unique(zones[ZONE_COL]))
    parts = []
    if len(zones):
        res = exact_extract(
            str(raster_path),
            zones,
            ["count", "unique", "frac"],
            include_cols=[ZONE_COL],
            output="pandas",
            max_cells_in_memory=MAX_CELLS,
        )
        for zid, uniq, frac, count in zip(res[ZONE_COL], res["unique"], res["frac"], res["count"]):
            uniq = np.asarray(uniq)
            if uniq.size:
                parts.append(
                    pd.DataFrame(
                        {
                            "zone_id": zid,
                            "value": uniq.astype(np.int64),
                            "pixel_count": float(count) * np.asarray(frac, float),
                        }
                    )
                )
    if not parts:
        parts = [
            pd.DataFrame(
                {
                    "zone_id": pd.Series([], dtype=object),
                    "value": np.array([], np.int64),
                    "pixel_count": np.array([], float),
                }
            )
        ]
    long = pd.concat(parts, ignore_index=True)
    long = long.groupby(["zone_id", "value"], as_index=False, sort=False)["pixel_count"].sum()
    return long, order, px_ha


def _complete(long: pd.DataFrame, order: list, values, px_ha: float) -> pd.DataFrame:
    if values is not None:
        values = sorted({int(v) for v in values})
        full = pd.MultiIndex.from_product([order, values], names=["zone_id", "value"])
        long = (
            long.set_index(["zone_id", "value"])["pixel_count"]
            .reindex(full, fill_value=0.0)
            .reset_index()
        )
    long = long.copy()
    long["area_ha"] = long["pixel_count"] * px_ha
    rank = {z: i for i, z in enumerate(order)}
    long = (
        long.assign(_r=long["zone_id"].map(rank))
        .sort_values(["_r", "value"], kind="stable")
        .drop(columns="_r")
        .reset_index(drop=True)
    )
    return long[["zone_id", "value", "area_ha", "pixel_count"]]


def _zone_names(zones_gdf: gpd.GeoDataFrame, id_field: str, name_field: str | None) -> pd.Series:
    if name_field is None:
        return pd.Series(dtype=object)
    if name_field not in zones_gdf.columns:
        raise InputError(f"zones: name field {name_field!r} not found")
    return zones_gdf.drop_duplicates(id_field).set_index(id_field)[name_field]


def inventory_table(
    canonical_path: str | Path,
    codes_path: str | Path | None,
    zones_gdf: gpd.GeoDataFrame,
    id_field: str,
    name_field: str | None,
    zone_kind: str,
    classes_df: pd.DataFrame,
    scheme_table: pd.DataFrame | None,
    mu_per_ha: float = 15.0,
    name: str = "zones",
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Inventory by canonical class and by original code for every zone.

    - by class: zone_kind, zone_id, zone_name, class_id, class, class_zh, class_en, area_ha,
      area_mu, share — one row per zone × class of `classes_df` (0 where absent); share is the
      class's fraction of the zone's classified (non-nodata) area.
    - by code: zone_kind, zone_id, zone_name, code, source_code, code_zh, code_en, canonical,
      area_ha, area_mu — one row per code present. `canonical` is the scheme's default mapping
      (CLCD 7 is listed as bare even where the sand-area rule made it sandy in the class table).
    `codes_path`/`scheme_table` may be None (then the second frame is None). A value in a
    raster that its table does not know is an error naming the file and the values.
    `name` names the zone layer in messages (e.g. a geometry that cannot be repaired).
    """
    names = _zone_names(zones_gdf, id_field, name_field)
    classes = classes_df.rename(
        columns={"canonical": "class", "name_zh": "class_zh", "name_en": "class_en"}
    )
    long, order, px_ha = _extract(canonical_path, zones_gdf, id_field, name=name)
    _check_known(long, set(classes["class_id"].astype(int)), canonical_path, "classes table")
    by = _complete(long, order, classes["class_id"], px_ha)
    by = by.merge(
        classes[["class_id", "class", "class_zh", "class_en"]],
        left_on="value",
        right_on="class_id",
        how="left",
    )
    by = _finish(by, names, zone_kind, mu_per_ha)
    total = by.groupby("zone_id", sort=False)["area_ha"].transform("sum")
    by["share"] = np.where(total > 0, by["area_ha"] / total.where(total > 0, 1.0), 0.0)
    by = by[
        [
            "zone_kind",
            "zone_id",
            "zone_name",
            "class_id",
            "class",
            "class_zh",
            "class_en",
            "area_ha",
            "area_mu",
            "share",
        ]
    ]
    if codes_path is None or scheme_table is None:
        return by, None
    long_c, order_c, px_c = _extract(codes_path, zones_gdf, id_field, name=name)
    codes = _complete(long_c, order_c, None, px_c)
    _check_known(codes, set(scheme_table["code"].astype(int)), codes_path, "scheme table")
    st = scheme_table.rename(columns={"name_zh": "code_zh", "name_en": "code_en"})
    codes = codes.merge(
        st[["code", "source_code", "code_zh", "code_en", "canonical"]],
        left_on="value",
        right_on="code",
        how="left",
    )
    codes = codes[codes["pixel_count"] > 0]
    codes = _finish(codes, names, zone_kind, mu_per_ha)
    codes = codes[
        [
            "zone_kind",
            "zone_id",
            "zone_name",
            "code",
            "source_code",
            "code_zh",
            "code_en",
            "canonical",
            "area_ha",
            "area_mu",
        ]
    ].reset_index(drop=True)
    return by, codes


def _check_known(df: pd.DataFrame, known: set, path, table: str) -> None:
    bad = sorted(set(df.loc[df["pixel_count"] > 0, "value"].astype(int)) - known)
    if bad:
        raise InputError(f"{path}: value(s) {bad} are not in the {table}")


def _finish(df: pd.DataFrame, names: pd.Series, zone_kind: str, mu_per_ha: float) -> pd.DataFrame:
    df = df.copy()
    df["zone_kind"] = zone_kind
    df["zone_name"] = df["zone_id"].map(names) if len(names) else None
    df["area_mu"] = df["area_ha"] * float(mu_per_ha)
    return df


def reconcile(
    inv_df: pd.DataFrame,
    zones_gdf: gpd.GeoDataFrame,
    id_field: str,
    raster_path: str | Path,
    name: str = "zones",
) -> pd.DataFrame:
    """Check an inventory against the zone polygons: where did the polygon's area go?

    Per zone: polygon_ha (planar area in the raster CRS), classified_ha (sum of `inv_df`
    area_ha), nodata_ha (coverage-weighted nodata pixels inside the polygon), outside_ha (part
    of the polygon outside the raster), difference_ha = polygon_ha − classified_ha,
    difference_pct (of polygon_ha) and residual_ha = difference − nodata − outside (float error
    only; ≈ 0). `inv_df` needs zone_id and area_ha (the by-class or by-code table).
    """
    crs, transform = _raster_info(raster_path)
    px_ha = pixel_area_ha(transform)
    zones = _zones_for(crs, zones_gdf, id_field, name=name)
    zones = zones.assign(_area=zones.geometry.area / 10_000.0)
    poly = zones.groupby(ZONE_COL, sort=False)["_area"].sum()
    res = exact_extract(
        str(raster_path),
        zones[[ZONE_COL, zones.geometry.name]],
        ["valid=count", "total=count(default_value=0)"],
        include_cols=[ZONE_COL],
        output="pandas",
        max_cells_in_memory=MAX_CELLS,
    )
    cnt = res.groupby(ZONE_COL, sort=False)[["valid", "total"]].sum()
    classified = inv_df.groupby("zone_id", sort=False)["area_ha"].sum()
    out = pd.DataFrame({"zone_id": poly.index})
    if "zone_kind" in inv_df.columns:
        kinds = inv_df.drop_duplicates("zone_id").set_index("zone_id")["zone_kind"]
        out.insert(0, "zone_kind", out["zone_id"].map(kinds))
    if "zone_name" in inv_df.columns:
        zn = inv_df.drop_duplicates("zone_id").set_index("zone_id")["zone_name"]
        out["zone_name"] = out["zone_id"].map(zn)
    out["polygon_ha"] = poly.to_numpy()
    out["classified_ha"] = out["zone_id"].map(classified).fillna(0.0).to_numpy()
    valid = out["zone_id"].map(cnt["valid"]).fillna(0.0).to_numpy()
    total = out["zone_id"].map(cnt["total"]).fillna(0.0).to_numpy()
    out["nodata_ha"] = (total - valid) * px_ha
    out["outside_ha"] = np.maximum(out["polygon_ha"] - total * px_ha, 0.0)
    out["difference_ha"] = out["polygon_ha"] - out["classified_ha"]
    out["difference_pct"] = np.where(
        out["polygon_ha"] > 0, 100.0 * out["difference_ha"] / out["polygon_ha"], 0.0
    )
    out["residual_ha"] = out["difference_ha"] - out["nodata_ha"] - out["outside_ha"]
    return out


def ownership_table(
    ownership_path: str | Path,
    zones_gdf: gpd.GeoDataFrame,
    id_field: str,
    name_field: str | None,
    zone_kind: str,
    mu_per_ha: float = 15.0,
    name: str = "zones",
) -> pd.DataFrame:
    """Area by ownership type (权属) per zone from the ownership raster (1 state-owned, 2
    collective, 0 unknown; coverage-weighted like the class inventory): zone_kind, zone_id,
    zone_name, owner, ownership, ownership_zh, area_ha, area_mu — a row per zone and type."""
    from .survey.read import OWNER_LABELS

    names = _zone_names(zones_gdf, id_field, name_field)
    long, order, px_ha = _extract(ownership_path, zones_gdf, id_field, name=name)
    _check_known(long, set(OWNER_LABELS), ownership_path, "ownership codes (0, 1, 2)")
    df = _complete(long, order, sorted(OWNER_LABELS), px_ha)
    df = _finish(df.rename(columns={"value": "owner"}), names, zone_kind, mu_per_ha)
    df["ownership"] = df["owner"].map(lambda o: OWNER_LABELS[int(o)][0])
    df["ownership_zh"] = df["owner"].map(lambda o: OWNER_LABELS[int(o)][1])
    return df[
        [
            "zone_kind",
            "zone_id",
            "zone_name",
            "owner",
            "ownership",
            "ownership_zh",
            "area_ha",
            "area_mu",
        ]
    ]


def inventory_year(
    canonical_path: str | Path,
    codes_path: str | Path,
    vectors_gpkg: str | Path,
    classes_table: str | Path,
    scheme_name: str,
    out_class_csv: str | Path,
    out_code_csv: str | Path,
    out_reconcile_csv: str | Path,
    mu_per_ha: float = 15.0,
    ownership_path: str | Path | None = None,
    out_ownership_csv: str | Path | None = None,
) -> None:
    """Area by canonical class and by original code for every county and every reach (CSV,
    UTF-8 with BOM), the reconciliation of class totals with polygon areas, and (with
    `ownership_path`) the area by ownership type from the ownership raster."""
    from .atomic import write_csv
    from .keys import normalize_adcode
    from .landuse import load_scheme
    from .vector_io import read_vector

    scheme = load_scheme(scheme_name, Path(classes_table).parent, classes_table)
    by_class, by_code, recon, owners = [], [], [], []
    for kind, layer in (("county", "counties"), ("reach", "reaches")):
        zones = read_vector(vectors_gpkg, layer)
        name = f"{vectors_gpkg} (layer {layer!r})"
        if kind == "county":
            zones = zones.assign(id=normalize_adcode(zones["id"], f"{name}: field id").to_numpy())
        name_field = "name" if "name" in zones.columns else None
        c, k = inventory_table(
            canonical_path,
            codes_path,
            zones,
            "id",
            name_field,
            kind,
            scheme.classes,
            scheme.table,
            mu_per_ha=mu_per_ha,
            name=name,
        )
        by_class.append(c)
        by_code.append(k)
        recon.append(reconcile(c, zones, "id", canonical_path, name=name))
        if ownership_path is not None:
            owners.append(
                ownership_table(
                    ownership_path, zones, "id", name_field, kind, mu_per_ha=mu_per_ha, name=name
                )
            )
    write_csv(pd.concat(by_class, ignore_index=True), out_class_csv)
    write_csv(pd.concat(by_code, ignore_index=True), out_code_csv)
    write_csv(pd.concat(recon, ignore_index=True), out_reconcile_csv)
    if ownership_path is not None and out_ownership_csv is not None:
        write_csv(pd.concat(owners, ignore_index=True), out_ownership_csv)

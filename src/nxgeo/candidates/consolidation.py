"""D. Land consolidation (土地综合整治) — the six projects of 001 (2.54 亿元, 4.06 万亩): within a
village, fragmented cropland is consolidated; field ridges, idle homesteads and scattered
construction land are reclaimed, giving new cultivated land (占补平衡) and freeing construction
land quota (建设用地指标, 增减挂钩). Every threshold is a key of ``pathways.land_consolidation``
(rules, one sentence each: docs/pathways.md, section D).

Village units
-------------
The settlements layer holds villages as points (the data contract has no village-boundary
layer). A village unit is the part of the settlement's Voronoi cell (every point closer to
it than to any other settlement) within ``village_radius_m`` of it and inside the county
that holds it. Settlements whose ``kind`` field is not in ``village_kinds`` are left out (an
empty list, or a layer without ``kind``: every settlement). A village is handled by the reach
holding its settlement point and counts only that reach's pixels (villages are cut at reach
lines, like the clumped parcels).

What a village reclaims (the parcel)
------------------------------------
One parcel per village: the union, clipped to the village unit, of

- **field ridges** (田坎): pixels whose original land-use code (``landuse_code.tif``) is one of
  ``ridge_codes`` (三调 1203) with slope at most ``ridge_max_slope_deg`` (merging small fields
  into large ones removes the ridges on flat land; terraces on slopes keep theirs). Only the
  三调 scheme has such a code; a CLCD or CNLUCC raster has no ridges (see the simplifications
  in docs/pathways.md);
- **scattered construction land** (零星建设用地): pixels of ``scattered_classes`` in 8-connected
  clumps (over the whole reach) of at most ``scattered_max_ha``;
- **idle homesteads**: polygons of the homestead layer with a status in ``homestead_status``
  whose representative point is in the village, unless they are already candidates of
  pathway A (inside an emigration area of a ``homestead_greening.counties`` county).

Per village: ``village_area_ha`` (land of the unit in this reach), ``cropland_ha`` (classes
``cropland_classes``), ``cropland_share``, ``cropland_patches`` (8-connected cropland
patches), ``mean_patch_ha`` (cropland_ha / cropland_patches: the fragmentation measure, mean
patch size MPS), ``ridge_ha``, ``scattered_built_ha``, ``homestead_ha`` and
``quota_source_ha`` (construction land in the parcel: scattered construction land and
homesteads, overlaps counted once; ridge_ha = area_ha − quota_source_ha).

A parcel is eligible when the village farms (``cropland_share`` >= ``min_cropland_share``,
else reason ``not_farming_village``) and its cropland is fragmented (``mean_patch_ha`` <=
``max_mean_patch_ha``, else ``not_fragmented``); parcels below ``min_parcel_ha`` or the
minimum mapping unit are dropped and counted.

Decision (`decide_consolidation`)
---------------------------------
Reclaimed to cropland (``reclaim_target``) where the parcel's mean slope is at most
``suitability.preferred_reclaim_slope_deg``, it touches no protected area or red line,
cropland is suitable — or excluded only by the class rule (reason bit 0: construction land is
not convertible to cropland, which is exactly what consolidation reclaims, 建设用地复垦) — and a
reclamation use exists (以水定地: irrigated inside secured water, else dry cropland where it
rains enough); otherwise regreened with its best green use. The water allocation then decides
as for the other pathways (cropland falls back to the green use, then natural recovery).
Indicators (allocated parcels only, `decide.finalize`): ``new_cultivated_ha`` = the parcel
area when it becomes cropland; ``freed_quota_ha`` = ``quota_source_ha`` (the construction
land reclaimed, whatever it becomes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.features import rasterize, shapes
from scipy import ndimage

from ..errors import InputError
from ..keys import adcode_text

log = logging.getLogger("nxgeo.candidates")

PATHWAY = "land_consolidation"
PREFIX = "D-LC"
#: fields of this pathway (NULL / 0 in the other layers)
FIELDS = [
    "village_id",
    "village_name",
    "village_area_ha",
    "cropland_ha",
    "cropland_share",
    "cropland_patches",
    "mean_patch_ha",
    "ridge_ha",
    "scattered_built_ha",
    "homestead_ha",
    "quota_source_ha",
]
STR_FIELDS = {"village_id", "village_name"}
#: reason bit of a class that is not convertible (nxgeo.suitability.codes, bit 0)
CLASS_BIT = 1


# --------------------------------------------------------------------------------------------
# Village units


def village_units(
    settlements: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, kinds, radius_m: float
) -> gpd.GeoDataFrame:
    """Village units (module docstring): Voronoi cell of the settlement ∩ disc of `radius_m`
    ∩ its county. Returns village_id, village_name, adcode and the polygon, by village_id;
    settlements outside every county are left out; repeated points keep the first id."""
    cols = {
        "village_id": pd.Series([], dtype=object),
        "village_name": pd.Series([], dtype=object),
        "adcode": pd.Series([], dtype=object),
    }
    empty = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=counties.crs), crs=counties.crs)
    if settlements is None or not len(settlements):
        return empty
    if radius_m is None or not float(radius_m) > 0:
        raise InputError(
            f"pathways.land_consolidation.village_radius_m must be > 0, not {radius_m!r}"
        )
    s = settlements[~(settlements.geometry.isna() | settlements.geometry.is_empty)]
    kinds = [str(k) for k in (kinds or [])]
    if kinds and "kind" in s.columns:
        s = s[s["kind"].astype(str).isin(kinds)]
    if s.crs is not None and counties.crs is not None and s.crs != counties.crs:
        s = s.to_crs(counties.crs)
    pts = shapely.point_on_surface(np.asarray(s.geometry.values, dtype=object))
    ids = (
        s["id"].astype(str).to_numpy()
        if "id" in s.columns
        else np.array([f"{i + 1}" for i in range(len(s))], dtype=object)
    )
    names = s["name"].fillna("").astype(str).to_numpy() if "name" in s.columns else ids
    order = np.argsort(ids, kind="stable")
    pts, ids, names = pts[order], ids[order], names[order]
    xy = np.round(shapely.get_coordinates(pts), 3)
    _, first = np.unique(xy, axis=0, return_index=True)
    keep = np.sort(first)
    pts, ids, names = pts[keep], ids[keep], names[keep]
    if not len(pts):
        return empty
    c = counties.assign(id=adcode_text(counties["id"]).to_numpy())
    tree = shapely.STRtree(np.asarray(c.geometry.values, dtype=object))
    hit = tree.query(pts, predicate="within")
    county_of = np.full(len(pts), -1)
    for p, k in zip(*hit):  # smallest adcode where counties overlap
        if county_of[p] < 0 or c["id"].iloc[k] < c["id"].iloc[county_of[p]]:
            county_of[p] = k
    inside = county_of >= 0
    pts, ids, names, county_of = pts[inside], ids[inside], names[inside], county_of[inside]
    if not len(pts):
        return empty
    disc = shapely.buffer(pts, float(radius_m), quad_segs=16)
    if len(pts) > 1:
        env = shapely.box(*shapely.bounds(shapely.union_all(disc)))
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env))
        ct = shapely.STRtree(cells)
        own = ct.query(pts, predicate="within")
        cell_of = np.full(len(pts), -1)
        cell_of[own[0]] = own[1]
        cell = np.where(cell_of >= 0, cells[np.maximum(cell_of, 0)], disc)
    else:
        cell = disc
    geoms = shapely.intersection(
        shapely.intersection(cell, disc), np.asarray(c.geometry.values, dtype=object)[county_of]
    )
    out = gpd.GeoDataFrame(
        {"village_id": ids, "village_name": names, "adcode": c["id"].to_numpy()[county_of]},
        geometry=gpd.GeoSeries(geoms, crs=c.crs),
        crs=c.crs,
    )
    out = out[~out.geometry.is_empty].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------
# Raster measures (pure: arrays in, arrays out)


def scattered_mask(classes_mask: np.ndarray, max_px: float) -> np.ndarray:
    """Pixels of `classes_mask` in 8-connected clumps of at most `max_px` pixels."""
    lab, n = ndimage.label(classes_mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros(classes_mask.shape, bool)
    size = np.bincount(lab.ravel(), minlength=n + 1)
    small = size <= max_px
    small[0] = False
    return small[lab]


def village_measures(
    village: np.ndarray, cropland: np.ndarray, land: np.ndarray, pixel_ha: float
) -> pd.DataFrame:
    """Per village index i > 0 of `village` (int raster, 0 = none): land area, cropland area,
    number of 8-connected cropland patches inside the village (a patch crossing a village line
    counts in each village) and their mean size, vectorised per village bounding box."""
    village = np.asarray(village)
    rows = []
    for i, box in enumerate(ndimage.find_objects(village), start=1):
        if box is None:
            continue
        inside = village[box] == i
        crop = inside & cropland[box]
        _, k = ndimage.label(crop, structure=np.ones((3, 3), bool))
        land_px = int((inside & land[box]).sum())
        crop_px = int(crop.sum())
        rows.append(
            {
                "vidx": i,
                "village_area_ha": land_px * pixel_ha,
                "cropland_ha": crop_px * pixel_ha,
                "cropland_patches": int(k),
            }
        )
    df = pd.DataFrame(rows, columns=["vidx", "village_area_ha", "cropland_ha", "cropland_patches"])
    with np.errstate(divide="ignore", invalid="ignore"):
        df["cropland_share"] = np.where(
            df["village_area_ha"] > 0, df["cropland_ha"] / df["village_area_ha"], 0.0
        )
        df["mean_patch_ha"] = np.where(
            df["cropland_patches"] > 0, df["cropland_ha"] / df["cropland_patches"], np.nan
        )
    return df


def _pixel_polygons(
    mask: np.ndarray, village: np.ndarray, transform
) -> dict[int, shapely.Geometry]:
    """{village index: (Multi)Polygon of the True pixels of `mask` in it}."""
    out: dict[int, shapely.Geometry] = {}
    lab = np.where(mask, village, 0).astype(np.int32)
    for i, box in enumerate(ndimage.find_objects(lab), start=1):
        if box is None:
            continue
        sub = lab[box] == i
        t = transform @ Affine.translation(box[1].start, box[0].start)
        polys = [
            shapely.geometry.shape(g)
            for g, _ in shapes(sub.astype(np.uint8), mask=sub, connectivity=4, transform=t)
        ]
        out[i] = shapely.union_all(polys)
    return out


# --------------------------------------------------------------------------------------------
# Parcels of one reach


def consolidation_parcels(ctx, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    """Land-consolidation parcels of one reach (module docstring): one per village with
    reclaimable land, with the village measures; eligibility by the village rules."""
    from .ids import source_ids
    from .parcels import (
        _counties_cfg,
        _empty,
        _finish,
        _mmu_m2,
        assign_by_point,
    )

    cfg = cfg_pathways[PATHWAY]
    ctx.cfg_pathways = cfg_pathways
    stats: dict = {"source": "villages from settlements"}
    settlements = ctx.layer("settlements")
    if settlements is None or not len(settlements):
        stats["source"] = "no settlements layer: no village units"
        stats["parcels"] = 0
        return _empty(ctx), stats
    units = village_units(
        settlements, ctx.counties(), cfg["village_kinds"], float(cfg["village_radius_m"])
    )
    counties = _counties_cfg(cfg)
    if len(units):  # the village's own settlement point decides the reach
        spts = _settlement_points(settlements, units, ctx.crs)
        reach = assign_by_point(spts, ctx.reaches()).to_numpy()
        keep = (reach == ctx.reach_id) & (
            units["adcode"].isin(counties).to_numpy() if counties else True
        )
        units = units[keep].reset_index(drop=True)
    stats["villages"] = len(units)
    if not len(units):
        stats["parcels"] = 0
        return _empty(ctx), stats
    h, w = ctx.shape
    pixel_ha = abs(ctx.transform.a * ctx.transform.e) / 1e4
    vidx = rasterize(
        [(g, i + 1) for i, g in enumerate(units.geometry)],
        out_shape=(h, w),
        transform=ctx.transform,
        fill=0,
        dtype="int32",
    )
    vidx = np.where(ctx.owned, vidx, 0)
    land = ctx.owned
    cropland = np.isin(ctx.landuse, ctx._class_ids(list(cfg["cropland_classes"])))
    meas = village_measures(vidx, cropland, land, pixel_ha)
    # field ridges: original codes of the survey, on flat land
    ridge = np.zeros((h, w), bool)
    codes = [int(c) for c in (cfg["ridge_codes"] or [])]
    if codes:
        code_path = ctx.path("landuse_code") if ctx.exists("landuse_code") else None
        if code_path is None:
            raise InputError(
                f"{ctx.reach_dir / 'landuse_code.tif'}: file not found (original land-use codes of reach "
                f"{ctx.reach_id}: field ridges, pathways.land_consolidation."
                f"ridge_codes)"
            )
        with rasterio.open(code_path) as src:
            if (src.height, src.width) != ctx.shape or src.transform != ctx.transform:
                raise InputError(f"{code_path}: not on the grid of the reach's landuse.tif")
            code = src.read(1)
        slope, nd = ctx.read("slope")
        flat = np.isfinite(slope) & (slope <= float(cfg["ridge_max_slope_deg"]))
        if nd is not None:
            flat &= slope != nd
        ridge = np.isin(code, codes) & flat & land
        del code, slope
    max_px = float(cfg["scattered_max_ha"]) / pixel_ha
    scattered = scattered_mask(
        np.isin(ctx.landuse, ctx._class_ids(list(cfg["scattered_classes"]))) & land, max_px
    )
    ridge_polys = _pixel_polygons(ridge & (vidx > 0), vidx, ctx.transform)
    built_polys = _pixel_polygons(scattered & (vidx > 0), vidx, ctx.transform)
    home_polys, a_scope = _idle_homesteads(ctx, cfg_pathways, units)
    stats["homesteads_left_to_pathway_a"] = a_scope
    rows, geoms = [], []
    for i, u in enumerate(units.itertuples(index=False), start=1):
        vgeom = u.geometry
        quota = shapely.union_all(
            [g for g in (built_polys.get(i), home_polys.get(i)) if g is not None]
        )
        quota = shapely.intersection(quota, vgeom) if not quota.is_empty else quota
        parts = [g for g in (ridge_polys.get(i), quota) if g is not None and not g.is_empty]
        if not parts:
            continue
        geom = shapely.intersection(shapely.union_all(parts), vgeom)
        if geom.is_empty or geom.area <= 0:
            continue
        area = geom.area / 1e4
        q = min(quota.area / 1e4 if not quota.is_empty else 0.0, area)
        bgeom = built_polys.get(i)
        hgeom = home_polys.get(i)
        rows.append(
            {
                "village_id": u.village_id,
                "village_name": u.village_name,
                "adcode": u.adcode,
                "vidx": i,
                "scattered_built_ha": (
                    shapely.intersection(bgeom, vgeom).area / 1e4 if bgeom is not None else 0.0
                ),
                "homestead_ha": (
                    shapely.intersection(hgeom, vgeom).area / 1e4 if hgeom is not None else 0.0
                ),
                "quota_source_ha": q,
                "ridge_ha": max(area - q, 0.0) if area - q > 1e-9 else 0.0,
            }
        )
        geoms.append(geom)
    stats["villages_with_reclaimable_land"] = len(rows)
    if not rows:
        stats["parcels"] = 0
        return _empty(ctx), stats
    g = gpd.GeoDataFrame(
        pd.DataFrame(rows).merge(meas, on="vidx", how="left"),
        geometry=gpd.GeoSeries(geoms, crs=ctx.crs),
        crs=ctx.crs,
    )
    area_m2 = shapely.area(np.asarray(g.geometry.values, dtype=object))
    small = area_m2 < _mmu_m2(cfg_pathways, PATHWAY)
    below = ~small & (area_m2 < float(cfg["min_parcel_ha"]) * 1e4)
    stats["dropped_mmu"] = int(small.sum())
    stats["dropped_min_parcel"] = int(below.sum())
    g = g[~(small | below)].reset_index(drop=True)
    farming = g["cropland_share"].to_numpy(float) >= float(cfg["min_cropland_share"])
    mps = g["mean_patch_ha"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        fragmented = mps <= float(cfg["max_mean_patch_ha"])
    g["eligible"] = farming & fragmented
    g["reason"] = np.where(
        ~farming, "not_farming_village", np.where(~fragmented, "not_fragmented", "")
    )
    g["status"] = None
    g["source_id"] = g["village_id"].astype(str)
    ids = source_ids(PREFIX, g["village_id"])
    out = _finish(ctx, g, PATHWAY, ids, extra={c: g[c].to_numpy() for c in FIELDS})
    stats["parcels"] = len(out)
    stats["not_eligible"] = int((~out["eligible"].astype(bool)).sum())
    return out, stats


def _settlement_points(settlements, units, crs) -> np.ndarray:
    s = settlements if settlements.crs == crs or crs is None else settlements.to_crs(crs)
    ids = (
        s["id"].astype(str).to_numpy()
        if "id" in s.columns
        else np.array([f"{i + 1}" for i in range(len(s))], dtype=object)
    )
    pts = shapely.point_on_surface(np.asarray(s.geometry.values, dtype=object))
    first: dict[str, object] = {}
    for k, p in zip(ids, pts):
        first.setdefault(k, p)
    return np.asarray([first[v] for v in units["village_id"].astype(str)], dtype=object)


def _idle_homesteads(ctx, cfg_pathways: dict, units: gpd.GeoDataFrame) -> tuple[dict, int]:
    """{village index: union of its idle homesteads}, and how many idle homesteads were left to
    pathway A (inside an emigration area of one of A's counties)."""
    from .parcels import inside_any

    cfg = cfg_pathways[PATHWAY]
    hs = ctx.layer("homesteads")
    if hs is None or not len(hs) or "status" not in hs.columns:
        return {}, 0
    ok = {str(s).lower() for s in cfg["homestead_status"]}
    hs = hs[hs["status"].astype(str).str.strip().str.lower().isin(ok).to_numpy()]
    hs = hs[~(hs.geometry.isna() | hs.geometry.is_empty)]
    if not len(hs):
        return {}, 0
    geoms = np.asarray(hs.geometry.values, dtype=object)
    pts = shapely.point_on_surface(geoms)
    a_counties = {str(c) for c in (cfg_pathways["homestead_greening"]["counties"] or [])}
    emi = ctx.layer("emigration_areas")
    in_a = np.zeros(len(pts), bool)
    if emi is not None and len(emi):
        in_emi = inside_any(pts, emi)
        c = ctx.counties()
        if a_counties:
            c = c[c["id"].isin(a_counties)]
        in_a = in_emi & inside_any(pts, c)
    tree = shapely.STRtree(np.asarray(units.geometry.values, dtype=object))
    hit = tree.query(pts, predicate="within")
    groups: dict[int, list] = {}
    for p, v in zip(*hit):
        if not in_a[p]:
            groups.setdefault(int(v) + 1, []).append(geoms[p])
    return {k: shapely.union_all(v) for k, v in groups.items()}, int(in_a.sum())


# --------------------------------------------------------------------------------------------
# Decision


def decide_consolidation(
    df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: Mapping, cfg_water: dict
) -> pd.DataFrame:
    """Reclaim to cropland or regreen (module docstring); decision codes reclaim_cropland (with
    reclaim_irrigated_secured_water or reclaim_dry_cropland), protected_area_no_cropland,
    slope_above_reclaim_limit, cropland_unsuitable, no_reclamation_without_secured_water,
    no_suitable_green_use."""
    from .decide import _base, min_score, reclaim_or_regreen, suitable

    cfg = cfg_pathways[PATHWAY]
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms, cfg_pathways)
    reclaim = str(cfg["reclaim_target"])
    reason = (
        pd.to_numeric(out.get(f"reason_{reclaim}", pd.Series(0, index=out.index)), errors="coerce")
        .fillna(0)
        .astype(np.int64)
        .to_numpy()
    )
    class_only = (reason & ~CLASS_BIT) == 0
    # built land is not convertible (reason bit 0) is waived: 建设用地复垦 is the point
    crop_suit = suitable(out, reclaim, ms) | (((reason & CLASS_BIT) > 0) & class_only)
    return reclaim_or_regreen(out, cfg, cfg_suitability, cfg_water, ms, crop_suit)

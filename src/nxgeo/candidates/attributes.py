"""Zonal attributes of candidate parcels, with exactextract (partial pixels count by the share
of their area inside the parcel).

Per parcel (columns):

- terrain and climate: ``slope_mean``, ``slope_min``, ``slope_max`` (deg), ``precip_mean_mm``,
  ``elev_mean_m``; distances (m, mean over the parcel) ``dist_water_m``, ``dist_roads_m``,
  ``dist_settlements_m``;
- land use: ``share_<class>`` (coverage-weighted fraction of the parcel's classified area),
  ``current_class`` (the class with the largest share, exactextract ``majority``);
- suitability of every target: ``score_<t>`` (mean score 0-100), ``grade_<t>`` (majority grade,
  coverage-weighted; 255 = no data), ``reason_<t>`` (bitwise OR of the reason values of the
  pixels the parcel covers — every cause that applies anywhere in the parcel; pixels whose only
  bit is "no data" (outside the study area) are left out); ``best_use`` (majority of
  best_use.tif, as a target name; "" where none);
- zones: ``protected_core``, ``protected_any``, ``ecological_redline`` (1 where the parcel
  *touches* the zone: any covered pixel of the zone raster is 1, or the parcel's interior meets
  a polygon of the zone layer), ``basic_farmland_share`` and ``water_secured_share``
  (coverage-weighted share of the parcel), ``planned_share`` (share of the parcel area inside
  ``planned_construction`` polygons, 0 when there is no such layer);
- sand control extras (`sand_extras`): ``dist_farmland_m`` (minimum distance from the parcel to
  farmland pixels of the reach: classes ``sand_control.farmland_classes``, computed with
  nxgeo.terrain.distance_to_capped), minimum distances to water, roads and settlements, ``threat_dist_m``
  (their minimum) and ``threat_kind``, and ``wind_exposure`` (mean of a per-pixel proxy: 1 on
  flat ground (slope < 2 deg), else 0.5 + 0.5·cos(aspect − prevailing wind direction): windward
  slopes 1, lee slopes 0), ``protected_share`` (coverage-weighted share of the unit inside a
  protected area of any zone or the ecological red line: the zone rasters; decides closure);
- hazard slope (`finest_slope_max`): ``hazard_slope_max_deg``, the steepest slope inside a
  mine on the finest DEM at its own resolution.
"""

from __future__ import annotations

import contextlib
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from exactextract import exact_extract
from exactextract.feature import JSONFeature, JSONFeatureSource
from exactextract.raster import NumPyRasterSource, RasterioRasterSource
from rasterio.windows import Window, from_bounds
from rasterio.windows import transform as window_transform

from ..errors import InputError
from ..nodata import FLOAT_NODATA
from ..suitability.codes import GRADE_NODATA, NODATA_BIT
from ..terrain import distance_to_capped
from .parcels import ReachContext

ZONE_COL = "nxgeo_pidx"
CONTINUOUS = {
    "slope": "slope",
    "precipitation": "precip",
    "dem": "elev",
    "distance_water": "dist_water",
    "distance_roads": "dist_roads",
    "distance_settlements": "dist_settlements",
}
ZONE_RASTERS = (
    "protected_core",
    "protected_any",
    "ecological_redline",
    "basic_farmland",
    "water_secured",
)
# exactextract's processing order. Parcel by parcel ("feature-sequential": each parcel's window
# of every source read at once, its coverage fractions computed once for all the sources) unless
# a parcel's bounding box exceeds MAX_FEATURE_CELLS cells of the rasters; then chunk by chunk
# ("raster-sequential": chunks of up to 30 M cells, sources one at a time). Measured at 30 m
# (2026-12-04, the zonal attributes of every pathway of yanchi, GDAL's block cache at the
# workflow's 32 MB): 29.9 CPU-s chunk by chunk, 32.0 parcel by parcel in file order, 24.2
# parcel by parcel in bands (`_Zones.strategy`); the same numbers bit for bit
# (tests/test_candidates_attributes.py::test_strategy_gives_identical_attributes).
STRATEGY = "feature-sequential"
MAX_FEATURE_CELLS = 4_000_000  # a parcel's window of one source: 16-32 MB
BAND_CELLS = 256  # rows of one band of parcels (the COG tiles are 256 x 256)


class _Feature(JSONFeature):
    """A parcel for exactextract, its GeoJSON serialised once (not once per call)."""

    def __init__(self, pidx: int, geojson: str):
        super().__init__({"type": "Feature", "properties": {ZONE_COL: pidx}})
        self._geojson = geojson

    def geometry(self):
        return self._geojson


class _Zones(JSONFeatureSource):
    def __init__(self, geoms, srs_wkt):
        super().__init__([], srs_wkt=srs_wkt)
        geoms = np.asarray(geoms, dtype=object)
        self.geojson = shapely.to_geojson(geoms)
        self.bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
        self.max_bbox_area = _max_bbox_area(self.bounds)
        self.order = np.arange(len(geoms))

    def count(self):
        return len(self.geojson)

    def __iter__(self):
        for i in self.order:
            yield _Feature(int(i), str(self.geojson[i]))

    def strategy(self, res: tuple[float, float]) -> str:
        """exactextract's order for rasters of cell size `res` (dx, dy): see STRATEGY. Parcel
        by parcel, the parcels are served in bands of BAND_CELLS rows, west to east in each
        band (`order`), so the raster tiles a parcel needs are mostly still in GDAL's block
        cache from its neighbour (the workflow keeps that cache at 32 MB)."""
        dx, dy = abs(float(res[0])), abs(float(res[1]))
        if dx * dy > 0 and self.max_bbox_area / (dx * dy) > MAX_FEATURE_CELLS:
            self.order = np.arange(len(self.geojson))
            return "raster-sequential"
        b = np.nan_to_num(self.bounds)
        band = np.floor(-b[:, 3] / (BAND_CELLS * dy)) if dy > 0 else np.zeros(len(b))
        self.order = np.lexsort((b[:, 0], band))
        return STRATEGY


def _zones(parcels: gpd.GeoDataFrame) -> _Zones:
    return _Zones(parcels.geometry.values, parcels.crs.to_wkt() if parcels.crs else None)


def _max_bbox_area(b: np.ndarray) -> float:
    """The largest bounding-box area of the parcels (`shapely.bounds`; map units squared, 0
    when none)."""
    if len(b) == 0:
        return 0.0
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        return 0.0
    b = b[ok]
    return float(((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).max())


def _run(sources: list, zones: _Zones, ops: list[str]) -> pd.DataFrame:
    """exactextract on named sources; columns always ``<name>_<op>`` (source by source, ops
    in the given order, after the zone column), rows in zone order.

    With the raster-sequential strategy (a parcel larger than MAX_FEATURE_CELLS) the sources
    are extracted one at a time: exactextract holds a chunk of up to 30 M cells of every source
    at once, so one call with six rasters of a 30 m reach peaked at 1.2 GB (the results are
    the same)."""
    strategy = zones.strategy(sources[0].res()) if sources else STRATEGY
    if strategy == "raster-sequential" and len(sources) > 1:
        parts = [_run([src], zones, ops).set_index(ZONE_COL) for src in sources]
        return pd.concat(parts, axis=1).reset_index()
    # (no max_cells_in_memory: with a bound, exactextract 0.3.0 crashed (SIGSEGV) on the sand
    # parcels of a 30 m reach; its default chunk, 30 M cells, is at most one reach)
    res = exact_extract(
        sources, zones, ops, include_cols=[ZONE_COL], output="pandas", strategy=strategy
    )
    if len(sources) == 1:
        name = sources[0].name()
        res = res.rename(columns={op: f"{name}_{op}" for op in ops})
    cols = [ZONE_COL] + [f"{src.name()}_{op}" for src in sources for op in ops]
    return res[cols].sort_values(ZONE_COL).reset_index(drop=True)


def _path(ctx: ReachContext, rel: str):
    p = ctx.path(rel)
    if not p.exists():
        raise InputError(
            f"{p}: file not found (needed for the candidate parcels of reach {ctx.reach_id})"
        )
    return p


def _explode(res: pd.DataFrame, col_u: str, col_f: str | None = None) -> pd.DataFrame:
    """List columns of exactextract (unique values, their fractions) -> long table."""
    uniq = [np.asarray(u).ravel() for u in res[col_u]]
    sizes = np.array([u.size for u in uniq], dtype=np.int64)
    if not sizes.sum():
        return pd.DataFrame(
            {
                "pidx": np.array([], np.int64),
                "value": np.array([], np.int64),
                "frac": np.array([], float),
            }
        )
    pidx = np.repeat(res[ZONE_COL].to_numpy(np.int64), sizes)
    values = np.concatenate(uniq).astype(np.int64)
    if col_f:
        frac = np.concatenate([np.asarray(f, float).ravel() for f in res[col_f]])
    else:
        frac = np.ones(values.size)
    return pd.DataFrame({"pidx": pidx, "value": values, "frac": frac})


def bitwise_or_by(pidx: np.ndarray, values: np.ndarray, n: int, n_bits: int = 16) -> np.ndarray:
    """Bitwise OR of `values` grouped by `pidx` (0..n-1), vectorised bit by bit."""
    out = np.zeros(n, dtype=np.int64)
    pidx = np.asarray(pidx, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    for b in range(n_bits):
        hit = ((values >> b) & 1).astype(bool)
        if hit.any():
            seen = np.zeros(n, dtype=bool)
            seen[pidx[hit]] = True
            out[seen] |= 1 << b
    return out


def _vector_touch(geoms: np.ndarray, zone_geoms) -> np.ndarray:
    """True where a parcel's interior meets a zone polygon (boundary contact alone: False)."""
    out = np.zeros(len(geoms), dtype=bool)
    zg = np.asarray([g for g in zone_geoms if g is not None and not g.is_empty], dtype=object)
    if not len(zg) or not len(geoms):
        return out
    tree = shapely.STRtree(zg)
    a, b = tree.query(geoms, predicate="intersects")
    real = ~shapely.touches(geoms[a], zg[b])
    out[np.unique(a[real])] = True
    return out


def _overlap_share(geoms: np.ndarray, zone_geoms) -> np.ndarray:
    share = np.zeros(len(geoms))
    zg = np.asarray([g for g in zone_geoms if g is not None and not g.is_empty], dtype=object)
    if not len(zg) or not len(geoms):
        return share
    union = shapely.union_all(zg)
    area = shapely.area(geoms)
    inter = shapely.area(shapely.intersection(geoms, union))
    np.divide(inter, area, out=share, where=area > 0)
    return np.clip(share, 0.0, 1.0)


def zonal_attributes(
    ctx: ReachContext, parcels: gpd.GeoDataFrame, targets: list[str], order: list[str] | None = None
) -> pd.DataFrame:
    """The attributes of the module docstring for every parcel (same row order)."""
    n = len(parcels)
    out = pd.DataFrame(index=np.arange(n))
    if n == 0:
        return out
    zones = _zones(parcels)
    id_to_class = {v: k for k, v in ctx.classes.items()}
    with contextlib.ExitStack() as stack:

        def src(rel, name):
            ds = stack.enter_context(rasterio.open(_path(ctx, rel)))
            return RasterioRasterSource(ds, name=name)

        # continuous
        res = _run([src(f, nm) for f, nm in CONTINUOUS.items()], zones, ["mean", "min", "max"])
        out["slope_mean"] = res["slope_mean"].to_numpy(float)
        out["slope_min"] = res["slope_min"].to_numpy(float)
        out["slope_max"] = res["slope_max"].to_numpy(float)
        out["precip_mean_mm"] = res["precip_mean"].to_numpy(float)
        out["elev_mean_m"] = res["elev_mean"].to_numpy(float)
        for k in ("dist_water", "dist_roads", "dist_settlements"):
            out[f"{k}_m"] = res[f"{k}_mean"].to_numpy(float)
            out[f"{k}_min_m"] = res[f"{k}_min"].to_numpy(float)

        # land use
        res = _run([src("landuse", "lu")], zones, ["unique", "frac", "majority"])
        long = _explode(res, "lu_unique", "lu_frac")
        shares = long.pivot_table(index="pidx", columns="value", values="frac", aggfunc="sum")
        shares = shares.reindex(index=np.arange(n)).fillna(0.0)
        for cname, cid in ctx.classes.items():
            out[f"share_{cname}"] = shares[cid].to_numpy() if cid in shares.columns else 0.0
        maj = pd.to_numeric(res["lu_majority"], errors="coerce")
        out["current_class"] = [id_to_class.get(int(v), "") if pd.notna(v) else "" for v in maj]

        # suitability
        srcs = [src(f"suitability/suit_{t}_score", f"score_{t}") for t in targets]
        res = _run(srcs, zones, ["mean"])
        for t in targets:
            out[f"score_{t}"] = res[f"score_{t}_mean"].to_numpy(float)
        res = _run(
            [src(f"suitability/suit_{t}_grade", f"grade_{t}") for t in targets], zones, ["majority"]
        )
        for t in targets:
            g = pd.to_numeric(res[f"grade_{t}_majority"], errors="coerce")
            out[f"grade_{t}"] = g.fillna(GRADE_NODATA).astype(np.int64).to_numpy()
        res = _run(
            [src(f"suitability/suit_{t}_reason", f"reason_{t}") for t in targets], zones, ["unique"]
        )
        for t in targets:
            long = _explode(res, f"reason_{t}_unique")
            long = long[long["value"] != NODATA_BIT]
            out[f"reason_{t}"] = bitwise_or_by(long["pidx"], long["value"], n)
        if order is not None and ctx.exists("suitability/best_use"):
            res = _run([src("suitability/best_use", "best")], zones, ["majority"])
            b = pd.to_numeric(res["best_majority"], errors="coerce")
            out["best_use"] = [
                order[int(v) - 1] if pd.notna(v) and 1 <= int(v) <= len(order) else "" for v in b
            ]

        # zone rasters
        res = _run([src(f"zone_{z}", z) for z in ZONE_RASTERS], zones, ["max", "mean"])
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    pa = ctx.layer("protected_areas")
    core_geoms = []
    if pa is not None and "zone" in pa.columns:
        core_geoms = pa.geometry[pa["zone"].astype(str) == "core"]
    rl = ctx.layer("ecological_redline")
    vec = {
        "protected_core": _vector_touch(geoms, core_geoms),
        "protected_any": _vector_touch(geoms, [] if pa is None else pa.geometry),
        "ecological_redline": _vector_touch(geoms, [] if rl is None else rl.geometry),
    }
    for z in ("protected_core", "protected_any", "ecological_redline"):
        ras = pd.to_numeric(res[f"{z}_max"], errors="coerce").fillna(0).to_numpy() >= 1
        out[z] = (ras | vec[z]).astype(np.int64)
    for z in ("basic_farmland", "water_secured"):
        out[f"{z}_share"] = pd.to_numeric(res[f"{z}_mean"], errors="coerce").fillna(0.0).to_numpy()
    planned = ctx.layer("planned_construction")
    out["planned_share"] = _overlap_share(geoms, [] if planned is None else planned.geometry)
    return out


# --------------------------------------------------------------------------------------------
# Sand-control extras


def _window_around(ctx: ReachContext, bounds, margin_m: float) -> Window:
    xmin, ymin, xmax, ymax = bounds
    w = from_bounds(
        xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m, transform=ctx.transform
    )
    w = w.round_offsets(op="floor").round_lengths(op="ceil")
    full = Window(0, 0, ctx.shape[1], ctx.shape[0])
    return w.intersection(full)


def _numpy_source(arr: np.ndarray, ctx: ReachContext, win: Window, name: str, nodata):
    t = window_transform(win, ctx.transform)
    h, w = arr.shape
    xmin, ymax = t.c, t.f
    xmax, ymin = xmin + w * t.a, ymax + h * t.e
    return NumPyRasterSource(
        arr,
        xmin,
        ymin,
        xmax,
        ymax,
        nodata=nodata,
        name=name,
        srs_wkt=ctx.crs.to_wkt() if ctx.crs else None,
    )


def sand_extras(
    ctx: ReachContext, parcels: gpd.GeoDataFrame, attrs: pd.DataFrame, cfg_sand: dict
) -> pd.DataFrame:
    """Threat distances and wind exposure of sand parcels (module docstring); adds columns to
    a copy of `attrs` (the `zonal_attributes` of the same parcels)."""
    out = attrs.copy()
    n = len(parcels)
    if n == 0:
        for c in ("dist_farmland_m", "threat_dist_m", "wind_exposure", "protected_share"):
            out[c] = pd.Series([], dtype=float)
        out["threat_kind"] = pd.Series([], dtype=object)
        return out
    threat_m = float(cfg_sand["threat_distance_m"])
    cap = max(4.0 * threat_m, 1000.0)
    win = _window_around(ctx, parcels.total_bounds, cap)
    r0, c0 = int(win.row_off), int(win.col_off)
    sl = (slice(r0, r0 + int(win.height)), slice(c0, c0 + int(win.width)))
    farm_names = [c for c in cfg_sand["farmland_classes"] if c in ctx.classes]
    farm = np.isin(ctx.landuse[sl], [ctx.classes[c] for c in farm_names])
    xres, yres = abs(ctx.transform.a), abs(ctx.transform.e)
    # = min(distance_to(farm), cap), tile by tile (memory bounded by the tile, not the window)
    dist = distance_to_capped(farm, xres, yres, cap)
    del farm
    wind = math.radians(float(cfg_sand["prevailing_wind_from_deg"]))
    expo = np.empty(dist.shape, dtype=np.float32)
    step = max(1, (1 << 20) // max(1, int(win.width)))  # ~1 M cells per strip
    for i0 in range(0, int(win.height), step):
        i1 = min(i0 + step, int(win.height))
        sub = Window(win.col_off, win.row_off + i0, win.width, i1 - i0)
        slope, snd = ctx.read("slope", window=sub)
        aspect, and_ = ctx.read("aspect", window=sub)
        slope, aspect = slope.astype(np.float64), aspect.astype(np.float64)
        s_bad = ~np.isfinite(slope) | ((slope == snd) if snd is not None else False)
        a_ok = (
            np.isfinite(aspect) & ((aspect != and_) if and_ is not None else True) & (aspect >= 0)
        )
        e = np.where(a_ok & (slope >= 2.0), 0.5 + 0.5 * np.cos(np.radians(aspect) - wind), 1.0)
        expo[i0:i1] = np.where(s_bad, -9999.0, e)
    # protected: inside a protected area (any zone) or the ecological red line
    prot = np.zeros(dist.shape, dtype=np.uint8)
    for z in ("protected_any", "ecological_redline"):
        a, _ = ctx.read(f"zone_{z}", window=win)
        prot |= (a == 1).astype(np.uint8)
    zones = _zones(parcels)
    res = _run(
        [
            _numpy_source(dist, ctx, win, "farm", None),
            _numpy_source(expo, ctx, win, "expo", -9999.0),
            _numpy_source(prot, ctx, win, "prot", None),
        ],
        zones,
        ["min", "mean"],
    )
    del prot
    out["dist_farmland_m"] = res["farm_min"].to_numpy(float)
    out["wind_exposure"] = res["expo_mean"].to_numpy(float)
    out["protected_share"] = np.clip(res["prot_mean"].to_numpy(float), 0.0, 1.0)
    kinds = {
        "farmland": out["dist_farmland_m"],
        "water": attrs["dist_water_min_m"],
        "roads": attrs["dist_roads_min_m"],
        "settlements": attrs["dist_settlements_min_m"],
    }
    d = pd.DataFrame({k: pd.to_numeric(v, errors="coerce").to_numpy() for k, v in kinds.items()})
    d = d.fillna(np.inf)
    out["threat_dist_m"] = d.min(axis=1).to_numpy()
    out["threat_kind"] = d.idxmin(axis=1).to_numpy()
    out.loc[~np.isfinite(out["threat_dist_m"]), ["threat_dist_m", "threat_kind"]] = [np.nan, ""]
    return out


# --------------------------------------------------------------------------------------------
# Hazard slope from the finest DEM

#: metres per degree of latitude (and of longitude at the equator), for a geographic DEM
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0


def finest_slope_max(parcels: gpd.GeoDataFrame, dem_path) -> np.ndarray:
    """Maximum slope (deg) inside every parcel on the DEM `dem_path` at its own resolution
    (the hazard flag of mines, 削坡减荷: a coarsened grid flattens the steep faces).

    Per parcel a window around it (one pixel margin for the Horn 3x3 kernel) is read, its
    slope computed (`nxgeo.terrain.slope_degrees`; a geographic DEM's pixel size converted
    to metres at the window's mean latitude) and the maximum taken over the pixels whose
    centre lies in the parcel (all pixels it touches when no centre does). Memory: one window
    per parcel. NaN where the parcel lies off the DEM or only on nodata."""
    from rasterio.features import geometry_mask

    from ..terrain import slope_degrees

    n = len(parcels)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    with rasterio.open(dem_path) as ds:
        geoms = parcels.geometry
        if parcels.crs is not None and ds.crs is not None and parcels.crs != ds.crs:
            geoms = geoms.to_crs(ds.crs)
        geographic = bool(ds.crs is not None and ds.crs.is_geographic)
        full = Window(0, 0, ds.width, ds.height)
        for i, g in enumerate(geoms.values):  # one window per parcel (not per pixel)
            if g is None or g.is_empty:
                continue
            win = from_bounds(*g.bounds, transform=ds.transform)
            win = win.round_offsets(op="floor").round_lengths(op="ceil")
            win = Window(win.col_off - 1, win.row_off - 1, win.width + 2, win.height + 2)
            try:
                win = win.intersection(full)
            except rasterio.errors.WindowError:
                continue
            dem = ds.read(1, window=win).astype(np.float64)
            t = window_transform(win, ds.transform)
            xres, yres = abs(t.a), abs(t.e)
            if geographic:
                lat = t.f + t.e * dem.shape[0] / 2.0
                xres *= M_PER_DEG_LON * math.cos(math.radians(lat))
                yres *= M_PER_DEG_LAT
            slope = slope_degrees(dem, xres, yres, ds.nodata)
            inside = ~geometry_mask([g], out_shape=dem.shape, transform=t)
            if not inside.any():
                inside = ~geometry_mask([g], out_shape=dem.shape, transform=t, all_touched=True)
            vals = slope[inside & (slope != FLOAT_NODATA) & np.isfinite(slope)]
            if vals.size:
                out[i] = float(vals.max())
    return out

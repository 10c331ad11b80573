"""Candidate parcels of one reach, per pathway (docs/domain.md §6), as polygons in the reach CRS.

- A ``homestead_greening``: homestead polygons (layer ``homesteads``) whose status is in
  ``eligible_status``, inside an emigration area (``emigration_areas``) of a configured
  county; without a homestead layer, ``rural_homestead`` pixels inside emigration areas of
  those counties, clumped into parcels.
- B ``mine_remediation``: mine polygons (layer ``mines``) inside the Helan Mountain mining area
  (``mining_areas``) of a configured county. Every status is listed; a status outside
  ``eligible_status`` is not eligible (reason ``operating``, or ``status_<value>``). Without a
  mine layer, ``mining`` pixels inside the mining areas, clumped (status ``unknown``, eligible,
  never PV: PV needs a known closed mine).
- W ``state_wasteland`` (国有荒地复绿, 三(二)): project units as C, from the pixels of
  ``state_wasteland.classes`` whose survey code (``landuse_code.tif``) is one of
  ``state_wasteland.source_codes`` (barren land that counts as without an assigned use right)
  and whose ownership (``ownership.tif``) is state-owned (1), in a configured county (empty:
  any), and that are not sand-control candidates (sand control takes those: no area counted
  twice). Without an ownership raster the layer is empty (ownership unknown).
- C ``sand_control``: project units (`nxgeo.candidates.units`): ``sand_control.classes``
  (sandy, bare) pixels inside ``sand_areas`` of a configured county, cut at county,
  reserve-zone, red-line and road boundaries, then into compact units of at most
  ``max_unit_ha``; slivers below ``min_parcel_ha`` join a neighbour or are dropped.

Rules
-----
- Clumping: 8-connectivity (scipy.ndimage.label), separately in every county (so a clump is
  split where it crosses a county line); polygons from rasterio.features.shapes (4-connected
  pieces of one clump are gathered into one MultiPolygon, parts touching at corners).
- A layer parcel's location (reach, county, emigration / mining area) is its representative
  point (shapely ``point_on_surface``, always inside it).
- Reach: a layer parcel belongs to the reach containing its representative point; where reaches
  overlap, the one with the smallest reach id. A clumped parcel is built only from the pixels
  the reach owns: pixel centre inside the reach (the clip rule) and, where reaches overlap, the
  reach with the smallest id. Each parcel is in exactly one reach (clumps are cut at reach
  lines: reaches are drainage units).
- D ``land_consolidation`` (土地综合整治, `nxgeo.candidates.consolidation`): one parcel per
  village unit (settlement Voronoi cell within ``village_radius_m``): its field ridges (三调
  1203), scattered construction land and idle homesteads, where the village's cropland is
  fragmented.
- Minimum mapping unit (TD/T 1055): parcels smaller than ``min_mapping_unit_m2[mmu_class]`` are
  dropped and counted (``mmu_class``: built for homesteads, other for mines and sand; keys
  ``pathways.<pathway>.mmu_class``).
- Geometries are MultiPolygons (one layer type).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.features import rasterize
from rasterio.windows import Window

from ..errors import InputError
from ..keys import adcode_text
from ..nodata import OWNERSHIP_NODATA
from ..vector_io import list_layers, read_vector
from .clumps import STRIP_ROWS, _bbox, clump_county_index, to_multi
from .ids import location_ids, resolve_collisions, source_ids

log = logging.getLogger("nxgeo.candidates")

PATHWAYS = (
    "homestead_greening",
    "mine_remediation",
    "sand_control",
    "state_wasteland",
    "land_consolidation",
)
PATHWAY_LETTER = {
    "homestead_greening": "A",
    "mine_remediation": "B",
    "sand_control": "C",
    "state_wasteland": "W",
    "land_consolidation": "D",
}
LAYER_CODE = {"homestead_greening": "HS", "mine_remediation": "MN"}
#: values of the ownership raster (results/<year>/reaches/<reach>/ownership.tif)
OWNERSHIP_STATE, OWNERSHIP_COLLECTIVE, OWNERSHIP_UNKNOWN = 1, 2, 0  # nodata: OWNERSHIP_NODATA
PARCEL_COLUMNS = [
    "parcel_id",
    "pathway",
    "source_id",
    "status",
    "legacy",
    "adcode",
    "reach",
    "eligible",
    "reason",
    "area_ha",
    "area_mu",
    "geometry",
]


@dataclass
class ReachContext:
    """Grid, land use and vector layers of one reach (loaded once, shared by the pathways)."""

    reach_id: str
    reach_dir: Path
    vectors_gpkg: Path
    classes: dict[str, int]
    mu_per_ha: float = 15.0
    # set by `load` (the only constructor), from the reach's land-use raster:
    transform: rasterio.Affine = None
    crs: rasterio.crs.CRS = None
    shape: tuple[int, int] = (0, 0)
    landuse: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    owned: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    cfg_pathways: dict = field(default_factory=dict)
    #: the reach rasters by name (file stem: "slope", "zone_county", "best_use"); empty: the
    #: files <reach_dir>/<name>.tif. The workflow gives every one (its rule declares them).
    files: dict = field(default_factory=dict)
    _layers: dict = field(default_factory=dict)
    _names: list = field(default_factory=list)

    @classmethod
    def load(
        cls, reach_dir, vectors_gpkg, reach_id, classes_df: pd.DataFrame, mu_per_ha: float = 15.0
    ) -> ReachContext:
        """`reach_dir`: the reach folder, or {name: path} of the reach rasters (`reach_rasters`):
        then only those files are opened."""
        files = (
            {str(k): Path(v) for k, v in reach_dir.items()}
            if isinstance(reach_dir, Mapping)
            else {}
        )
        if files and "landuse" not in files:
            raise InputError(f"reach {reach_id}: no land-use raster given (names: {sorted(files)})")
        reach_dir = files["landuse"].parent if files else Path(reach_dir)
        vectors_gpkg = Path(vectors_gpkg)
        classes = {str(c): int(i) for c, i in zip(classes_df["canonical"], classes_df["class_id"])}
        ctx = cls(str(reach_id), reach_dir, vectors_gpkg, classes, float(mu_per_ha), files=files)
        lu_path = ctx.path("landuse")
        if not lu_path.exists():
            raise InputError(f"{lu_path}: file not found (land use of reach {reach_id})")
        ctx._names = list_layers(vectors_gpkg)
        with rasterio.open(lu_path) as src:
            ctx.transform, ctx.crs, ctx.shape = src.transform, src.crs, (src.height, src.width)
            ctx.landuse = src.read(1)
            pairs, own_value = ctx._owner_shapes()
            h, w = ctx.shape
            ctx.owned = np.zeros(ctx.shape, dtype=bool)
            for r0 in range(0, h, STRIP_ROWS):  # strips: no full-reach temporaries
                r1 = min(h, r0 + STRIP_ROWS)
                owner = rasterize(
                    pairs,
                    out_shape=(r1 - r0, w),
                    fill=0,
                    dtype="uint8" if own_value < 255 else "int32",
                    transform=ctx.transform @ Affine.translation(0, r0),
                )
                ctx.owned[r0:r1] = (
                    (owner == own_value)
                    & (ctx.landuse[r0:r1] != 0)
                    & (src.read_masks(1, window=Window(0, r0, w, r1 - r0)) > 0)
                )
        return ctx

    # -- vectors ----------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self._names

    @overload
    def layer(self, name: str, required: Literal[True]) -> gpd.GeoDataFrame: ...
    @overload
    def layer(self, name: str, required: bool = False) -> gpd.GeoDataFrame | None: ...
    def layer(self, name: str, required: bool = False) -> gpd.GeoDataFrame | None:
        if name not in self._layers:
            if not self.has(name):
                if required:
                    raise InputError(
                        f"{self.vectors_gpkg}: layer {name!r} is needed for the "
                        f"candidate parcels; layers present: {', '.join(self._names)}"
                    )
                return None
            gdf = read_vector(self.vectors_gpkg, name)
            if gdf.crs is not None and self.crs is not None and gdf.crs != self.crs:
                gdf = gdf.to_crs(self.crs)
            self._layers[name] = gdf
        return self._layers[name]

    def reaches(self) -> gpd.GeoDataFrame:
        r = self.layer("reaches", required=True)
        if "id" not in r.columns:
            raise InputError(f"{self.vectors_gpkg}: layer 'reaches' has no field 'id'")
        r = r.assign(id=r["id"].astype(str))
        if self.reach_id not in set(r["id"]):
            raise InputError(
                f"{self.vectors_gpkg}: reach {self.reach_id!r} is not in layer "
                f"'reaches' (ids: {', '.join(sorted(set(r['id'])))})"
            )
        return r

    def counties(self) -> gpd.GeoDataFrame:
        c = self.layer("counties", required=True)
        if "id" not in c.columns:
            raise InputError(f"{self.vectors_gpkg}: layer 'counties' has no field 'id' (adcode)")
        return c.assign(id=adcode_text(c["id"]).to_numpy())

    def _owner_shapes(self) -> tuple[list, int]:
        """Burn pairs of the reaches and the value of this reach: a pixel belongs to this reach
        when its centre is in it and in no reach with a smaller id (burning in descending id
        order: the smallest id is burnt last and wins)."""
        r = self.reaches().sort_values("id", kind="stable")
        ids = list(r["id"])
        pairs = [
            (g, i + 1)
            for i, g in reversed(list(enumerate(r.geometry)))
            if g is not None and not g.is_empty
        ]
        return pairs, ids.index(self.reach_id) + 1

    # -- rasters ----------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """The file of reach raster `name` (``slope``, ``suitability/best_use``): the one given
        for its stem, else ``<reach_dir>/<name>.tif``. A name not given (when files are given)
        is an error naming it: a step opens only the files its rule declares."""
        if not self.files:
            return self.reach_dir / f"{name}.tif"
        stem = name.rsplit("/", 1)[-1]
        if stem not in self.files:
            raise InputError(
                f"reach {self.reach_id}: raster {stem!r} is read by the candidate parcels but was "
                f"not given (given: {', '.join(sorted(self.files))})"
            )
        return self.files[stem]

    def exists(self, name: str) -> bool:
        """True when reach raster `name` is given (or, without files, present) and exists."""
        stem = name.rsplit("/", 1)[-1]
        if self.files and stem not in self.files:
            return False
        return self.path(name).exists()

    def read(self, name: str, window=None) -> tuple[np.ndarray, float | None]:
        """A reach raster (or a `window` of it) and its nodata value."""
        path = self.path(name)
        if not path.exists():
            raise InputError(f"{path}: file not found (reach {self.reach_id})")
        with rasterio.open(path) as src:
            if (src.height, src.width) != self.shape or src.transform != self.transform:
                raise InputError(f"{path}: not on the grid of {self.path('landuse')}")
            return src.read(1, window=window), src.nodata

    def read_optional(self, name: str) -> tuple[np.ndarray, float | None] | None:
        """A reach raster that may be absent (e.g. ``ownership``): as `read`, None without it."""
        if not self.exists(name):
            return None
        return self.read(name)

    def pixel_counties(
        self,
        classes,
        counties,
        zone_geoms,
        strip_rows: int = STRIP_ROWS,
        mask: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Owned pixels of land-use `classes` inside `zone_geoms` (None: anywhere) and in one
        of `counties` (adcodes; empty = any county of the counties layer), and where `mask`
        (bool, reach shape; None: everywhere) is True, as (index, codes): `index` is
        0 off those pixels, else 1 + the position of the pixel's county in `codes` (ascending
        adcodes); uint8 (uint16 past 254 counties). Built in strips of `strip_rows` rows from
        zone_county.tif, so no full-reach temporaries (county codes, burnt zones) are held."""
        ids = self._class_ids(classes)
        wanted = counties or self.counties()["id"]
        try:
            codes = np.unique(np.asarray([int(c) for c in wanted], dtype=np.int64))
        except ValueError as exc:
            raise InputError(f"county codes must be numeric adcodes: {exc}") from None
        anywhere = zone_geoms is None
        geoms = [] if anywhere else [(g, 1) for g in zone_geoms if g is not None and not g.is_empty]
        h, w = self.shape
        out = np.zeros(self.shape, dtype=np.uint8 if codes.size < 255 else np.uint16)
        if (not anywhere and not geoms) or not codes.size:
            return out, codes
        path = self.path("zone_county")
        if not path.exists():
            raise InputError(f"{path}: file not found (reach {self.reach_id})")
        with rasterio.open(path) as src:
            if (src.height, src.width) != self.shape or src.transform != self.transform:
                raise InputError(f"{path}: not on the grid of {self.path('landuse')}")
            for r0 in range(0, h, strip_rows):
                r1 = min(h, r0 + strip_rows)
                m = self.owned[r0:r1] & np.isin(self.landuse[r0:r1], ids)
                if mask is not None:
                    m &= mask[r0:r1]
                if not m.any():
                    continue
                if not anywhere:
                    m &= rasterize(
                        geoms,
                        out_shape=(r1 - r0, w),
                        fill=0,
                        dtype="uint8",
                        transform=self.transform @ Affine.translation(0, r0),
                    ).view(bool)
                county = src.read(1, window=Window(0, r0, w, r1 - r0)).astype(np.int64)
                pos = np.minimum(np.searchsorted(codes, county), codes.size - 1)
                m &= codes[pos] == county
                out[r0:r1] = np.where(m, pos + 1, 0)
        return out, codes

    def _class_ids(self, names) -> list[int]:
        unknown = [n for n in names if n not in self.classes]
        if unknown:
            raise InputError(
                f"pathways: unknown land-use class(es) {unknown}; known: {', '.join(self.classes)}"
            )
        return [self.classes[n] for n in names]


# --------------------------------------------------------------------------------------------
# Location rules


def assign_by_point(points, zones: gpd.GeoDataFrame, id_col: str = "id") -> pd.Series:
    """Id of the zone containing each point (smallest id where zones overlap; None outside)."""
    pts = gpd.GeoDataFrame(geometry=gpd.GeoSeries(points, crs=zones.crs).reset_index(drop=True))
    pts["_i"] = np.arange(len(pts))
    z = zones[[id_col, "geometry"]].rename(columns={id_col: "_zone"})
    z = z.assign(_zone=z["_zone"].astype(str))
    hits = gpd.sjoin(pts, z, how="inner", predicate="within")
    best = hits.groupby("_i")["_zone"].min()
    return pd.Series(best.reindex(np.arange(len(pts))).to_numpy(), dtype=object)


def inside_any(points, zones: gpd.GeoDataFrame | None) -> np.ndarray:
    if zones is None or zones.empty:
        return np.zeros(len(points), dtype=bool)
    tree = shapely.STRtree(np.asarray(zones.geometry.values, dtype=object))
    idx = tree.query(np.asarray(points, dtype=object), predicate="within")
    out = np.zeros(len(points), dtype=bool)
    out[np.unique(idx[0])] = True
    return out


def _mmu_m2(cfg_pathways: dict, pathway: str) -> float:
    table = cfg_pathways["min_mapping_unit_m2"]
    cls = cfg_pathways[pathway]["mmu_class"]
    if cls not in table:
        raise InputError(
            f"pathways.{pathway}.mmu_class {cls!r} is not a key of "
            f"pathways.min_mapping_unit_m2 ({', '.join(table)})"
        )
    return float(table[cls])


def _counties_cfg(cfg: dict) -> set[str]:
    return {str(c) for c in cfg["counties"]}


def _finish(
    ctx: ReachContext,
    gdf: gpd.GeoDataFrame,
    pathway: str,
    ids: pd.Series,
    extra: dict | None = None,
) -> gpd.GeoDataFrame:
    geoms = to_multi(gdf.geometry.values)
    area_ha = shapely.area(geoms) / 1e4
    n = len(gdf)

    def col(name, default):
        if name in gdf.columns:
            return gdf[name].to_numpy()
        return np.full(n, default, dtype=object)

    out = gpd.GeoDataFrame(
        {
            "parcel_id": resolve_collisions(ids, geoms).to_numpy(),
            "pathway": pathway,
            "source_id": col("source_id", None),
            "status": col("status", None),
            "legacy": col("legacy", None),
            "adcode": gdf["adcode"].astype(str).to_numpy(),
            "reach": ctx.reach_id,
            "eligible": col("eligible", True).astype(bool),
            "reason": col("reason", ""),
            "area_ha": area_ha,
            "area_mu": area_ha * ctx.mu_per_ha,
        },
        geometry=gpd.GeoSeries(geoms, crs=ctx.crs),
        crs=ctx.crs,
    )
    for k, v in (extra or {}).items():
        out[k] = v
    return out.sort_values("parcel_id", kind="stable").reset_index(drop=True)


def _empty(ctx: ReachContext) -> gpd.GeoDataFrame:
    cols = {c: pd.Series([], dtype=object) for c in PARCEL_COLUMNS if c != "geometry"}
    cols["eligible"] = pd.Series([], dtype=bool)
    cols["area_ha"] = pd.Series([], dtype=float)
    cols["area_mu"] = pd.Series([], dtype=float)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=ctx.crs), crs=ctx.crs)


def _layer_candidates(
    ctx: ReachContext, gdf: gpd.GeoDataFrame, cfg: dict, zone_layer: str, pathway: str, stats: dict
) -> gpd.GeoDataFrame:
    """Layer parcels located by their representative point: in this reach, in a configured
    county, inside `zone_layer`; then the minimum mapping unit."""
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)].reset_index(drop=True)
    pts = shapely.point_on_surface(np.asarray(gdf.geometry.values, dtype=object))
    reach = assign_by_point(pts, ctx.reaches())
    keep = (reach == ctx.reach_id).to_numpy()
    gdf, pts = gdf[keep].reset_index(drop=True), pts[keep]
    adcode = assign_by_point(pts, ctx.counties())
    counties = _counties_cfg(cfg)
    keep = adcode.isin(counties).to_numpy() if counties else adcode.notna().to_numpy()
    stats["outside_counties"] = int((~keep).sum())
    gdf, pts = gdf[keep].reset_index(drop=True), pts[keep]
    gdf["adcode"] = adcode[keep].to_numpy()
    keep = inside_any(pts, ctx.layer(zone_layer, required=True))
    stats["outside_zone"] = int((~keep).sum())
    gdf = gdf[keep].reset_index(drop=True)
    small = shapely.area(np.asarray(gdf.geometry.values, dtype=object)) < _mmu_m2(
        ctx.cfg_pathways, pathway
    )
    stats["dropped_mmu"] = int(small.sum())
    return gdf[~small].reset_index(drop=True)


def _clumped(
    ctx: ReachContext,
    classes,
    zone_layer: str,
    cfg: dict,
    pathway: str,
    stats: dict,
    min_ha: float = 0.0,
) -> gpd.GeoDataFrame:
    index, codes = ctx.pixel_counties(
        classes, _counties_cfg(cfg), ctx.layer(zone_layer, required=True).geometry
    )
    cl = clump_county_index(index, codes, ctx.transform, ctx.crs)
    del index
    area = shapely.area(np.asarray(cl.geometry.values, dtype=object))
    small = area < _mmu_m2(ctx.cfg_pathways, pathway)
    stats["clumps"] = len(cl)
    stats["dropped_mmu"] = int(small.sum())
    below = ~small & (area < float(min_ha) * 1e4)
    stats["dropped_min_parcel"] = int(below.sum())
    return cl[~(small | below)].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Pathways

#: the zone layer a pathway's parcels must lie inside; validation requires it while the pathway
#: is configured (the data contract's ``needed_by``, tested to agree)
ZONE_LAYER = {
    "homestead_greening": "emigration_areas",
    "mine_remediation": "mining_areas",
    "sand_control": "sand_areas",
}


def homestead_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    pathway = "homestead_greening"
    cfg = cfg_pathways[pathway]
    ctx.cfg_pathways = cfg_pathways
    stats: dict = {}
    hs = ctx.layer("homesteads")
    if hs is not None:
        stats["source"] = "layer"
        if "status" not in hs.columns:
            raise InputError(
                f"{ctx.vectors_gpkg}: layer 'homesteads' has no field 'status' "
                f"(configure inputs.vectors.homesteads.fields.status)"
            )
        ok = {str(s).lower() for s in cfg["eligible_status"]}
        status = hs["status"].astype(str).str.strip().str.lower()
        hs = hs.assign(status=status)[status.isin(ok).to_numpy()]
        g = _layer_candidates(ctx, hs, cfg, ZONE_LAYER[pathway], pathway, stats)
        g["source_id"] = g["id"].astype(str) if "id" in g.columns else None
        ids = source_ids(
            f"{PATHWAY_LETTER[pathway]}-{LAYER_CODE[pathway]}",
            g["source_id"] if "id" in g.columns else np.arange(1, len(g) + 1),
        )
    else:
        stats["source"] = "clumped rural_homestead pixels"
        g = _clumped(ctx, ["rural_homestead"], ZONE_LAYER[pathway], cfg, pathway, stats)
        g["status"] = "unknown"
        ids = location_ids(PATHWAY_LETTER[pathway], g["adcode"], g.geometry.values)
    out = _finish(ctx, g, pathway, ids) if len(g) else _empty(ctx)
    stats["parcels"] = len(out)
    return out, stats


def mine_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    pathway = "mine_remediation"
    cfg = cfg_pathways[pathway]
    ctx.cfg_pathways = cfg_pathways
    stats: dict = {}
    mines = ctx.layer("mines")
    if mines is not None:
        stats["source"] = "layer"
        if "status" not in mines.columns:
            raise InputError(
                f"{ctx.vectors_gpkg}: layer 'mines' has no field 'status' "
                f"(configure inputs.vectors.mines.fields.status)"
            )
        g = _layer_candidates(ctx, mines, cfg, ZONE_LAYER[pathway], pathway, stats)
        status = g["status"].astype(str).str.strip().str.lower()
        ok = {str(s).lower() for s in cfg["eligible_status"]}
        eligible = status.isin(ok)
        g["status"] = status
        g["eligible"] = eligible.to_numpy()
        g["reason"] = np.where(
            eligible, "", np.where(status == "operating", "operating", "status_" + status)
        )
        g["source_id"] = g["id"].astype(str) if "id" in g.columns else None
        if "legacy" in g.columns:
            g["legacy"] = [None if pd.isna(v) else str(v) for v in g["legacy"]]
        ids = source_ids(
            f"{PATHWAY_LETTER[pathway]}-{LAYER_CODE[pathway]}",
            g["source_id"] if "id" in g.columns else np.arange(1, len(g) + 1),
        )
    else:
        stats["source"] = "clumped mining pixels"
        g = _clumped(ctx, ["mining"], ZONE_LAYER[pathway], cfg, pathway, stats)
        g["status"] = "unknown"
        ids = location_ids(PATHWAY_LETTER[pathway], g["adcode"], g.geometry.values)
    out = _finish(ctx, g, pathway, ids) if len(g) else _empty(ctx)
    stats["parcels"] = len(out)
    stats["not_eligible"] = int((~out["eligible"].astype(bool)).sum())
    return out, stats


def _project_units(
    ctx: ReachContext,
    index: np.ndarray,
    codes,
    cfg: dict,
    cfg_pathways: dict,
    pathway: str,
    stats: dict,
) -> gpd.GeoDataFrame:
    """Project units (`nxgeo.candidates.units`) of the candidate pixels `index` (county
    index, as `ReachContext.pixel_counties` builds it): cut at county, reserve-zone, red-line
    and road lines (roads of ``cfg["split_road_kinds"]``; empty: every road), then into tiles
    of at most ``cfg["max_unit_ha"]``; slivers below ``cfg["min_parcel_ha"]`` merged or
    dropped. Updates `stats`."""
    from .units import ZONE_BITS, road_regions, split_units

    r0, r1, c0, c1 = _bbox(index)
    win = Window(c0, r0, c1 - c0, r1 - r0)
    index = index[r0:r1, c0:c1]
    t = ctx.transform @ Affine.translation(c0, r0)
    zone = np.zeros(index.shape, dtype=np.uint8)
    road = np.zeros(index.shape, dtype=bool)
    if index.size:
        for name, bit in ZONE_BITS.items():
            z, nd = ctx.read(f"zone_{name}", window=win)
            zone |= np.where((z == 1) & ((z != nd) if nd is not None else True), bit, 0).astype(
                np.uint8
            )
        roads = ctx.layer("roads")
        kinds = {str(k) for k in cfg["split_road_kinds"]}
        if roads is not None and len(roads):
            if kinds and "kind" in roads.columns:
                roads = roads[roads["kind"].astype(str).isin(kinds)]
            geoms = [(g, 1) for g in roads.geometry if g is not None and not g.is_empty]
            if geoms:
                road = rasterize(
                    geoms, out_shape=index.shape, transform=t, fill=0, dtype="uint8"
                ).view(bool)
    region = road_regions(road)
    del road
    units, st = split_units(
        index,
        codes,
        zone,
        region,
        t,
        ctx.crs,
        float(cfg["max_unit_ha"]),
        float(cfg["min_parcel_ha"]),
        _mmu_m2(cfg_pathways, pathway),
    )
    del index, zone, region
    stats.update(st)
    return units


def sand_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    """Sand-control project units (`nxgeo.candidates.units`): the candidate sand pixels cut at
    county, reserve-zone, red-line and road boundaries, then into tiles of at most
    ``sand_control.max_unit_ha``; slivers below ``min_parcel_ha`` merged or dropped."""
    pathway = "sand_control"
    cfg = cfg_pathways[pathway]
    ctx.cfg_pathways = cfg_pathways
    classes = list(cfg["classes"])
    stats: dict = {"source": "sand units from " + "/".join(classes) + " pixels"}
    index, codes = ctx.pixel_counties(
        classes, _counties_cfg(cfg), ctx.layer(ZONE_LAYER[pathway], required=True).geometry
    )
    units = _project_units(ctx, index, codes, cfg, cfg_pathways, pathway, stats)
    units["status"] = None
    ids = location_ids(PATHWAY_LETTER[pathway], units["adcode"], units.geometry.values)
    out = _finish(ctx, units, pathway, ids) if len(units) else _empty(ctx)
    stats["parcels"] = len(out)
    return out, stats


def wasteland_mask(
    landuse_code: np.ndarray,
    ownership: np.ndarray,
    source_codes,
    ownership_nodata: float | None = OWNERSHIP_NODATA,
) -> np.ndarray:
    """Pixels of state-owned barren land without an assigned use right (三(二) 国有荒山、荒地、
    荒丘、荒滩): survey code (`landuse_code`) one of `source_codes` (the configured codes that
    count as without an assigned use right) and ownership state-owned (`ownership` == 1).
    Collective (2), unknown (0) and nodata pixels are never in it. Vectorised; bool array."""
    code = np.asarray(landuse_code)
    own = np.asarray(ownership)
    if code.shape != own.shape:
        raise InputError(
            f"ownership raster shape {own.shape} is not the land-use shape {code.shape}"
        )
    wanted = np.asarray([int(c) for c in source_codes], dtype=np.int64)
    m = (own == OWNERSHIP_STATE) & np.isin(code, wanted)
    if ownership_nodata is not None and ownership_nodata != OWNERSHIP_STATE:
        m &= own != ownership_nodata
    return m


def wasteland_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    """State-owned waste-land units (国有荒地复绿): the pixels of `wasteland_mask` whose class
    is one of ``state_wasteland.classes``, in a county of ``state_wasteland.counties`` (empty:
    any), minus the sand-control candidates (sand control takes those), cut into project units
    like sand control (``max_unit_ha``, ``min_parcel_ha``, ``split_road_kinds``)."""
    pathway = "state_wasteland"
    cfg = cfg_pathways[pathway]
    ctx.cfg_pathways = cfg_pathways
    classes = list(cfg["classes"])
    stats: dict = {
        "source": "state-owned "
        + "/".join(classes)
        + " pixels of survey codes "
        + ",".join(str(c) for c in cfg["source_codes"])
    }
    own = ctx.read_optional("ownership")
    if own is None:
        stats.update(source="no ownership raster (ownership unknown): no parcels", parcels=0)
        return _empty(ctx), stats
    code = ctx.read_optional("landuse_code")
    if code is None:
        raise InputError(
            f"{ctx.path('landuse_code')}: file not found (survey codes "
            f"of reach {ctx.reach_id}, needed by pathways.state_wasteland)"
        )
    mask = wasteland_mask(code[0], own[0], cfg["source_codes"], own[1])
    del code, own
    stats["state_barren_px"] = int(mask.sum())
    sand = cfg_pathways["sand_control"]
    zones = ctx.layer("sand_areas")
    if zones is not None and len(zones):
        taken, _ = ctx.pixel_counties(
            list(sand["classes"]), _counties_cfg(sand), zones.geometry, mask=mask
        )
        stats["left_to_sand_control_px"] = int((taken > 0).sum())
        mask &= taken == 0
        del taken
    index, codes = ctx.pixel_counties(classes, _counties_cfg(cfg), None, mask=mask)
    del mask
    units = _project_units(ctx, index, codes, cfg, cfg_pathways, pathway, stats)
    units["status"] = "state_owned"
    ids = location_ids(PATHWAY_LETTER[pathway], units["adcode"], units.geometry.values)
    out = _finish(ctx, units, pathway, ids) if len(units) else _empty(ctx)
    stats["parcels"] = len(out)
    return out, stats

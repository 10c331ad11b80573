"""Candidate parcels of one reach, per pathway (DOMAIN.md §6), as polygons in the reach CRS.

- A ``homestead_greening``: homestead polygons (layer ``homesteads``) whose status is in
  ``eligible_status``, inside an emigration area (``emigration_areas``) of a configured
  county; without a homestead layer, ``rural_homestead`` pixels inside emigration areas of
  those counties, clumped into parcels.
- B ``mine_remediation``: mine polygons (layer ``mines``) inside the Helan Mountain mining area
  (``mining_areas``) of a configured county. Every status is listed; a status outside
  ``eligible_status`` is not eligible (reason ``operating``, or ``status_<value>``). Without a
  mine layer, ``mining`` pixels inside the mining areas, clumped (status ``unknown``, eligible,
  never PV: PV needs a known closed mine).
- C ``sand_control``: ``sand_control.classes`` (sandy, bare) pixels inside ``sand_areas`` of a
  configured county, clumped and split at county lines; parcels below ``min_parcel_ha`` are
  dropped.

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
- Minimum mapping unit (TD/T 1055): parcels smaller than ``min_mapping_unit_m2[mmu_class]`` are
  dropped and counted (``mmu_class``: built for homesteads, other for mines and sand; keys
  ``pathways.<pathway>.mmu_class``).
- Geometries are MultiPolygons (one layer type).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize, shapes
from scipy import ndimage

from ..errors import InputError
from ..vector_io import list_layers, read_vector
from .ids import location_ids, resolve_collisions, source_ids

log = logging.getLogger("nxgeo.candidates")

PATHWAYS = ("homestead_greening", "mine_remediation", "sand_control")
PATHWAY_LETTER = {"homestead_greening": "A", "mine_remediation": "B", "sand_control": "C"}
LAYER_CODE = {"homestead_greening": "HS", "mine_remediation": "MN"}
DEFAULT_MMU_CLASS = {"homestead_greening": "built", "mine_remediation": "other",
                     "sand_control": "other"}
DEFAULT_MMU_M2 = {"built": 200.0, "farmland": 400.0, "other": 600.0}
PARCEL_COLUMNS = ["parcel_id", "pathway", "source_id", "status", "legacy", "adcode", "reach",
                  "eligible", "reason", "area_ha", "area_mu", "geometry"]


@dataclass
class ReachContext:
    """Grid, land use and vector layers of one reach (loaded once, shared by the pathways)."""

    reach_id: str
    reach_dir: Path
    vectors_gpkg: Path
    classes: dict[str, int]
    mu_per_ha: float = 15.0
    transform: rasterio.Affine = None
    crs: object = None
    shape: tuple[int, int] = (0, 0)
    landuse: np.ndarray = None
    owned: np.ndarray = None
    cfg_pathways: dict = field(default_factory=dict)
    _layers: dict = field(default_factory=dict)
    _names: list = field(default_factory=list)

    @classmethod
    def load(cls, reach_dir, vectors_gpkg, reach_id, classes_df: pd.DataFrame,
             mu_per_ha: float = 15.0) -> ReachContext:
        reach_dir, vectors_gpkg = Path(reach_dir), Path(vectors_gpkg)
        lu_path = reach_dir / "landuse.tif"
        if not lu_path.exists():
            raise InputError(f"{lu_path}: file not found (land use of reach {reach_id})")
        classes = {str(c): int(i) for c, i in zip(classes_df["canonical"], classes_df["class_id"])}
        ctx = cls(str(reach_id), reach_dir, vectors_gpkg, classes, float(mu_per_ha))
        with rasterio.open(lu_path) as src:
            ctx.transform, ctx.crs, ctx.shape = src.transform, src.crs, (src.height, src.width)
            ctx.landuse = src.read(1)
            valid = src.read_masks(1) > 0
        ctx._names = list_layers(vectors_gpkg)
        ctx.owned = valid & (ctx.landuse != 0) & ctx._owner_mask()
        return ctx

    # -- vectors ----------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self._names

    def layer(self, name: str, required: bool = False) -> gpd.GeoDataFrame | None:
        if name not in self._layers:
            if not self.has(name):
                if required:
                    raise InputError(f"{self.vectors_gpkg}: layer {name!r} is needed for the "
                                     f"candidate parcels; layers present: {', '.join(self._names)}")
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
            raise InputError(f"{self.vectors_gpkg}: reach {self.reach_id!r} is not in layer "
                             f"'reaches' (ids: {', '.join(sorted(set(r['id'])))})")
        return r

    def counties(self) -> gpd.GeoDataFrame:
        c = self.layer("counties", required=True)
        if "id" not in c.columns:
            raise InputError(f"{self.vectors_gpkg}: layer 'counties' has no field 'id' (adcode)")
        return c.assign(id=c["id"].astype(str).str.replace(r"\.0$", "", regex=True))

    def _owner_mask(self) -> np.ndarray:
        """Pixels whose centre is in this reach and in no reach with a smaller id."""
        r = self.reaches().sort_values("id", kind="stable")
        ids = list(r["id"])
        # burn in descending id order: the smallest id is burnt last and wins
        pairs = [(g, i + 1) for i, g in reversed(list(enumerate(r.geometry)))
                 if g is not None and not g.is_empty]
        owner = rasterize(pairs, out_shape=self.shape, transform=self.transform, fill=0,
                          dtype="uint8" if len(ids) < 255 else "int32")
        return owner == ids.index(self.reach_id) + 1

    # -- rasters ----------------------------------------------------------------------------
    def read(self, name: str, window=None) -> tuple[np.ndarray, float | None]:
        """A reach raster (or a `window` of it) and its nodata value."""
        path = self.reach_dir / f"{name}.tif"
        if not path.exists():
            raise InputError(f"{path}: file not found (reach {self.reach_id})")
        with rasterio.open(path) as src:
            if (src.height, src.width) != self.shape or src.transform != self.transform:
                raise InputError(f"{path}: not on the grid of {self.reach_dir / 'landuse.tif'}")
            return src.read(1, window=window), src.nodata

    def burn(self, geoms) -> np.ndarray:
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        if not geoms:
            return np.zeros(self.shape, dtype=bool)
        return rasterize([(g, 1) for g in geoms], out_shape=self.shape, transform=self.transform,
                         fill=0, dtype="uint8").astype(bool)

    def county_raster(self) -> np.ndarray:
        """County adcode of every pixel (int32; 0 = none)."""
        arr, _ = self.read("zone_county")
        return arr.astype(np.int32, copy=False)

    def class_mask(self, names) -> np.ndarray:
        unknown = [n for n in names if n not in self.classes]
        if unknown:
            raise InputError(f"pathways: unknown land-use class(es) {unknown}; "
                             f"known: {', '.join(self.classes)}")
        return np.isin(self.landuse, [self.classes[n] for n in names])


# --------------------------------------------------------------------------------------------
# Clumping


def clump_parcels(mask: np.ndarray, county: np.ndarray, transform, crs) -> gpd.GeoDataFrame:
    """Clump True pixels of `mask` (8-connectivity) separately in every county of `county`
    (int adcode raster, 0 = none: such pixels are left out), polygonise every clump.

    Returns a GeoDataFrame with adcode (str), n_pixels and a MultiPolygon per clump, ordered by
    clump label (row-major first pixel within each county, counties ascending).
    """
    mask = np.asarray(mask, dtype=bool) & (np.asarray(county) > 0)
    labels = np.zeros(mask.shape, dtype=np.int32)
    adcodes: list[str] = []
    n = 0
    struct = np.ones((3, 3), dtype=bool)
    for c in np.unique(county[mask]):
        lab, k = ndimage.label(mask & (county == c), structure=struct)
        if k:
            sel = lab > 0
            labels[sel] = lab[sel] + n
            adcodes += [str(int(c))] * k
            n += k
    if n == 0:
        return gpd.GeoDataFrame({"adcode": pd.Series([], dtype=object),
                                 "n_pixels": pd.Series([], dtype=np.int64)},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    polys, vals = [], []
    for geom, v in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        polys.append(shapely.geometry.shape(geom))
        vals.append(int(v))
    vals = np.asarray(vals) - 1
    order = np.argsort(vals, kind="stable")
    multi = shapely.multipolygons(np.asarray(polys, dtype=object)[order], indices=vals[order])
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    return gpd.GeoDataFrame({"adcode": adcodes, "n_pixels": counts.astype(np.int64)},
                            geometry=list(multi), crs=crs)


def to_multi(geoms) -> np.ndarray:
    """Polygons -> MultiPolygons (MultiPolygons kept; other parts of collections dropped)."""
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(shapely.MultiPolygon())
        elif g.geom_type == "MultiPolygon":
            out.append(g)
        elif g.geom_type == "Polygon":
            out.append(shapely.MultiPolygon([g]))
        else:
            parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            polys = [q for p in parts for q in shapely.get_parts(p)]
            out.append(shapely.MultiPolygon(polys))
    return np.asarray(out, dtype=object)


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
    table = {**DEFAULT_MMU_M2, **dict(cfg_pathways.get("min_mapping_unit_m2") or {})}
    cls = (cfg_pathways.get(pathway) or {}).get("mmu_class", DEFAULT_MMU_CLASS[pathway])
    if cls not in table:
        raise InputError(f"pathways.{pathway}.mmu_class {cls!r} is not a key of "
                         f"pathways.min_mapping_unit_m2 ({', '.join(table)})")
    return float(table[cls])


def _counties_cfg(cfg: dict) -> set[str]:
    return {str(c) for c in (cfg.get("counties") or [])}


def _finish(ctx: ReachContext, gdf: gpd.GeoDataFrame, pathway: str, ids: pd.Series,
            extra: dict | None = None) -> gpd.GeoDataFrame:
    geoms = to_multi(gdf.geometry.values)
    area_ha = shapely.area(geoms) / 1e4
    n = len(gdf)

    def col(name, default):
        if name in gdf.columns:
            return gdf[name].to_numpy()
        return np.full(n, default, dtype=object)

    out = gpd.GeoDataFrame({
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
    }, geometry=gpd.GeoSeries(geoms, crs=ctx.crs), crs=ctx.crs)
    for k, v in (extra or {}).items():
        out[k] = v
    return out.sort_values("parcel_id", kind="stable").reset_index(drop=True)


def _empty(ctx: ReachContext) -> gpd.GeoDataFrame:
    cols = {c: pd.Series([], dtype=object) for c in PARCEL_COLUMNS if c != "geometry"}
    cols["eligible"] = pd.Series([], dtype=bool)
    cols["area_ha"] = pd.Series([], dtype=float)
    cols["area_mu"] = pd.Series([], dtype=float)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=ctx.crs), crs=ctx.crs)


def _layer_candidates(ctx: ReachContext, gdf: gpd.GeoDataFrame, cfg: dict, zone_layer: str,
                      pathway: str, stats: dict) -> gpd.GeoDataFrame:
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
    small = (shapely.area(np.asarray(gdf.geometry.values, dtype=object))
             < _mmu_m2(ctx.cfg_pathways, pathway))
    stats["dropped_mmu"] = int(small.sum())
    return gdf[~small].reset_index(drop=True)


def _clumped(ctx: ReachContext, classes, zone_layer: str, cfg: dict, pathway: str,
             stats: dict, min_ha: float = 0.0) -> gpd.GeoDataFrame:
    county = ctx.county_raster()
    counties = _counties_cfg(cfg)
    in_county = np.isin(county, [int(c) for c in counties]) if counties else county > 0
    zone = ctx.burn(ctx.layer(zone_layer, required=True).geometry)
    mask = ctx.class_mask(classes) & zone & in_county & ctx.owned
    cl = clump_parcels(mask, np.where(in_county, county, 0), ctx.transform, ctx.crs)
    area = shapely.area(np.asarray(cl.geometry.values, dtype=object))
    small = area < _mmu_m2(ctx.cfg_pathways, pathway)
    stats["clumps"] = len(cl)
    stats["dropped_mmu"] = int(small.sum())
    below = ~small & (area < float(min_ha) * 1e4)
    stats["dropped_min_parcel"] = int(below.sum())
    return cl[~(small | below)].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Pathways


def homestead_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    pathway = "homestead_greening"
    cfg = cfg_pathways.get(pathway) or {}
    ctx.cfg_pathways = cfg_pathways
    stats: dict = {}
    hs = ctx.layer("homesteads")
    if hs is not None:
        stats["source"] = "layer"
        if "status" not in hs.columns:
            raise InputError(f"{ctx.vectors_gpkg}: layer 'homesteads' has no field 'status' "
                             f"(configure inputs.vectors.homesteads.fields.status)")
        ok = {str(s).lower() for s in cfg.get("eligible_status", ["idle", "demolished"])}
        status = hs["status"].astype(str).str.strip().str.lower()
        hs = hs.assign(status=status)[status.isin(ok).to_numpy()]
        g = _layer_candidates(ctx, hs, cfg, "emigration_areas", pathway, stats)
        g["source_id"] = g["id"].astype(str) if "id" in g.columns else None
        ids = source_ids(f"{PATHWAY_LETTER[pathway]}-{LAYER_CODE[pathway]}",
                         g["source_id"] if "id" in g.columns else np.arange(1, len(g) + 1))
    else:
        stats["source"] = "clumped rural_homestead pixels"
        g = _clumped(ctx, ["rural_homestead"], "emigration_areas", cfg, pathway, stats)
        g["status"] = "unknown"
        ids = location_ids(PATHWAY_LETTER[pathway], g["adcode"], g.geometry.values)
    out = _finish(ctx, g, pathway, ids) if len(g) else _empty(ctx)
    stats["parcels"] = len(out)
    return out, stats


def mine_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    pathway = "mine_remediation"
    cfg = cfg_pathways.get(pathway) or {}
    ctx.cfg_pathways = cfg_pathways
    stats: dict = {}
    mines = ctx.layer("mines")
    if mines is not None:
        stats["source"] = "layer"
        if "status" not in mines.columns:
            raise InputError(f"{ctx.vectors_gpkg}: layer 'mines' has no field 'status' "
                             f"(configure inputs.vectors.mines.fields.status)")
        g = _layer_candidates(ctx, mines, cfg, "mining_areas", pathway, stats)
        status = g["status"].astype(str).str.strip().str.lower()
        ok = {str(s).lower() for s in cfg.get("eligible_status", ["abandoned", "closed"])}
        eligible = status.isin(ok)
        g["status"] = status
        g["eligible"] = eligible.to_numpy()
        g["reason"] = np.where(eligible, "",
                               np.where(status == "operating", "operating", "status_" + status))
        g["source_id"] = g["id"].astype(str) if "id" in g.columns else None
        if "legacy" in g.columns:
            g["legacy"] = [None if pd.isna(v) else str(v) for v in g["legacy"]]
        ids = source_ids(f"{PATHWAY_LETTER[pathway]}-{LAYER_CODE[pathway]}",
                         g["source_id"] if "id" in g.columns else np.arange(1, len(g) + 1))
    else:
        stats["source"] = "clumped mining pixels"
        g = _clumped(ctx, ["mining"], "mining_areas", cfg, pathway, stats)
        g["status"] = "unknown"
        ids = location_ids(PATHWAY_LETTER[pathway], g["adcode"], g.geometry.values)
    out = _finish(ctx, g, pathway, ids) if len(g) else _empty(ctx)
    stats["parcels"] = len(out)
    stats["not_eligible"] = int((~out["eligible"].astype(bool)).sum())
    return out, stats


def sand_parcels(ctx: ReachContext, cfg_pathways: dict) -> tuple[gpd.GeoDataFrame, dict]:
    pathway = "sand_control"
    cfg = cfg_pathways.get(pathway) or {}
    ctx.cfg_pathways = cfg_pathways
    stats: dict = {"source": "clumped " + "/".join(cfg.get("classes", ["sandy", "bare"])) + " pixels"}
    g = _clumped(ctx, list(cfg.get("classes", ["sandy", "bare"])), "sand_areas", cfg, pathway,
                 stats, min_ha=float(cfg.get("min_parcel_ha", 1.0)))
    g["status"] = None
    ids = location_ids(PATHWAY_LETTER[pathway], g["adcode"], g.geometry.values)
    out = _finish(ctx, g, pathway, ids) if len(g) else _empty(ctx)
    stats["parcels"] = len(out)
    return out, stats


PARCEL_BUILDERS = {"homestead_greening": homestead_parcels, "mine_remediation": mine_parcels,
                   "sand_control": sand_parcels}

"""Clumping: candidate pixels of a county-coded raster to MultiPolygon parcels.

8-connectivity (scipy.ndimage.label), separately in every county (a clump is split where it
crosses a county line); polygons from rasterio.features.shapes (4-connected pieces of one clump
are gathered into one MultiPolygon, parts touching at corners). Used by `parcels` (clumped
parcels) and `units` (project units); imports no other candidates module.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.features import shapes
from rasterio.windows import Window
from scipy import ndimage

from ..errors import InputError

#: rows per strip where a reach-wide mask is built from several layers (the COG block height)
STRIP_ROWS = 512


def clump_parcels(mask: np.ndarray | None, county: np.ndarray, transform, crs) -> gpd.GeoDataFrame:
    """Clump True pixels of `mask` (8-connectivity; None: every pixel with a county)
    separately in every county of `county` (int adcode raster, 0 = none: such pixels are left
    out), polygonise every clump.

    Returns a GeoDataFrame with adcode (str), n_pixels and a MultiPolygon per clump, ordered by
    clump label (row-major first pixel within each county, counties ascending).
    """
    county = np.asarray(county)
    valid = county > 0
    if mask is not None:
        valid &= np.asarray(mask, dtype=bool)
    r0, r1, c0, c1 = _bbox(valid)
    valid, county = valid[r0:r1, c0:c1], county[r0:r1, c0:c1]
    values = county[valid]
    codes = np.sort(pd.unique(values))  # hashing: O(n), few distinct counties
    index = np.zeros(valid.shape, dtype=np.uint8 if codes.size < 255 else np.int32)
    index[valid] = np.searchsorted(codes, values) + 1
    return clump_county_index(index, codes, transform @ Affine.translation(c0, r0), crs)


def read_county_index(path, strip_rows: int = STRIP_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """A county-coded raster file (adcode where a candidate pixel is, 0 / nodata elsewhere) as
    the (index, codes) pair of `clump_county_index`, read in strips of `strip_rows` rows (no
    full-size copy of the codes is held)."""
    with rasterio.open(path, NUM_THREADS="ALL_CPUS") as ds:
        h, w = ds.height, ds.width
        seen: list[int] = []  # codes in order of first appearance
        index = np.zeros((h, w), dtype=np.uint16)
        for r0 in range(0, h, strip_rows):
            r1 = min(h, r0 + strip_rows)
            c = ds.read(1, window=Window(0, r0, w, r1 - r0))
            v = c > 0
            if ds.nodata is not None:
                v &= c != ds.nodata
            if not v.any():
                continue
            vals = c[v].astype(np.int64)
            seen += [int(x) for x in pd.unique(vals) if int(x) not in seen]
            if len(seen) >= 2**16 - 1:
                raise InputError(f"{path}: more than 65,534 distinct county codes")
            known = np.asarray(seen, dtype=np.int64)
            order = np.argsort(known)
            index[r0:r1][v] = order[np.searchsorted(known, vals, sorter=order)] + 1
    codes = np.sort(np.asarray(seen, dtype=np.int64))
    rank = np.zeros(len(seen) + 1, dtype=np.int32)  # first-seen position -> ascending
    rank[1:] = np.searchsorted(codes, np.asarray(seen, dtype=np.int64)) + 1
    index = rank.astype(np.uint8 if len(seen) < 255 else np.int32)[index]
    return index, codes


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Row and column bounds (r0, r1, c0, c1) of the non-zero cells; all 0 when there are
    none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return 0, 0, 0, 0
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def clump_county_index(index: np.ndarray, codes, transform, crs) -> gpd.GeoDataFrame:
    """`clump_parcels` on a county index raster: 0 = not a candidate pixel, i = a candidate
    pixel of county ``codes[i - 1]`` (codes ascending), as `ReachContext.pixel_counties`
    builds it.

    Each county is labelled and polygonised within its own bounding box
    (scipy.ndimage.find_objects), so time and memory follow the parcels, not the raster.
    """
    index = np.asarray(index)
    parts, value_list, adcodes, counts = [], [], [], []
    n = 0
    struct = np.ones((3, 3), dtype=bool)
    for i, box in enumerate(ndimage.find_objects(index), start=1):
        if box is None:
            continue
        inside = index[box] == i
        lab, k = ndimage.label(inside, structure=struct)  # row-major order of first pixels
        # 4-connected pieces of a clump are gathered into one MultiPolygon (valid: parts
        # touch at corners only); rings from coordinate arrays (shapely's vectorised
        # constructors)
        t = transform @ Affine.translation(box[1].start, box[0].start)
        for geom, v in shapes(lab, mask=inside, connectivity=4, transform=t):
            rings = [shapely.linearrings(np.asarray(r, dtype=float)) for r in geom["coordinates"]]
            parts.append(shapely.polygons(rings[0], holes=rings[1:] or None))
            value_list.append(n + int(v) - 1)
        adcodes += [str(int(codes[i - 1]))] * k
        counts.append(np.bincount(lab.ravel(), minlength=k + 1)[1:])
        n += k
    if n == 0:
        return gpd.GeoDataFrame(
            {"adcode": pd.Series([], dtype=object), "n_pixels": pd.Series([], dtype=np.int64)},
            geometry=gpd.GeoSeries([], crs=crs),
            crs=crs,
        )
    values = np.asarray(value_list)
    order = np.argsort(values, kind="stable")
    multi = shapely.multipolygons(np.asarray(parts, dtype=object)[order], indices=values[order])
    return gpd.GeoDataFrame(
        {"adcode": adcodes, "n_pixels": np.concatenate(counts).astype(np.int64)},
        geometry=list(multi),
        crs=crs,
    )


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

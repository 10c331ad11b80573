"""Distances (exact Euclidean, optionally capped and tiled) and rasterisation of features."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import ndimage

from .common import _check_res

# --------------------------------------------------------------------------------------------
# Distances and rasterisation
# --------------------------------------------------------------------------------------------


def distance_to(mask: np.ndarray, xres: float, yres: float) -> np.ndarray:
    """Euclidean distance (m, float64) from every pixel centre to the nearest True pixel.

    0 on True pixels; +inf everywhere when the mask has no True pixel.
    """
    xr, yr = _check_res(xres, yres)
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(~mask, sampling=(yr, xr))


def distance_to_capped(
    mask: np.ndarray, xres: float, yres: float, cap: float, tile_cells: int = 4_000_000
) -> np.ndarray:
    """min(`distance_to`(mask), cap) as float32, with memory bounded by the tile budget.

    The feature transform runs tile by tile over the tile plus a halo of ceil(cap / pixel)
    pixels, which holds every True pixel closer than `cap`, and distances are computed as
    scipy's distance_transform_edt computes them: the result equals the whole-array one bit
    for bit (about 10 bytes per cell of a tile and its halo instead of ~50 per cell of the
    whole array)."""
    xr, yr = _check_res(xres, yres)
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    cap = float(cap)
    out = np.full((h, w), np.float32(cap), dtype=np.float32)
    if not mask.any():
        return out
    pad = math.ceil(cap / min(xr, yr))
    side = max(512, int(math.sqrt(max(1, tile_cells))) - 2 * pad)
    for r0 in range(0, h, side):
        for c0 in range(0, w, side):
            r1, c1 = min(r0 + side, h), min(c0 + side, w)
            a0, a1 = max(0, r0 - pad), min(h, r1 + pad)
            b0, b1 = max(0, c0 - pad), min(w, c1 + pad)
            sub = mask[a0:a1, b0:b1]
            if not sub.any():
                continue
            ft = ndimage.distance_transform_edt(
                ~sub, sampling=(yr, xr), return_distances=False, return_indices=True
            )
            out[r0:r1, c0:c1] = _core_distances(
                ft, r0 - a0, c0 - b0, (r1 - r0, c1 - c0), xr, yr, cap
            )
    return out


def _core_distances(
    ft: np.ndarray,
    row0: int,
    col0: int,
    shape: tuple[int, int],
    xres: float,
    yres: float,
    cap: float,
) -> np.ndarray:
    """min(distance, cap) of the `shape` core starting at (`row0`, `col0`) of a feature
    transform `ft` (scipy's indices of the nearest feature), computed as
    distance_transform_edt computes distances (float64, then capped)."""
    rows, cols = np.indices(shape, dtype=np.int32)
    core = (slice(row0, row0 + shape[0]), slice(col0, col0 + shape[1]))
    dr = (ft[0][core] - (rows + row0)).astype(np.float64)
    dc = (ft[1][core] - (cols + col0)).astype(np.float64)
    del rows, cols
    dr *= yres
    dc *= xres
    dr *= dr
    dc *= dc
    dr += dc
    np.sqrt(dr, out=dr)
    return np.minimum(dr, cap)


def rasterize_features(
    geoms: Iterable,
    out_shape: tuple[int, int],
    transform,
    all_touched: bool = True,
    *,
    value: float = 1,
    fill: float = 0,
    dtype: str = "uint8",
) -> np.ndarray:
    """Burn geometries (shapely, GeoJSON-like, or (geometry, value) pairs) onto a grid.

    Every pixel touched by a geometry (`all_touched=True`) or whose centre lies inside it gets
    `value` (or the pair's own value); the rest `fill`. An empty input gives all `fill`.
    """
    shapes = [g if isinstance(g, tuple) else (g, value) for g in geoms if g is not None]
    shapes = [(g, v) for g, v in shapes if not getattr(g, "is_empty", False)]
    if not shapes:
        return np.full(out_shape, fill, dtype=dtype)
    from rasterio import features

    return features.rasterize(
        shapes,
        out_shape=out_shape,
        transform=transform,
        all_touched=all_touched,
        fill=fill,
        dtype=dtype,
    )

"""Pipeline step: the terrain layers of one reach (slope, aspect, LS, distances), block-wise."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window
from scipy import ndimage

from .common import NODATA, _nodata32
from .distance import _core_distances, rasterize_features
from .horn import _horn_strip
from .hydrology import FLOW_TILE, _check_tile, flow_accumulation, flow_accumulation_tiled
from .ls import ls_factor

# --------------------------------------------------------------------------------------------
# Pipeline step: terrain layers of one reach, block-wise

TERRAIN_LAYERS = (
    "slope",
    "aspect",
    "ls",
    "distance_water",
    "distance_roads",
    "distance_settlements",
)
DISTANCE_SOURCES = {
    "distance_water": ("rivers", "canals"),
    "distance_roads": ("roads",),
    "distance_settlements": ("settlements",),
}
#: default cell budgets (see `terrain_reach`). FLOW_MAX_CELLS: the opt-in approximation's
#: budget (None = exact routing, the default)
FLOW_MAX_CELLS = None
DISTANCE_TILE_CELLS = 12_000_000
STRIP_CELLS = 1 << 20


def _read_padded(ds, row0: int, col0: int, height: int, width: int, fill) -> np.ndarray:
    """Band 1 over rows [row0, row0+height) x cols [col0, col0+width) as float32, `fill`
    outside the raster (what a boundless read with fill_value gives)."""
    out = np.full((height, width), np.float32(fill), dtype=np.float32)
    r0, c0 = max(row0, 0), max(col0, 0)
    r1, c1 = min(row0 + height, ds.height), min(col0 + width, ds.width)
    if r1 > r0 and c1 > c0:
        out[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = ds.read(
            1, window=Window(c0, r0, c1 - c0, r1 - r0), out_dtype="float32"
        )
    return out


def flow_coarsening(n_cells: int, max_cells: int | None = None) -> int:
    """Factor k (>= 1) by which the reach DEM is coarsened for the opt-in approximate flow
    accumulation so that the coarse grid has at most `max_cells` cells (None: never coarsen,
    the default: routing is exact)."""
    if not max_cells or n_cells <= max_cells:
        return 1
    return math.ceil(math.sqrt(n_cells / float(max_cells)))


def coarse_flow_length(acc_coarse: np.ndarray, k: int) -> np.ndarray:
    """Coarse D8 accumulation -> its fine-grid equivalent minus one, (acc_c − 1)·k.

    On a hillslope D8 routes flow along one-cell-wide lines, so the upslope count of a cell
    is the flow-path length in cells: (acc − 1)·D is the specific catchment area (m²/m) on
    either grid, and a coarse count converts to fine cells by the ratio of cell sizes k.
    """
    return (np.asarray(acc_coarse, dtype=np.float64) - 1.0) * float(k)


def _bilinear_rows(
    values: np.ndarray, valid: np.ndarray, k: int, r0: int, r1: int, width: int
) -> np.ndarray:
    """Bilinear interpolation of a coarse grid (cell = k x k fine cells, same origin) at the
    centres of fine rows [r0, r1) and columns [0, width); invalid coarse cells are left out
    (normalised weights). NaN where no valid coarse cell has weight."""
    hc, wc = values.shape

    def axis(n0, n1, nc):
        y = (np.arange(n0, n1, dtype=np.float64) + 0.5) / k - 0.5
        i0 = np.floor(y).astype(np.int64)
        f = y - i0
        lo = np.clip(i0, 0, nc - 1)
        hi = np.clip(i0 + 1, 0, nc - 1)
        return lo, hi, 1.0 - f, f

    rlo, rhi, rw0, rw1 = axis(r0, r1, hc)
    clo, chi, cw0, cw1 = axis(0, width, wc)
    v = np.where(valid, values, 0.0)
    m = valid.astype(np.float64)
    num = np.zeros((r1 - r0, width))
    den = np.zeros((r1 - r0, width))
    for ri, rw in ((rlo, rw0), (rhi, rw1)):
        for ci, cw in ((clo, cw0), (chi, cw1)):
            wgt = rw[:, None] * cw[None, :]
            sub_m = m[ri][:, ci]
            num += wgt * sub_m * v[ri][:, ci]
            den += wgt * sub_m
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _reach_flow(
    g,
    row_off: int,
    col_off: int,
    h: int,
    w: int,
    template,
    dem_nd,
    xres: float,
    yres: float,
    k: int,
    tile: int = FLOW_TILE,
) -> np.ndarray:
    """D8 flow accumulation of the reach: exact on the reach grid (k = 1; tile-wise,
    `flow_accumulation_tiled`), else on the DEM block-averaged over k x k cells (valid cells
    inside the reach only); returns the coarse (or exact) accumulation grid, NaN outside the
    reach."""
    if k == 1:
        dem_r = _read_padded(g, row_off, col_off, h, w, dem_nd)
        dem_r[~(template.read_masks(1) > 0)] = np.float32(dem_nd)
        return flow_accumulation_tiled(dem_r, dem_nd, xres=xres, yres=yres, tile=tile)
    hc, wc = -(-h // k), -(-w // k)
    total = np.zeros((hc, wc))
    count = np.zeros((hc, wc))
    nd32 = _nodata32(dem_nd)
    step = k * max(1, STRIP_CELLS // max(1, w * k))  # fine rows per chunk, a multiple of k
    for r0 in range(0, h, step):
        r1 = min(r0 + step, h)
        z = _read_padded(g, row_off + r0, col_off, r1 - r0, w, dem_nd)
        ok = np.isfinite(z) & (template.read_masks(1, window=Window(0, r0, w, r1 - r0)) > 0)
        if nd32 is not None:
            ok &= z != nd32
        zz = np.zeros((-(-(r1 - r0) // k) * k, wc * k))
        mm = np.zeros(zz.shape)
        zz[: r1 - r0, :w] = np.where(ok, z, 0.0)
        mm[: r1 - r0, :w] = ok
        nr = zz.shape[0] // k
        c0 = r0 // k
        total[c0 : c0 + nr] += zz.reshape(nr, k, wc, k).sum(axis=(1, 3))
        count[c0 : c0 + nr] += mm.reshape(nr, k, wc, k).sum(axis=(1, 3))
    coarse = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    del total, count
    return flow_accumulation(coarse, None, xres=xres * k, yres=yres * k)


def _distance_tile(
    geoms, tile_win: Window, pad: int, rt, xres: float, yres: float, dmax: float
) -> np.ndarray:
    """Distance (m, float32, capped at `dmax`) from every pixel of `tile_win` (reach pixel
    coordinates) to the nearest pixel touched by `geoms`, exact: the feature transform is taken
    over the tile plus a `pad`-pixel halo, which holds every feature closer than `dmax`, and
    the distances are computed as scipy's distance_transform_edt computes them."""
    from rasterio.windows import transform as window_transform

    th, tw = int(tile_win.height), int(tile_win.width)
    big = Window(tile_win.col_off - pad, tile_win.row_off - pad, tw + 2 * pad, th + 2 * pad)
    shape = (th + 2 * pad, tw + 2 * pad)
    mask = rasterize_features(geoms, shape, window_transform(big, rt), all_touched=True)
    if not mask.any():
        return np.full((th, tw), np.float32(dmax), dtype=np.float32)
    ft = ndimage.distance_transform_edt(
        mask == 0, sampling=(yres, xres), return_distances=False, return_indices=True
    )
    del mask
    return _core_distances(ft, pad, pad, (th, tw), xres, yres, dmax).astype(np.float32)


def terrain_reach(
    dem_grid_path,
    reach_template_path,
    vectors_gpkg,
    outputs: dict,
    *,
    distance_max_m: float,
    s_method: str,
    l_max: float | None,
    flow_max_cells: int | None = FLOW_MAX_CELLS,
    flow_tile: int = FLOW_TILE,
    distance_tile_cells: int = DISTANCE_TILE_CELLS,
    strip_cells: int = STRIP_CELLS,
) -> dict:
    """Slope, aspect, LS and distance rasters of one reach, as COGs on the reach's grid.

    Block-wise: memory is bounded by the cell budgets, not by the size of the reach.

    - slope/aspect (Horn, as gdaldem) from the region DEM with a one-pixel halo, so the reach
      edge has real neighbours (no artificial nodata ring); row strips of about `strip_cells`
      cells; bit-identical to the whole-array functions.
    - LS (InVEST SDR form) on D8 flow accumulation inside the reach (flow does not leave the
      reach polygon: reaches are drainage units), exact: routed tile by tile (`flow_tile`² cells)
      with exact propagation between tiles (`flow_accumulation_tiled`: the whole-array result
      cell for cell, ~30 bytes per reach cell plus ~140 per tile cell). Opt-in approximation
      (off by default): with `flow_max_cells` set, a reach whose bounding box has more cells is
      routed on its DEM block-averaged over k x k cells (k = `flow_coarsening`); the coarse
      upslope count converts to fine cells by `coarse_flow_length` and is interpolated
      bilinearly to the fine cells, while slope (S and the exponent m) stays at full resolution
      (benchmarks/ls_approx.py measures its effect on LS, docs/scaling.md).
    - distances (m) to rivers+canals, roads, settlements, exact up to `distance_max_m` and
      capped there: features up to that distance outside the reach are taken into account.
      Computed tile by tile with a halo of `distance_max_m` (tiles of at most
      `distance_tile_cells` cells with their halo), which gives the whole-window result bit for
      bit.
    Pixels outside the reach are nodata (-9999).
    """
    from ..raster_io import CogWriters
    from ..vector_io import list_layers, read_vector

    nd = NODATA
    nd32 = np.float32(nd)
    unknown = sorted(set(outputs) - set(TERRAIN_LAYERS))
    if unknown:
        raise ValueError(f"unknown terrain layer(s) {unknown}; known: {TERRAIN_LAYERS}")
    with rasterio.open(reach_template_path) as tpl, rasterio.open(dem_grid_path) as g:
        rt, h, w, crs = tpl.transform, tpl.height, tpl.width, tpl.crs
        xres, yres = g.transform.a, -g.transform.e
        col_off = round((rt.c - g.transform.c) / xres)
        row_off = round((g.transform.f - rt.f) / yres)
        dem_nd = g.nodata if g.nodata is not None else nd
        dem_nd32 = _nodata32(dem_nd)
        need = set(outputs)
        with CogWriters(outputs, (h, w), crs, rt, "float32", nd) as out:
            if need & {"slope", "aspect", "ls"}:
                flow = k = None
                if "ls" in need:
                    k = flow_coarsening(h * w, flow_max_cells)
                    flow = _reach_flow(
                        g,
                        row_off,
                        col_off,
                        h,
                        w,
                        tpl,
                        dem_nd,
                        xres,
                        yres,
                        k,
                        _check_tile(flow_tile),
                    )
                    if k > 1:
                        flow_valid = np.isfinite(flow)
                        flow = coarse_flow_length(flow, k)
                rows = max(1, int(strip_cells) // max(1, w))
                if h >= 256 and w >= 256:  # whole tile rows of the 256 x 256 output tiles
                    rows = max(256, rows // 256 * 256)
                for r0 in range(0, h, rows):
                    r1 = min(r0 + rows, h)
                    win = Window(0, r0, w, r1 - r0)
                    inside = tpl.read_masks(1, window=win) > 0
                    z = _read_padded(g, row_off + r0 - 1, col_off - 1, r1 - r0 + 2, w + 2, dem_nd)
                    slope = _horn_strip(z, "slope", abs(xres), abs(yres), dem_nd32)[:, 1:-1]
                    if "aspect" in need:
                        asp = _horn_strip(z, "aspect", abs(xres), abs(yres), dem_nd32)[:, 1:-1]
                        out.write("aspect", _reach_mask(asp, inside, nd32), win)
                        del asp
                    del z
                    if "ls" in need:
                        assert flow is not None and k is not None  # set above for "ls"
                        if k == 1:
                            acc = flow[r0:r1]
                        else:
                            acc = 1.0 + _bilinear_rows(flow, flow_valid, k, r0, r1, w)
                        slope_ok = np.where(slope == nd, np.nan, slope)
                        ls = ls_factor(slope_ok, acc, xres, s_method=s_method, l_max=l_max)
                        del slope_ok, acc
                        ls = np.where(np.isfinite(ls) & (ls != nd), ls, nd).astype("float32")
                        out.write("ls", _reach_mask(ls, inside, nd32), win)
                        del ls
                    if "slope" in need:
                        out.write("slope", _reach_mask(slope, inside, nd32), win)
                    del slope
                del flow
            dist_needed = [key for key in DISTANCE_SOURCES if key in need]
            if dist_needed:
                pad = math.ceil(distance_max_m / min(xres, yres))
                # tile side: the budget minus the halo, but at least 512 (at very fine
                # resolution the halo dominates: the budget is then exceeded, see docstring)
                side = int(math.sqrt(max(1, distance_tile_cells))) - 2 * pad
                tile = max(512, side // 256 * 256)
                layers = set(list_layers(vectors_gpkg))
                for key in dist_needed:
                    geoms = []
                    for layer in DISTANCE_SOURCES[key]:
                        if layer in layers:
                            geoms += [
                                x
                                for x in read_vector(vectors_gpkg, layer).geometry
                                if x is not None and not x.is_empty
                            ]
                    for r0 in range(0, h, tile):
                        for c0 in range(0, w, tile):
                            win = Window(c0, r0, min(tile, w - c0), min(tile, h - r0))
                            inside = tpl.read_masks(1, window=win) > 0
                            if not inside.any():
                                block = np.full(inside.shape, nd32, dtype=np.float32)
                            else:
                                d = _distance_tile(geoms, win, pad, rt, xres, yres, distance_max_m)
                                block = _reach_mask(d, inside, nd32)
                            out.write(key, block, win)
    return {key: Path(p) for key, p in outputs.items()}


def _reach_mask(a: np.ndarray, inside: np.ndarray, nd32: np.float32) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32).copy()
    a[~inside] = nd32
    a[~np.isfinite(a)] = nd32
    return a

"""DLTB polygons onto the analysis grid: land-use codes and ownership, the largest share.

Rule (docs/survey.md): each grid cell takes the class of the polygon(s) covering the largest
part of it. The shares are measured on a supersampled grid: every cell is cut into
`supersample` × `supersample` sub-cells and each sub-cell takes the polygon under its centre
(GDAL's rasterisation rule, all_touched off), so a class's share is known to 1/k² of a cell.
Area not covered by any polygon competes as "no data": a cell more than half outside the
survey is nodata. Ties go to the smaller code (no data loses every tie). Ownership is the
owner (1 state, 2 collective, 0 unknown) of the largest share in the same way, independently
of the class. Cells covered by one polygon alone (most of them) are assigned without counting.

Block-wise: the grid is written window by window; only the polygons meeting a window are
burnt, on that window's supersampled grid (memory ~ block² × k² × 4 bytes).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry import box

from ..grid import Grid
from ..nodata import CLASS_NODATA
from ..raster_io import cog_output, gtiff_profile, uncompressed, work_windows
from .read import OWNER_NODATA

CODE_NODATA = CLASS_NODATA


def largest_share(fine: np.ndarray, k: int, nodata: int) -> np.ndarray:
    """Per cell of a (h·k, w·k) array of values, the value of the largest number of sub-cells
    (ties: the smallest value; `nodata` loses every tie). Returns (h, w)."""
    h, w = fine.shape[0] // k, fine.shape[1] // k
    cells = fine.reshape(h, k, w, k).transpose(0, 2, 1, 3).reshape(h, w, k * k)
    lo, hi = cells.min(axis=2), cells.max(axis=2)
    out = lo.copy()
    mixed = lo != hi
    if not mixed.any():
        return out
    sub = cells[mixed]  # (m, k²) the cells of more than one value
    # nodata ranks last in ties: map it to the largest key while counting
    big = np.iinfo(np.int64).max
    keys = np.where(sub == nodata, big, sub.astype(np.int64))
    keys.sort(axis=1)
    best_val = keys[:, 0].copy()
    best_n = np.zeros(len(keys), np.int64)
    run = np.ones(len(keys), np.int64)
    for j in range(1, k * k + 1):  # one pass over the sorted sub-cells
        if j < k * k:
            same = keys[:, j] == keys[:, j - 1]
        else:
            same = np.zeros(len(keys), bool)
        end = ~same  # the run of keys[:, j-1] ends here
        better = end & (run > best_n)
        best_n = np.where(better, run, best_n)
        best_val = np.where(better, keys[:, j - 1], best_val)
        if j < k * k:
            run = np.where(same, run + 1, 1)
    out[mixed] = np.where(best_val == big, nodata, best_val).astype(out.dtype)
    return out


def rasterise_dltb(
    dltb: gpd.GeoDataFrame,
    grid: Grid,
    out_codes: str | Path,
    out_owner: str | Path,
    supersample: int = 5,
    block_size: int = 512,
) -> tuple[Path, Path]:
    """Write the land-use code raster (int16, nodata 0, scheme codes as integers: 0103 ->
    103, like a land-use GeoTIFF of the raster format) and the ownership raster (uint8,
    1 state, 2 collective, 0 unknown, nodata 255) of `dltb` (standard columns `code`,
    `owner`; any CRS) on `grid`, the largest share of each cell."""
    k = int(supersample)
    gdf = dltb.to_crs(grid.rasterio_crs.to_wkt()) if dltb.crs != grid.rasterio_crs else dltb
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)].reset_index(drop=True)
    # polygon i burns i + 1 (0 = no polygon); its code and owner by lookup
    code_lut = np.concatenate([[CODE_NODATA], gdf["code"].to_numpy(np.int64)])
    owner_lut = np.concatenate([[OWNER_NODATA], gdf["owner"].to_numpy(np.int64)])
    geoms = gdf.geometry.to_numpy()
    tree = gdf.sindex
    pc = gtiff_profile(grid, "int16", CODE_NODATA)
    po = gtiff_profile(grid, "uint8", OWNER_NODATA)
    t = grid.transform
    with (
        cog_output(out_codes) as tc,
        cog_output(out_owner) as to,
        rasterio.open(tc, "w", **uncompressed(pc)) as dc,
        rasterio.open(to, "w", **uncompressed(po)) as do,
    ):
        for win in work_windows(pc, grid.width, grid.height, block_size):
            r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
            x0, y0 = t @ (c0, r0)
            x1, y1 = t @ (c0 + w, r0 + h)
            idx = tree.query(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            if len(idx) == 0:
                dc.write(np.full((h, w), CODE_NODATA, np.int16), 1, window=win)
                do.write(np.full((h, w), OWNER_NODATA, np.uint8), 1, window=win)
                continue
            idx = np.sort(idx)
            fine_t = Affine(t.a / k, t.b, x0, t.d, t.e / k, y0)
            fine = rasterize(
                ((geoms[i], int(i) + 1) for i in idx),
                out_shape=(h * k, w * k),
                transform=fine_t,
                fill=0,
                dtype="int32",
                all_touched=False,
            )
            codes = largest_share(code_lut[fine], k, CODE_NODATA)
            owner = largest_share(owner_lut[fine], k, OWNER_NODATA)
            dc.write(codes.astype(np.int16), 1, window=win)
            do.write(owner.astype(np.uint8), 1, window=win)
        dc.update_tags(source="DLTB polygons, largest share (docs/survey.md)", supersample=k)
        do.update_tags(
            source="DLTB QSXZ, largest share (docs/survey.md)",
            values="1 = state-owned 国有, 2 = collective 集体, 0 = unknown 未知",
        )
    return Path(out_codes), Path(out_owner)

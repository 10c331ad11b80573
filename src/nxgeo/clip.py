"""Cut a grid raster to one reach polygon and write it as a Cloud-Optimised GeoTIFF.

Boundary rule (the same as GDAL's default rasterisation, `all_touched=False`): a pixel belongs
to the reach when its **centre** lies inside the polygon; every other pixel of the output is
nodata. The output extent is the polygon's bounding box snapped outward to the source pixel
grid (and cut to the raster), so clipped rasters stay aligned with the analysis grid.

The COG is written with GDAL's COG driver: 512×512 tiles, deflate with predictor, internal
overviews (nearest for integer/categorical rasters, average for floats), nodata and CRS set.
GDAL writes no timestamp into the file, so the same input gives the same bytes.
Work is block-wise: the masked window is written block by block to a temporary GeoTIFF beside
the output, which the COG driver then copies (streaming); the COG appears under its final name
only when complete.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.features import geometry_mask
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from shapely.geometry.base import BaseGeometry

from .atomic import temp_dir_beside
from .errors import InputError
from .grid import Grid
from .raster_io import default_nodata, gtiff_profile, to_cog, uncompressed, work_windows

_EPS = 1e-6  # fraction of a pixel: bounds within this of a pixel edge snap to that edge


def _fmt_bounds(b) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in b) + ")"


def polygon_window(polygon: BaseGeometry, transform, width: int, height: int) -> Window | None:
    """Window of whole pixels covering the polygon's bounds, cut to the raster; None if empty."""
    inv = ~transform
    minx, miny, maxx, maxy = polygon.bounds
    cols, rows = zip(*(inv @ (x, y) for x in (minx, maxx) for y in (miny, maxy)))
    c0 = max(0, math.floor(min(cols) + _EPS))
    r0 = max(0, math.floor(min(rows) + _EPS))
    c1 = min(width, math.ceil(max(cols) - _EPS))
    r1 = min(height, math.ceil(max(rows) - _EPS))
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def clip_to_polygon(
    src_path: str | Path,
    polygon: BaseGeometry,
    dst_path: str | Path,
    name: str = "reach",
    block_size: int = 512,
) -> Path:
    """Clip `src_path` to `polygon` (in the raster's CRS) and write a COG at `dst_path`.

    Pixels whose centre is outside the polygon become nodata (the source nodata, or the dtype's
    default when the source has none). Raises `InputError` naming the reach when the polygon
    does not overlap the raster, covers no pixel centre, or covers only nodata pixels.
    """
    src_path, dst_path = Path(src_path), Path(dst_path)
    if polygon is None or polygon.is_empty:
        raise InputError(f"reach {name!r}: polygon is empty; check the reaches layer")
    with rasterio.open(src_path) as src:
        grid_bounds = tuple(src.bounds)
        win = polygon_window(polygon, src.transform, src.width, src.height)
        if win is None:
            raise InputError(
                f"reach {name!r}: polygon does not overlap the analysis grid (reach bounds "
                f"{_fmt_bounds(polygon.bounds)}, grid bounds {_fmt_bounds(grid_bounds)}, "
                f"{src_path.name}); check the reaches layer's CRS and extent"
            )
        dtype = src.dtypes[0]
        nodata = src.nodata if src.nodata is not None else default_nodata(dtype)
        out_transform = window_transform(win, src.transform)
        out_grid = Grid(
            crs=src.crs, transform=out_transform, width=int(win.width), height=int(win.height)
        )
        profile = uncompressed(gtiff_profile(out_grid, dtype, nodata))  # copied to a COG
        profile["count"] = src.count
        n_valid = 0
        with temp_dir_beside(dst_path) as td:
            masked = Path(td) / "masked.tif"
            with rasterio.open(masked, "w", **profile) as dst:
                for sub in work_windows(profile, out_grid.width, out_grid.height, block_size):
                    read_win = Window(
                        win.col_off + sub.col_off, win.row_off + sub.row_off, sub.width, sub.height
                    )
                    data = src.read(window=read_win)
                    outside = geometry_mask(
                        [polygon],
                        out_shape=data.shape[1:],
                        transform=window_transform(sub, out_transform),
                        all_touched=False,
                        invert=False,
                    )
                    data[:, outside] = nodata
                    valid = ~outside
                    if src.nodata is not None:
                        valid &= ~_is_nodata(data[0], src.nodata)
                    n_valid += int(valid.sum())
                    dst.write(data, window=sub)
                dst.update_tags(**src.tags())
                for i, desc in enumerate(src.descriptions, start=1):
                    if desc:
                        dst.set_band_description(i, desc)
            if n_valid == 0:
                raise InputError(
                    f"reach {name!r}: polygon covers no data pixel of {src_path.name} (reach "
                    f"bounds {_fmt_bounds(polygon.bounds)}, grid bounds "
                    f"{_fmt_bounds(grid_bounds)}): it is either smaller than a pixel or lies "
                    f"over nodata only; check the reaches layer's CRS and extent"
                )
            to_cog(masked, dst_path)
    return dst_path


def _is_nodata(a: np.ndarray, nodata) -> np.ndarray:
    if isinstance(nodata, float) and np.isnan(nodata):
        return np.isnan(a)
    return a == nodata


def reach_polygon(vectors_gpkg: str | Path, reach_id: str, layer: str = "reaches") -> BaseGeometry:
    """The (dissolved) polygon of one reach from the prepared vectors (field `id`)."""
    from .vector_io import read_vector

    reaches = read_vector(vectors_gpkg, layer)
    sel = reaches[reaches["id"].astype(str) == str(reach_id)]
    if sel.empty:
        known = ", ".join(sorted(reaches["id"].astype(str)))
        raise InputError(
            f"reach {reach_id!r} is not in the reaches layer (known: {known}); "
            "fix `reaches:` in the config or the reaches layer"
        )
    return sel.geometry.union_all()


def clip_reach(
    layers: dict[str, str | Path],
    vectors_gpkg: str | Path,
    reach_id: str,
    outputs: dict[str, str | Path],
    block_size: int = 512,
) -> dict[str, Path]:
    """Clip every prepared layer (name -> grid raster) to one reach, as COGs (name -> output)."""
    polygon = reach_polygon(vectors_gpkg, reach_id)
    return {
        name: clip_to_polygon(
            layers[name], polygon, outputs[name], name=reach_id, block_size=block_size
        )
        for name in outputs
    }

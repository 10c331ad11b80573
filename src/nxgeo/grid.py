"""The analysis grid: one projected, north-up pixel grid that every raster is aligned to.

A `Grid` is a CRS + affine transform + shape. It is JSON-able (`to_dict` / `from_dict`) so the
workflow writes it once (`grid.json`) and every later step reads the same grid.

`grid_for_region` snaps the region's bounds *outward* to whole multiples of the resolution
(in the grid CRS), so grids built from different runs, years or regions of the same CRS and
resolution share pixel edges and their rasters can be compared pixel by pixel.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin
from rasterio.windows import Window

from .errors import ConfigError, InputError

DEFAULT_CRS = "EPSG:4507"
#: the largest analysis grid built without being asked to (config `grid.max_pixels`; the
#: shipped config/config.yaml sets the same value). 30 m over all of Ningxia is ~170 M pixels.
DEFAULT_MAX_PIXELS = 500_000_000
#: rows per strip of `Grid.strips` (a multiple of the 256-pixel GeoTIFF tiles)
STRIP_ROWS = 512


def _crs_string(crs: Any) -> str:
    """Normalise any CRS spelling to a string ('EPSG:4507' when it has a code, else WKT)."""
    return CRS.from_user_input(crs).to_string()


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid. `transform` maps (col, row) of pixel corners to (x, y)."""

    crs: str
    transform: Affine
    width: int
    height: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", _crs_string(self.crs))
        object.__setattr__(self, "transform", Affine(*tuple(self.transform)[:6]))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"grid shape must be positive, got {self.height} x {self.width}")

    # -- geometry -------------------------------------------------------------------------
    @property
    def rasterio_crs(self) -> CRS:
        return CRS.from_user_input(self.crs)

    @property
    def resolution(self) -> tuple[float, float]:
        """(x size, y size) of a pixel, both positive, in CRS units."""
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) — numpy order."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top)."""
        t = self.transform
        xs = (t.c, t.c + t.a * self.width)
        ys = (t.f, t.f + t.e * self.height)
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in CRS units squared (m² for a metric CRS)."""
        t = self.transform
        return abs(t.a * t.e - t.b * t.d)

    def profile(self, dtype: str, nodata: float | None) -> dict:
        """Keyword arguments for `rasterio.open(..., 'w', **profile)` (plus creation options)."""
        return {
            "crs": self.rasterio_crs,
            "transform": self.transform,
            "width": self.width,
            "height": self.height,
            "count": 1,
            "dtype": dtype,
            "nodata": nodata,
        }

    def matches(self, other: Grid, tol: float = 1e-6) -> bool:
        """Same CRS, same shape and the same transform within `tol` of a pixel."""
        if self.shape != other.shape or self.rasterio_crs != other.rasterio_crs:
            return False
        res = min(self.resolution)
        return all(
            abs(p - q) <= tol * res
            for p, q in zip(tuple(self.transform)[:6], tuple(other.transform)[:6])
        )

    # -- a square-cell, north-up grid by its corner (the sample generator builds these) -----
    @classmethod
    def from_corner(
        cls, crs: Any, x0: float, y0: float, res: float, width: int, height: int
    ) -> Grid:
        """North-up square cells of size `res` whose upper-left corner is (x0, y0)."""
        return cls(crs, Affine(res, 0.0, x0, 0.0, -res, y0), width, height)

    @property
    def x0(self) -> float:
        """x of the upper-left corner."""
        return float(self.transform.c)

    @property
    def y0(self) -> float:
        """y of the upper-left corner."""
        return float(self.transform.f)

    @property
    def res(self) -> float:
        """The cell size of a square-cell grid (CRS units)."""
        a, e = self.resolution
        if a != e:
            raise ValueError(f"grid cells are not square ({a} x {e}); use .resolution")
        return a

    def xs(self) -> Any:
        """x of every column's cell centre."""
        import numpy as np

        return self.x0 + (np.arange(self.width, dtype=np.float64) + 0.5) * self.res

    def ys(self, r0: int, r1: int) -> Any:
        """y of the cell centres of rows r0 .. r1 - 1."""
        import numpy as np

        return self.y0 - (np.arange(r0, r1, dtype=np.float64) + 0.5) * self.res

    def window_transform(self, r0: int) -> Affine:
        """The transform of the strip that starts at row r0."""
        return Affine(self.res, 0.0, self.x0, 0.0, -self.res, self.y0 - r0 * self.res)

    def strips(self, rows: int | None = None) -> Iterator[tuple[int, int]]:
        """(first row, end row) of consecutive strips of `rows` rows (default `STRIP_ROWS`,
        read at the call, so a test can change it)."""
        rows = rows or STRIP_ROWS
        for r0 in range(0, self.height, rows):
            yield r0, min(self.height, r0 + rows)

    def n_strips(self, rows: int | None = None) -> int:
        return math.ceil(self.height / (rows or STRIP_ROWS))

    def shifted(self, crs: Any, dx: float) -> Grid:
        """The same cells in a CRS that differs only by a false-easting offset."""
        return Grid.from_corner(crs, self.x0 + dx, self.y0, self.res, self.width, self.height)

    # -- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "crs": self.crs,
            "transform": [float(v) for v in tuple(self.transform)[:6]],
            "width": self.width,
            "height": self.height,
            # informative only; from_dict ignores them
            "resolution": list(self.resolution),
            "bounds": list(self.bounds),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Grid:
        return cls(
            crs=d["crs"],
            transform=Affine(*d["transform"][:6]),
            width=d["width"],
            height=d["height"],
        )

    @classmethod
    def from_raster(cls, path: str | Path) -> Grid:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputError(f"{path}: raster has no CRS; set one (e.g. gdal_edit.py -a_srs)")
            return cls(crs=src.crs, transform=src.transform, width=src.width, height=src.height)


def pixel_budget_problem(grid: Grid, max_pixels: int | None) -> str | None:
    """Why `grid` is refused under the pixel budget `max_pixels` (config `grid.max_pixels`),
    or None when it fits (or `max_pixels` is None). The message names the pixel count, the
    resolution, the resolution that would fit and the key to raise."""
    if max_pixels is None:
        return None
    n = grid.width * grid.height
    if n <= int(max_pixels):
        return None
    res = grid.resolution[0]
    fits = math.ceil(res * math.sqrt(n / int(max_pixels)))
    gb = n * 4 / 1e9
    return (
        f"grid.resolution: {res:g} m gives an analysis grid of {n:,} pixels ({grid.width:,} × "
        f"{grid.height:,} over the counties' extent), more than grid.max_pixels = "
        f"{int(max_pixels):,}: every layer would be ~{gb:,.0f} GB (float32) and the run would "
        f"take very long. Use a coarser grid.resolution (at least {fits:g} m fits; real survey "
        f"data: 30), or, if you really mean {res:g} m, raise grid.max_pixels to at least "
        f"{n:,}."
    )


def grid_for_region(
    region_gdf: gpd.GeoDataFrame,
    crs: Any = DEFAULT_CRS,
    resolution: float = 250.0,
    pad_cells: int = 2,
    name: str = "region",
    max_pixels: int | None = None,
) -> Grid:
    """Grid covering `region_gdf` in `crs`, edges snapped outward to multiples of `resolution`.

    `pad_cells` extra pixels are added on every side (room for reprojection of curved edges and
    for neighbourhood operations such as slope at the border). With `max_pixels`, a grid of
    more pixels is refused (`ConfigError`, see `pixel_budget_problem`).
    """
    target = CRS.from_user_input(crs)
    if target.is_geographic:
        msg = (
            f"grid.crs {target.to_string()} is geographic; the analysis grid needs a "
            f"projected metric CRS (e.g. EPSG:4507)"
        )
        raise ConfigError([msg])
    if resolution <= 0:
        raise ConfigError([f"grid.resolution must be > 0, got {resolution}"])
    if region_gdf.crs is None:
        raise InputError(f"{name}: layer has no CRS; cannot place it on the analysis grid")
    geoms = region_gdf.geometry
    geoms = geoms[~(geoms.is_empty | geoms.isna())]
    if geoms.empty:
        raise InputError(f"{name}: layer has no geometries; cannot build the analysis grid")
    minx, miny, maxx, maxy = geoms.to_crs(target).total_bounds
    r = float(resolution)
    left = (math.floor(minx / r) - pad_cells) * r
    bottom = (math.floor(miny / r) - pad_cells) * r
    right = (math.ceil(maxx / r) + pad_cells) * r
    top = (math.ceil(maxy / r) + pad_cells) * r
    width = round((right - left) / r)
    height = round((top - bottom) / r)
    grid = Grid(crs=target, transform=from_origin(left, top, r, r), width=width, height=height)
    problem = pixel_budget_problem(grid, max_pixels)
    if problem:
        raise ConfigError([problem])
    return grid


def row_windows(width: int, height: int, rows: int) -> Iterator[Window]:
    """Full-width windows of `rows` rows (the last one shorter), top to bottom."""
    rows = max(1, int(rows))
    for r0 in range(0, height, rows):
        yield Window(0, r0, width, min(rows, height - r0))


def block_windows(width: int, height: int, rows: int, cols: int | None = None) -> Iterator[Window]:
    """`rows` x `cols` (default square) windows in row-major order (the last row and column
    of blocks shorter): memory per block does not depend on the raster's width."""
    rows = max(1, int(rows))
    cols = rows if cols is None else max(1, int(cols))
    for r0 in range(0, height, rows):
        for c0 in range(0, width, cols):
            yield Window(c0, r0, min(cols, width - c0), min(rows, height - r0))

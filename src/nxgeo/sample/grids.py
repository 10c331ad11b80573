"""Output grids, world-coordinate helpers and row strips."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pyproj import Transformer

from ..grid import Grid  # the one grid class (nxgeo.grid); the sample builds square-cell ones
from .noise import Lattice

GEO_CRS = "EPSG:4490"  # CGCS2000 geographic
TM_CRS = "EPSG:4507"  # CGCS2000 / Gauss-Kruger CM 105E (6-degree zone 18, no prefix)
TM_ZONE18_CRS = "EPSG:4496"  # CGCS2000 / Gauss-Kruger zone 18 (false easting 18 500 000)
TM3_CM105_CRS = "EPSG:4544"  # CGCS2000 / 3-degree Gauss-Kruger CM 105E
TM3_ZONE35_CRS = "EPSG:4523"  # CGCS2000 / 3-degree Gauss-Kruger zone 35 (false easting 35 500 000)
ZONE18_FALSE_EASTING_PREFIX = 18_000_000.0

METRES_PER_DEGREE = 111_320.0  # resolution in metres -> cell size in degrees


def snapped_grid(crs: str, bounds, res: float) -> Grid:
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / res) * res
    y0 = math.ceil(maxy / res) * res
    width = math.ceil((maxx - x0) / res)
    height = math.ceil((y0 - miny) / res)
    return Grid.from_corner(crs, x0, y0, res, width, height)


def degrees_for(resolution: float) -> float:
    """Cell size in degrees for a resolution in metres (30 m -> 0.000269 deg, about 1 arc-second)."""
    return round(resolution / METRES_PER_DEGREE, 10)


class LonLatNodes:
    """Longitude/latitude of every pixel of a projected grid, from sparse exact nodes.

    pyproj transforms nodes every ``step`` pixels (global pixel indices, so the result is
    independent of the blocks); pixels in between are interpolated bilinearly (error far
    below a millimetre for nodes ~2 km apart).
    """

    def __init__(self, grid: Grid, node_spacing_m: float = 2000.0):
        self.grid = grid
        self.step = max(1, round(node_spacing_m / grid.res))
        self.tr = Transformer.from_crs(grid.crs, GEO_CRS, always_xy=True)
        ncols = (grid.width - 1) // self.step + 2
        self.node_cols = np.arange(ncols) * self.step

    def block(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        g, s = self.grid, self.step
        n0 = r0 // s
        n1 = (r1 - 1) // s + 1
        node_rows = np.arange(n0, n1 + 1) * s
        X = g.x0 + (self.node_cols[None, :] + 0.5) * g.res
        Y = g.y0 - (node_rows[:, None] + 0.5) * g.res
        X, Y = np.broadcast_arrays(X, Y)
        lon, lat = self.tr.transform(X, Y)
        cols = np.arange(g.width, dtype=np.float64)
        rows = np.arange(r0, r1, dtype=np.float64)
        out = []
        for vals in (lon, lat):
            lat_ = Lattice(
                np.asarray(vals, dtype=np.float64),
                u0=0.0,
                du=float(s),
                v0=float(node_rows[0]),
                dv=float(s),
                order=1,
            )
            out.append(lat_.grid(cols, rows, dtype=np.float64))
        return out[0], out[1]


@dataclass(frozen=True)
class HelperGrid:
    """A coarse regular grid of precomputed environment fields (read bilinearly)."""

    u0: float  # world coordinate of node column 0
    v0: float  # world coordinate of node row 0 (rows increase with v)
    du: float
    dv: float
    nu: int
    nv: int

    @cached_property
    def u(self) -> np.ndarray:
        return self.u0 + np.arange(self.nu) * self.du

    @cached_property
    def v(self) -> np.ndarray:
        return self.v0 + np.arange(self.nv) * self.dv

    def lattice(self, values: np.ndarray) -> Lattice:
        return Lattice(values, self.u0, self.du, self.v0, self.dv, order=1)


def helper_grid(bounds, du: float, dv: float) -> HelperGrid:
    umin, vmin, umax, vmax = bounds
    i0 = math.floor(umin / du) - 2
    j0 = math.floor(vmin / dv) - 2
    i1 = math.ceil(umax / du) + 2
    j1 = math.ceil(vmax / dv) + 2
    return HelperGrid(i0 * du, j0 * dv, du, dv, i1 - i0 + 1, j1 - j0 + 1)

"""Synthetic DEM: the real 0.2-degree relief, smoothly upsampled (cubic spline), with mountain
crests, carved river valleys and multi-scale fractal detail.

    elevation = spline(relief)                          large-scale shape (real)
              -> blended into the Yellow River plain and the Qingshui valley (river levels)
              + crest bumps (Helan, Liupan, Nanhua, ...)  the coarse relief smears the peaks
              + fractal value noise x roughness           (flat plain, rugged hills)
              + ridged noise on the mountains, dunes in the sand areas
              -> river channels at their water level

Everything is a function of longitude/latitude only, evaluated either on a lon/lat grid block
(separable, fast) or at scattered points (same kernels), so blocks and points agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage

from ..grid import Grid
from .fields import Environment, smoothstep
from .grids import LonLatNodes
from .noise import Lattice, Octaves, fractal
from .reference import Reference

# metres per degree at 37 N (lattice units for isotropic noise in a lon/lat grid)
M_PER_DEG_LON = 88_900.0
M_PER_DEG_LAT = 110_950.0

GENERAL_OCTAVES = {
    32000: 70.0,
    16000: 60.0,
    8000: 50.0,
    4000: 38.0,
    2000: 26.0,
    1000: 16.0,
    500: 9.0,
    250: 5.0,
    125: 2.5,
    62.5: 1.2,
}
MOUNTAIN_OCTAVES = {
    8000: 170.0,
    4000: 130.0,
    2000: 85.0,
    1000: 50.0,
    500: 28.0,
    250: 14.0,
    125: 7.0,
    62.5: 3.5,
}
DUNE_OCTAVES = {800: 9.0, 400: 7.0, 200: 4.0, 100: 2.0}
GULLY_OCTAVES = {4000: 45.0, 2000: 35.0, 1000: 22.0, 500: 12.0, 250: 6.0, 125: 3.0}
PLAIN_SLOPE = 2.5e-3  # m per m: the Yinchuan plain rises ~2.5 m/km away from the river
QINGSHUI_SLOPE = 6e-3


class GridSampler:
    """Read lattices on the outer product of 1-D column (u) and row (v) positions."""

    def __init__(self, u: np.ndarray, v: np.ndarray):
        self.u, self.v = np.asarray(u, np.float64), np.asarray(v, np.float64)
        self.U, self.V = self.u[None, :], self.v[:, None]

    def __call__(self, obj) -> np.ndarray:
        return obj.grid(self.u, self.v)


class PointSampler:
    """Read lattices at scattered positions."""

    def __init__(self, u: np.ndarray, v: np.ndarray):
        self.u, self.v = np.asarray(u, np.float64), np.asarray(v, np.float64)
        self.U, self.V = self.u, self.v

    def __call__(self, obj) -> np.ndarray:
        return obj.points(self.u, self.v)


def _flatten_helan(relief: np.ndarray, transform) -> np.ndarray:
    """The 20 km cells over the Helan Mountains mix crest and plain; replace them by the
    foot level so the crest can be added back as a sharp ridge."""
    out = relief.copy()
    rows, cols = np.indices(relief.shape)
    lon = transform.c + (cols + 0.5) * transform.a
    lat = transform.f + (rows + 0.5) * transform.e
    box = (lon > 105.6) & (lon < 106.8) & (lat > 38.3) & (lat < 39.5)
    foot = np.where(lon < 105.95, 1350.0, np.where(lon < 106.15, 1230.0, 1120.0))
    high = box & (relief > foot)
    out[high] = foot[high]
    return out


class TerrainModel:
    def __init__(self, ref: Reference, seed: int, resolution: float):
        relief = _flatten_helan(ref.relief.astype(np.float64), ref.relief_transform)
        coeffs = ndimage.spline_filter(relief, order=3, mode="mirror")
        t = ref.relief_transform
        self.relief = Lattice(coeffs, u0=t.c + t.a / 2, du=t.a, v0=t.f + t.e / 2, dv=t.e, order=3)
        self.seed = seed
        self.resolution = float(resolution)
        self.env: Environment | None = None
        self._noise: dict[str, Octaves] = {}

    def base_elevation(self, lon, lat) -> np.ndarray:
        return self.relief.points(np.asarray(lon, float), np.asarray(lat, float))

    def attach(self, env: Environment) -> None:
        self.env = env
        bounds = env.geo_bounds
        min_wl = 2.5 * self.resolution
        kw: dict[str, Any] = {  # shared by the four fractals
            "bounds": bounds,
            "min_wavelength": min_wl,
            "unit_u": 1 / M_PER_DEG_LON,
            "unit_v": 1 / M_PER_DEG_LAT,
            "normalise": False,
            "keep_longest": False,
        }
        self._noise = {
            "general": fractal(
                self.seed,
                "dem/general",
                wavelengths=list(GENERAL_OCTAVES),
                amplitudes=list(GENERAL_OCTAVES.values()),
                **kw,
            ),
            "mountain": fractal(
                self.seed,
                "dem/mountain",
                wavelengths=list(MOUNTAIN_OCTAVES),
                amplitudes=list(MOUNTAIN_OCTAVES.values()),
                **kw,
            ),
            "dunes": fractal(
                self.seed,
                "dem/dunes",
                wavelengths=list(DUNE_OCTAVES),
                amplitudes=list(DUNE_OCTAVES.values()),
                **kw,
            ),
            "gullies": fractal(
                self.seed,
                "dem/gullies",
                wavelengths=list(GULLY_OCTAVES),
                amplitudes=list(GULLY_OCTAVES.values()),
                **kw,
            ),
        }

    @staticmethod
    def _ridged(S, octaves: Octaves):
        out = None
        for lat_, amp in zip(octaves.lattices, octaves.amplitudes):
            n = S(lat_)
            term = np.float32(amp) * (np.float32(0.8) - np.abs(n))
            out = term if out is None else out + term
        return out

    def elevation(self, S) -> np.ndarray:
        """Elevation (m) for a sampler S over lon (u) / lat (v)."""
        assert self.env is not None, "attach(env) comes before any elevation is read"
        f = self.env.geo_fields
        base = S(self.relief).astype(np.float32)
        dY, rlY, wY = S(f["dY"]), S(f["rlY"]), S(f["wY"])
        dQ, rlQ = S(f["dQ"]), S(f["rlQ"])
        ridge = S(f["ridge"])
        lat = np.asarray(S.V, dtype=np.float32)
        plain = rlY + PLAIN_SLOPE * dY
        gY = np.exp(-((dY / wY) ** 2))
        e = base + gY * (plain - base)
        gQ = 0.85 * np.exp(-((dQ / 6000.0) ** 2))
        e = e + gQ * (rlQ + QINGSHUI_SLOPE * dQ - e)
        e = e + ridge
        rough = np.clip(1.0 - 0.97 * gY - 0.8 * gQ, 0.02, 1.0)
        rough = rough * (0.5 + 0.5 * smoothstep(37.4 - lat, 0.0, 1.0))
        gen = self._noise["general"]
        if gen.lattices:
            e = e + rough * S(gen)
        mount = np.maximum(
            smoothstep(ridge, 150.0, 1000.0), 0.45 * smoothstep(base, 1950.0, 2400.0)
        )
        if self._noise["mountain"].lattices:
            e = e + mount * self._ridged(S, self._noise["mountain"])
        if self._noise["gullies"].lattices:
            # Loess Plateau: a network of V-shaped gullies (inverted ridged noise)
            loess = rough * smoothstep(37.4 - lat, 0.0, 0.6) * (1.0 - mount)
            e = e - loess * self._ridged(S, self._noise["gullies"])
        if self._noise["dunes"].lattices:
            sand = S(f["sand"])
            e = e + sand * (1.0 - gY) * self._ridged(S, self._noise["dunes"])
        # river channels at their water level
        gC = np.exp(-((dY / 1500.0) ** 2))
        e = e + gC * (rlY + PLAIN_SLOPE * dY - e)
        gq = np.exp(-((dQ / 700.0) ** 2))
        e = e + gq * (rlQ + QINGSHUI_SLOPE * dQ - e)
        return e

    def elevation_points(self, lon, lat) -> np.ndarray:
        return np.asarray(self.elevation(PointSampler(lon, lat)), dtype=np.float64)


def dem_grid_bounds(lu_grid: Grid, margin_deg: float = 0.02) -> tuple[float, float, float, float]:
    """Lon/lat bounds covering the footprint of the projected analysis grid (plus a margin)."""
    nodes = LonLatNodes(lu_grid, node_spacing_m=max(lu_grid.res, 5000.0))
    tr = nodes.tr
    w, h = lu_grid.width * lu_grid.res, lu_grid.height * lu_grid.res
    t = np.linspace(0.0, 1.0, 201)
    xs = np.concatenate(
        [
            lu_grid.x0 + t * w,
            lu_grid.x0 + t * w,
            np.full_like(t, lu_grid.x0),
            np.full_like(t, lu_grid.x0 + w),
        ]
    )
    ys = np.concatenate(
        [
            np.full_like(t, lu_grid.y0),
            np.full_like(t, lu_grid.y0 - h),
            lu_grid.y0 - t * h,
            lu_grid.y0 - t * h,
        ]
    )
    lon, lat = tr.transform(xs, ys)
    return (
        float(np.min(lon)) - margin_deg,
        float(np.min(lat)) - margin_deg,
        float(np.max(lon)) + margin_deg,
        float(np.max(lat)) + margin_deg,
    )


def write_dem(writer, grid: Grid, model: TerrainModel, tick: Callable[[], None] | None = None):
    lons = grid.xs()
    for r0, r1 in grid.strips():
        e = model.elevation(GridSampler(lons, grid.ys(r0, r1)))
        writer.write(r0, np.asarray(e, dtype=np.float32))
        if tick:
            tick()


class DemReader:
    """Bilinear elevation at any lon/lat from the written DEM (reads only the needed window)."""

    def __init__(self, dataset, grid: Grid):
        self.ds = dataset
        self.grid = grid

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        from rasterio.windows import Window

        g = self.grid
        fc = (lon - g.x0) / g.res - 0.5
        fr = (g.y0 - lat) / g.res - 0.5
        c0 = max(int(np.floor(fc.min())) - 1, 0)
        c1 = min(int(np.ceil(fc.max())) + 2, g.width)
        r0 = max(int(np.floor(fr.min())) - 1, 0)
        r1 = min(int(np.ceil(fr.max())) + 2, g.height)
        win = self.ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(np.float32)
        out = ndimage.map_coordinates(
            win, [fr - r0, fc - c0], order=1, mode="nearest", output=np.float32
        )
        return out

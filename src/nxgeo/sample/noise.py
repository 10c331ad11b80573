"""Deterministic value noise on random lattices fixed in world coordinates.

A :class:`Lattice` holds values at regular world positions (``u0 + i*du``, ``v0 + j*dv``) and
is read with a cubic B-spline (order 3, C2-smooth) or bilinear (order 1) kernel. Because the
lattice is fixed in world coordinates and every output pixel only depends on its own world
position, the result does not depend on how the output is cut into blocks, and a coarse
octave looks the same at 30 m and at 2000 m.

Two readers:
- :meth:`Lattice.grid` for an output grid whose axes are parallel to the lattice axes
  (separable: four row gathers, then four column gathers; no Python loop over pixels);
- :meth:`Lattice.points` for scattered points (``scipy.ndimage.map_coordinates`` with the
  same kernel).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# std of a unit-variance white lattice read with the cubic B-spline kernel in 2-D:
# (integral of B3(x)^2 dx)^2 = (151/315)^2 -> std = 151/315
_BSPLINE3_STD_2D = 151.0 / 315.0


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """A generator keyed by the seed and any names (stable: crc32, not Python's salted hash)."""
    key = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(n).encode("utf-8")) for n in names]
    return np.random.default_rng(np.random.SeedSequence(key))


def _weights(f: np.ndarray, order: int, dtype) -> tuple[np.ndarray, list[np.ndarray]]:
    fl = np.floor(f)
    t = f - fl
    i = fl.astype(np.int64)
    if order == 1:
        return i, [(1.0 - t).astype(dtype), t.astype(dtype)]
    if order != 3:
        raise ValueError("order must be 1 or 3")
    t2 = t * t
    t3 = t2 * t
    w = [
        (1.0 - t) ** 3 / 6.0,
        (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0,
        (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0,
        t3 / 6.0,
    ]
    return i - 1, [x.astype(dtype) for x in w]


@dataclass(frozen=True)
class Lattice:
    """Values at world positions u = u0 + col*du (columns), v = v0 + row*dv (rows)."""

    values: np.ndarray
    u0: float
    du: float
    v0: float
    dv: float
    order: int = 3

    def _index(self, u, v):
        fu = (np.asarray(u, dtype=np.float64) - self.u0) / self.du
        fv = (np.asarray(v, dtype=np.float64) - self.v0) / self.dv
        return fu, fv

    def grid(self, u: np.ndarray, v: np.ndarray, dtype=np.float32) -> np.ndarray:
        """Read at the outer product of column positions ``u`` (1-D) and row positions ``v``.

        Returns an array of shape (len(v), len(u)).
        """
        fu, fv = self._index(u, v)
        iu, wu = _weights(fu, self.order, dtype)
        iv, wv = _weights(fv, self.order, dtype)
        taps = len(wu)
        nv, nu = self.values.shape
        c0, c1 = int(iu.min()), int(iu.max()) + taps
        r0, r1 = int(iv.min()), int(iv.max()) + taps
        if c0 < 0 or r0 < 0 or c1 > nu or r1 > nv:
            raise ValueError("lattice does not cover the requested positions")
        sub = np.asarray(self.values[r0:r1, c0:c1], dtype=dtype)
        rows = iv - r0
        acc = sub[rows] * wv[0][:, None]
        for b in range(1, taps):
            acc += sub[rows + b] * wv[b][:, None]
        cols = iu - c0
        out = np.take(acc, cols, axis=1)
        out *= wu[0][None, :]
        for a in range(1, taps):
            tmp = np.take(acc, cols + a, axis=1)
            tmp *= wu[a][None, :]
            out += tmp
        return out

    def points(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Read at scattered positions (any shape); float64."""
        fu, fv = self._index(u, v)
        shape = np.shape(fu)
        coords = np.vstack([np.ravel(fv), np.ravel(fu)])
        out = ndimage.map_coordinates(
            np.asarray(self.values, dtype=np.float64),
            coords,
            order=self.order,
            prefilter=False,
            mode="nearest",
        )
        return out.reshape(shape)


def random_lattice(
    seed: int, name: str, bounds: Sequence[float], du: float, dv: float, margin: int = 4
) -> Lattice:
    """Unit-variance cubic value noise: white lattice over ``bounds`` (u_min, v_min, u_max, v_max).

    The lattice origin is snapped to a multiple of the spacing, so the same name, seed and
    bounds always give the same values, whatever the output grid.
    """
    umin, vmin, umax, vmax = bounds
    i0 = int(np.floor(umin / du)) - margin
    j0 = int(np.floor(vmin / dv)) - margin
    nu = int(np.ceil(umax / du)) + margin - i0 + 1
    nv = int(np.ceil(vmax / dv)) + margin - j0 + 1
    rng = rng_for(seed, "lattice", name, round(du, 9), round(dv, 9))
    values = rng.standard_normal((nv, nu), dtype=np.float32)
    values *= np.float32(1.0 / _BSPLINE3_STD_2D)
    return Lattice(values=values, u0=i0 * du, du=du, v0=j0 * dv, dv=dv, order=3)


@dataclass(frozen=True)
class Octaves:
    """A sum of lattices with amplitudes (fractal noise); normalised to unit variance if asked."""

    lattices: tuple[Lattice, ...]
    amplitudes: tuple[float, ...]

    def grid(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.zeros((len(v), len(u)), dtype=np.float32)
        for lat, amp in zip(self.lattices, self.amplitudes):
            out += np.float32(amp) * lat.grid(u, v)
        return out

    def points(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.zeros(np.shape(u), dtype=np.float64)
        for lat, amp in zip(self.lattices, self.amplitudes):
            out += amp * lat.points(u, v)
        return out


def fractal(
    seed: int,
    name: str,
    bounds: Sequence[float],
    wavelengths: Sequence[float],
    amplitudes: Sequence[float] | None = None,
    hurst: float = 0.8,
    min_wavelength: float = 0.0,
    unit_u: float = 1.0,
    unit_v: float = 1.0,
    normalise: bool = True,
    renormalise_kept: bool = False,
    keep_longest: bool = True,
) -> Octaves:
    """Fractal value noise: one lattice per wavelength (world units, e.g. metres).

    ``unit_u``/``unit_v`` convert metres to lattice units (e.g. degrees per metre for a
    geographic lattice). Octaves shorter than ``min_wavelength`` are dropped (they would be
    finer than the output pixels). Amplitudes default to wavelength**hurst; with
    ``normalise`` the sum has unit variance (over the kept octaves' reference set, so that
    dropping fine octaves does not rescale the coarse ones); with ``renormalise_kept`` the
    kept octaves alone have unit variance (class fractions from thresholds then do not depend
    on the output resolution). With ``keep_longest`` the longest octave is always kept.
    """
    wavelengths = [float(w) for w in wavelengths]
    if amplitudes is None:
        amplitudes = [w**hurst for w in wavelengths]
    amplitudes = [float(a) for a in amplitudes]
    if normalise:
        norm = float(np.sqrt(np.sum(np.square(amplitudes))))
        amplitudes = [a / norm for a in amplitudes]
    keep = [i for i, w in enumerate(wavelengths) if w >= min_wavelength]
    if not keep and keep_longest:
        keep = [int(np.argmax(wavelengths))]
    if renormalise_kept and keep:
        norm = float(np.sqrt(np.sum(np.square([amplitudes[i] for i in keep]))))
        amplitudes = [a / norm for a in amplitudes]
    lats, amps = [], []
    for i in keep:
        w = wavelengths[i]
        lats.append(random_lattice(seed, f"{name}/{w:g}", bounds, w * unit_u, w * unit_v))
        amps.append(amplitudes[i])
    return Octaves(tuple(lats), tuple(amps))

"""Slope and aspect (Horn 3×3), whole-array and block-wise on files.

Pure numpy/scipy (plus rasterio for the file helpers); no Python loop runs over pixels.

Slope and aspect reproduce ``gdaldem slope`` / ``gdaldem aspect`` (Horn's 3×3 method, z-factor 1,
scale 1, no ``-compute_edges``) operation for operation:

* the window is summed in float32 in gdaldem's exact order, then widened to float64, as
  ``GDALSlopeHornAlg`` / ``GDALAspectAlg`` do (summing in float64 instead shifts aspect on
  near-flat cells of non-integer DEMs); on a 10,000 × 10,000 float32 DEM the slope output is
  bit-identical to GDAL 3.6's;
* slope = atan(sqrt(dx² + dy²) / 8) in degrees with dx, dy divided by the x and y pixel size;
* aspect is an azimuth (0 = north, clockwise), ignores the pixel size like gdaldem does, and is
  −9999 on flat cells (dx = dy = 0);
* the output is float32 with nodata −9999 on the 1-pixel border and on every pixel whose 3×3
  window touches a nodata (or NaN) input pixel.

Deliberate difference: gdaldem lets NaN through when the source has no nodata value (output NaN);
here NaN always counts as nodata, so such pixels and their neighbours become −9999.

The block-wise file versions (`slope_file`, `aspect_file`) read the DEM in row strips with a 1-row
halo and give bit-for-bit the same values as the whole-array functions. numexpr is used when it is
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from ..atomic import atomic_path
from ..raster_io import GTIFF_OPTIONS
from .common import _NODATA32, NODATA, _check_res, _nodata32

try:  # optional accelerator
    import numexpr as _ne
except ImportError:  # pragma: no cover - exercised only where numexpr is absent
    _ne = None

_RAD2DEG = 180.0 / math.pi  # gdaldem: kdfRadiansToDegrees
_DEG2RAD = math.pi / 180.0  # gdaldem: kdfDegreesToRadians


# --------------------------------------------------------------------------------------------
# Horn 3×3 kernel on a row strip
# --------------------------------------------------------------------------------------------


def _as_f32_c(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _window_views(zf: np.ndarray, width: int, n: int) -> dict[str, np.ndarray]:
    """The 8 neighbours of every centre pixel as contiguous 1-D views of the flattened strip.

    The strip has k+2 rows (one halo row above and below) and `n = k*width` centre pixels. With
    flat indexing the neighbours of centre p are p±1, p±width, p±width±1, so each neighbour set is
    one contiguous slice. Centre range: flat [width+1, width+n-1) — the two wrap-around columns
    (0 and width-1) come out as garbage and are overwritten with nodata by the caller.
    """
    s, e, w = width + 1, width + n - 1, width
    return {
        "a": zf[s - w - 1 : e - w - 1],
        "b": zf[s - w : e - w],
        "c": zf[s - w + 1 : e - w + 1],
        "d": zf[s - 1 : e - 1],
        "f": zf[s + 1 : e + 1],
        "g": zf[s + w - 1 : e + w - 1],
        "h": zf[s + w : e + w],
        "i": zf[s + w + 1 : e + w + 1],
    }


def _bad_window(zf: np.ndarray, width: int, n: int, nd: np.float32 | None) -> np.ndarray | None:
    """True where any of the 9 window pixels is NaN/inf or equals the nodata value (or None)."""
    bad = ~np.isfinite(zf)
    if nd is not None:
        bad |= zf == nd
    if not bad.any():
        return None
    # separable 3×3 OR on the flattened strip: horizontal then vertical
    hor = bad[:-2] | bad[1:-1]
    hor |= bad[2:]  # hor[q] covers flat q, q+1, q+2  -> centre q+1
    s, e, w = width + 1, width + n - 1, width
    # centre p: rows p-w, p, p+w of the horizontal OR centred there (hor index = centre-1)
    out = hor[s - w - 1 : e - w - 1] | hor[s - 1 : e - 1]
    out |= hor[s + w - 1 : e + w - 1]
    return out


# Slope: dx, dy summed in float32 (gdaldem order), then float64 from the division on.
_SLOPE_EXPR = (
    "arctan(sqrt((((a+d+d+g)-(c+f+f+i))/ewres)**2 + (((g+h+h+i)-(a+b+b+c))/nsres)**2)/8.0)*r2d"
)


def _slope_flat(v: dict[str, np.ndarray], ewres: float, nsres: float, out: np.ndarray) -> None:
    """GDALSlopeHornAlg (degrees) on the flat centre range, written into float32 `out`."""
    if _ne is not None:
        local: dict[str, np.ndarray | np.float64] = dict(v)
        local.update(ewres=np.float64(ewres), nsres=np.float64(nsres), r2d=np.float64(_RAD2DEG))
        _ne.evaluate(_SLOPE_EXPR, local_dict=local, out=out, casting="unsafe")
        return
    a, b, c, d, f, g, h, i = (v[k] for k in "abcdfghi")
    sx = a + d
    sx += d
    sx += g
    t = c + f
    t += f
    t += i
    sx -= t
    sy = g + h
    sy += h
    sy += i
    t = a + b
    t += b
    t += c
    sy -= t
    del t
    dx = sx.astype(np.float64)
    del sx
    dx /= ewres
    dx *= dx
    dy = sy.astype(np.float64)
    del sy
    dy /= nsres
    dy *= dy
    dx += dy
    del dy
    np.sqrt(dx, out=dx)
    dx /= 8.0
    np.arctan(dx, out=dx)
    dx *= _RAD2DEG
    out[...] = dx


def _aspect_flat(v: dict[str, np.ndarray], out: np.ndarray) -> None:
    """GDALAspectAlg (azimuth form) on the flat centre range, written into float32 `out`."""
    a, b, c, d, f, g, h, i = (v[k] for k in "abcdfghi")
    dx = c + f
    dx += f
    dx += i
    t = a + d
    t += d
    t += g
    dx -= t
    dy = g + h
    dy += h
    dy += i
    t = a + b
    t += b
    t += c
    dy -= t
    del t
    flat = (dx == 0) & (dy == 0)
    if _ne is not None:
        _ne.evaluate(
            "arctan2(dy*one, -(dx*one))/d2r",
            local_dict={"dx": dx, "dy": dy, "one": np.float64(1.0), "d2r": np.float64(_DEG2RAD)},
            out=out,
            casting="unsafe",
        )
    else:
        t64 = np.arctan2(dy.astype(np.float64), -dx.astype(np.float64))
        t64 /= _DEG2RAD
        out[...] = t64
        del t64
    del dx, dy
    # float32 azimuth, exactly as gdaldem: aspect > 90 ? 450 - aspect : 90 - aspect
    base = np.where(out > np.float32(90.0), np.float32(450.0), np.float32(90.0))
    np.subtract(base.astype(np.float32, copy=False), out, out=out)
    del base
    out[flat] = _NODATA32
    out[out == np.float32(360.0)] = np.float32(0.0)


def _horn_strip(
    zwin: np.ndarray, kind: str, ewres: float, nsres: float, nd: np.float32 | None
) -> np.ndarray:
    """Kernel output for the k = zwin.shape[0] - 2 centre rows of `zwin`, all columns.

    Columns 0 and width-1 (the raster's left/right border) are nodata.
    """
    zwin = _as_f32_c(zwin)
    k2, width = zwin.shape
    k = k2 - 2
    res = np.full((max(k, 0), width), _NODATA32, dtype=np.float32)
    if k <= 0 or width < 3:
        return res
    n = k * width
    zf = zwin.ravel()
    v = _window_views(zf, width, n)
    rf = res.ravel()[1 : n - 1]
    if kind == "slope":
        _slope_flat(v, ewres, nsres, rf)
    else:
        _aspect_flat(v, rf)
    bad = _bad_window(zf, width, n, nd)
    if bad is not None:
        rf[bad] = _NODATA32
    res[:, 0] = _NODATA32
    res[:, -1] = _NODATA32
    return res


def _horn_array(dem: np.ndarray, kind: str, xres: float, yres: float, nodata) -> np.ndarray:
    dem = np.asarray(dem)
    if dem.ndim != 2:
        raise ValueError(f"DEM must be 2-D, got shape {dem.shape}")
    xr, yr = _check_res(xres, yres)
    rows, _ = dem.shape
    out = np.full(dem.shape, _NODATA32, dtype=np.float32)
    if rows >= 3:
        out[1:-1] = _horn_strip(dem, kind, xr, yr, _nodata32(nodata))
    return out


def slope_degrees(dem: np.ndarray, xres: float, yres: float, nodata=None) -> np.ndarray:
    """Slope in degrees, as ``gdaldem slope`` (Horn, z-factor 1, scale 1, no -compute_edges).

    `xres`, `yres`: pixel size in metres (sign ignored). Returns float32 with −9999 on the border
    and wherever the 3×3 window contains nodata/NaN.
    """
    return _horn_array(dem, "slope", xres, yres, nodata)


def aspect_degrees(dem: np.ndarray, xres: float, yres: float, nodata=None) -> np.ndarray:
    """Aspect azimuth in degrees (0 = north, clockwise), as ``gdaldem aspect``.

    Like gdaldem, the pixel size does not enter the formula (`xres`/`yres` are only validated);
    flat cells (zero gradient) are −9999, as are the border and nodata-touching pixels.
    """
    return _horn_array(dem, "aspect", xres, yres, nodata)


# --------------------------------------------------------------------------------------------
# Block-wise file versions
# --------------------------------------------------------------------------------------------


def _horn_file(
    kind: str,
    dem_path,
    out_path,
    block_rows: int,
    band: int,
    nodata,
    num_threads: str | None,
    cache_mb: int | None,
) -> Path:
    block_rows = int(block_rows)
    if block_rows < 1:
        raise ValueError(f"block_rows must be >= 1, got {block_rows}")
    env = {} if cache_mb is None else {"GDAL_CACHEMAX": int(cache_mb) * 2**20}  # bytes
    with rasterio.Env(**env), rasterio.open(dem_path) as src:
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise ValueError(f"{dem_path}: rotated/sheared geotransform is not supported")
        xr, yr = _check_res(t.a, t.e)
        nd = _nodata32(src.nodata if nodata is None else nodata)
        height, width = src.height, src.width
        profile = dict(GTIFF_OPTIONS)
        profile.update(
            height=height,
            width=width,
            count=1,
            dtype="float32",
            crs=src.crs,
            transform=t,
            nodata=NODATA,
            predictor=3,
        )
        if height < 256 or width < 256:
            profile.update(tiled=False)
            profile.pop("blockxsize"), profile.pop("blockysize")
        if num_threads:
            profile["num_threads"] = num_threads
        with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.set_band_description(1, f"{kind} (degrees, Horn, gdaldem-compatible)")
            for r0 in range(0, height, block_rows):
                r1 = min(r0 + block_rows, height)
                q0, q1 = max(r0, 1), min(r1, height - 1)  # rows that have both neighbours
                if q1 > q0:
                    z = src.read(
                        band, window=Window(0, q0 - 1, width, q1 - q0 + 2), out_dtype="float32"
                    )
                    res = _horn_strip(z, kind, xr, yr, nd)
                    del z
                    if (q0, q1) != (r0, r1):  # first/last strip: add the border row(s)
                        strip = np.full((r1 - r0, width), _NODATA32, dtype=np.float32)
                        strip[q0 - r0 : q1 - r0] = res
                        res = strip
                else:
                    res = np.full((r1 - r0, width), _NODATA32, dtype=np.float32)
                dst.write(res, 1, window=Window(0, r0, width, r1 - r0))
                del res
    return Path(out_path)


def slope_file(
    dem_path,
    out_path,
    block_rows: int = 1024,
    *,
    band: int = 1,
    nodata=None,
    num_threads: str | None = "ALL_CPUS",
    cache_mb: int | None = 64,
) -> Path:
    """Slope in degrees of a DEM file (see `slope_degrees`), computed block-wise.

    Reads the DEM in strips of `block_rows` rows plus a 1-row halo and writes a tiled,
    deflate-compressed float32 GeoTIFF (nodata −9999, same CRS/transform) atomically; the values
    equal the whole-array function bit for bit. Memory ≈ 4 × block_rows × width × 4 bytes plus
    GDAL's block cache, which is capped at `cache_mb` MB while the function runs (None: leave
    GDAL's setting). A block_rows that is a multiple of 256 (the output tile height) is fastest.
    `nodata` overrides the file's nodata value; `num_threads` is the GTiff NUM_THREADS creation
    option (parallel deflate; the bytes written do not depend on it).
    """
    return _horn_file("slope", dem_path, out_path, block_rows, band, nodata, num_threads, cache_mb)


def aspect_file(
    dem_path,
    out_path,
    block_rows: int = 1024,
    *,
    band: int = 1,
    nodata=None,
    num_threads: str | None = "ALL_CPUS",
    cache_mb: int | None = 64,
) -> Path:
    """Aspect azimuth in degrees of a DEM file (see `aspect_degrees`); as `slope_file`."""
    return _horn_file("aspect", dem_path, out_path, block_rows, band, nodata, num_threads, cache_mb)

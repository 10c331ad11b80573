"""Writing GeoTIFFs: tiled, compressed, nodata and CRS set, atomically, byte-reproducible."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Self

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine

from .atomic import atomic_path
from .nodata import FLOAT_NODATA

if TYPE_CHECKING:
    from rasterio.windows import Window

    from .grid import Grid

# DEFLATE level of every GeoTIFF and COG the pipeline writes (lossless at any level).
# Measured 2026-12-04 on a 30 m reach (27 M cells, GDAL 3.10 of the rasterio wheel), COG with
# overviews: a float32 service raster 1.57 CPU-s / 8.2 MB at level 6, 0.98 s / 9.2 MB at
# level 1; a uint8 land-use raster 0.44 s / 1.5 MB and 0.24 s / 1.8 MB. Writing COGs was two
# thirds of services_reach's CPU at 30 m (qingshui: 26.2 CPU-s at level 6, 20.1 at level 1):
# level 1 trades ~12-20 % larger files for ~40 % less of that time. docs/scaling.md.
DEFLATE_LEVEL = 1

GTIFF_OPTIONS = {
    "driver": "GTiff",
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "deflate",
    "zlevel": DEFLATE_LEVEL,
    "BIGTIFF": "IF_SAFER",
}


def default_nodata(dtype) -> float | int:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return FLOAT_NODATA
    if dtype == np.uint8:
        return 255
    if dtype.kind == "u":
        return int(np.iinfo(dtype).max)
    return int(np.iinfo(dtype).min)


def uncompressed(profile: dict) -> dict:
    """`profile` without compression: for temporary GeoTIFFs that are copied to a COG at once
    (the COG's bytes do not depend on how its source was stored; deflating the source too
    costs about as much as the COG itself)."""
    out = dict(profile)
    for k in ("compress", "zlevel", "predictor", "COMPRESS", "ZLEVEL", "PREDICTOR"):
        out.pop(k, None)
    return out


def plain_profile(
    shape: tuple[int, int],
    dtype,
    crs,
    transform: Affine,
    nodata: float | None = None,
    compress: bool = True,
) -> dict:
    """The profile `write_raster` uses: tiled 256, deflate, predictor (3 for floats, 2 for
    integers), nodata (dtype default when None); untiled strips when smaller than a tile.
    `compress=False`: the same without compression (see `uncompressed`)."""
    dtype = np.dtype(dtype)
    nodata = default_nodata(dtype) if nodata is None else nodata
    profile = dict(GTIFF_OPTIONS)
    profile.update(
        height=int(shape[0]),
        width=int(shape[1]),
        count=1,
        dtype=dtype.name,
        crs=CRS.from_user_input(crs),
        transform=transform,
        nodata=nodata,
        predictor=3 if dtype.kind == "f" else 2,
    )
    if shape[0] < 256 or shape[1] < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize"), profile.pop("blockysize")
    return profile if compress else uncompressed(profile)


#: side (pixels) of the GeoTIFF tiles the block-wise steps write
TILE = 256


def gtiff_profile(grid: Grid, dtype: str, nodata: float | None) -> dict:
    """Tiled (256×256) deflate GeoTIFF profile on `grid` (untiled strips when smaller than a tile)."""
    profile = dict(GTIFF_OPTIONS)
    profile.update(grid.profile(np.dtype(dtype).name, nodata))
    profile["predictor"] = 3 if np.dtype(dtype).kind == "f" else 2
    profile["blockxsize"] = profile["blockysize"] = TILE
    if grid.width < TILE or grid.height < TILE:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    return profile


def strip_rows(profile: dict, block_size: int) -> int:
    """Rows per strip: `block_size` rounded up to whole tile rows, so every tile is written once."""
    if profile.get("tiled"):
        tile = int(profile.get("blockysize", TILE))
        return max(tile, -(-int(block_size) // tile) * tile)
    return max(1, int(block_size))


def work_windows(profile: dict, width: int, height: int, block_size: int) -> list[Window]:
    """Square windows of `strip_rows(profile, block_size)` pixels a side (whole tiles), row
    by row: the block-wise steps' unit of work, so memory does not grow with the raster's
    width (a full-width strip of a 30 m Ningxia grid is ~10,000 pixels wide)."""
    from .grid import block_windows

    side = strip_rows(profile, block_size)
    return list(block_windows(width, height, side, side))


def write_raster(
    path: str | Path,
    array: np.ndarray,
    crs: CRS | str,
    transform: Affine,
    nodata: float | None = None,
    tags: dict | None = None,
    band_description: str | None = None,
    compress: bool = True,
    colormap: dict | None = None,
) -> Path:
    """Write a single-band array as a tiled, deflate-compressed GeoTIFF (atomic).
    `compress=False` for a temporary file (see `uncompressed`); `colormap`: a colour table
    {value: (r, g, b, a)} (uint8 / uint16 rasters)."""
    array = np.asarray(array)
    profile = plain_profile(array.shape, array.dtype, crs, transform, nodata, compress)
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)
        if tags:
            dst.update_tags(**{k: str(v) for k, v in tags.items()})
        if band_description:
            dst.set_band_description(1, band_description)
        if colormap:
            dst.write_colormap(1, colormap)
    return Path(path)


COG_BLOCKSIZE = 512


def cog_options(dtype: str, blocksize: int = COG_BLOCKSIZE) -> dict:
    """Creation options for GDAL's COG driver: tiled, deflate (`DEFLATE_LEVEL`), internal overviews
    (nearest for integer/categorical rasters, average for floats). No timestamp, one thread:
    same bytes."""
    is_float = np.dtype(dtype).kind == "f"
    return {
        "BLOCKSIZE": blocksize,
        "COMPRESS": "DEFLATE",
        "LEVEL": DEFLATE_LEVEL,
        "PREDICTOR": "YES",
        "OVERVIEWS": "AUTO",
        "OVERVIEW_RESAMPLING": "AVERAGE" if is_float else "NEAREST",
        "BIGTIFF": "IF_SAFER",
        "NUM_THREADS": 1,  # deterministic tile order
    }


def to_cog(src_path: str | Path, dst_path: str | Path) -> Path:
    """Copy a GeoTIFF to a Cloud-Optimised GeoTIFF at `dst_path` (atomic)."""
    import rasterio.shutil

    from .stamp import current_stamp_tags

    with rasterio.open(src_path) as src:
        dtype = src.dtypes[0]
        is_cog = src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "").upper() == "COG"
    stamp = current_stamp_tags()
    if stamp and not is_cog:  # the COG copy keeps the source's tags
        with rasterio.open(src_path, "r+") as src:
            src.update_tags(**stamp)
    with atomic_path(dst_path) as tmp:
        rasterio.shutil.copy(src_path, tmp, driver="COG", **cog_options(dtype))
    return Path(dst_path)


@contextlib.contextmanager
def cog_output(final: str | Path) -> Iterator[Path]:
    """A temporary GeoTIFF path (in a folder beside `final`) for a block-wise writer; when the
    block succeeds it is copied to a COG at `final` (atomic), else nothing is left. Open it with
    an `uncompressed` profile: the COG's bytes do not depend on how the source was stored.

        with cog_output(path) as tmp, rasterio.open(tmp, "w", **uncompressed(profile)) as dst:
            ...  # dst is closed before the copy
    """
    from .atomic import temp_dir_beside

    final = Path(final)
    with temp_dir_beside(final) as td:
        tmp = Path(td) / final.name
        yield tmp
        to_cog(tmp, final)


def write_cog(
    path: str | Path,
    array: np.ndarray,
    crs,
    transform: Affine,
    nodata: float | None = None,
    tags: dict | None = None,
    band_description: str | None = None,
    colormap: dict | None = None,
) -> Path:
    """Write an in-memory array as a COG (via a temporary GeoTIFF beside it)."""
    from .atomic import temp_dir_beside

    path = Path(path)
    with temp_dir_beside(path) as td:
        tmp = write_raster(
            Path(td) / "plain.tif",
            array,
            crs,
            transform,
            nodata=nodata,
            tags=tags,
            band_description=band_description,
            compress=False,
            colormap=colormap,
        )
        to_cog(tmp, path)
    return path


class CogWriters:
    """Several single-band outputs written window by window, then copied to COGs.

    Each output is first an uncompressed tiled GeoTIFF in a temporary folder beside the first
    output; `finish()` copies every one to its COG (atomic). The result is the same
    file `write_cog` makes from the whole array. Use as a context manager:

        with CogWriters({"slope": path}, shape, crs, transform, dtypes, nodata) as w:
            w.write("slope", block, window)
        # COGs exist here (only when the block succeeded)
    """

    def __init__(
        self,
        outputs: dict,
        shape,
        crs,
        transform: Affine,
        dtypes: dict | str,
        nodata: dict | float | None = None,
        descriptions: dict | None = None,
        tags: dict | None = None,
        colormaps: dict | None = None,
    ):
        self.outputs = {k: Path(v) for k, v in outputs.items()}
        self.shape, self.crs, self.transform = shape, crs, transform
        self.dtypes = dtypes if isinstance(dtypes, dict) else dict.fromkeys(outputs, dtypes)
        self.nodata = nodata if isinstance(nodata, dict) else dict.fromkeys(outputs, nodata)
        # per output: band description, metadata tags, colour table ({value: (r, g, b, a)})
        self.descriptions = descriptions or {}
        self.tags = tags or {}
        self.colormaps = colormaps or {}
        self._ctx: contextlib.AbstractContextManager[Path] | None = None
        self._ds: dict = {}
        self._tmp: dict = {}

    def __enter__(self) -> Self:
        from .atomic import temp_dir_beside

        first = next(iter(self.outputs.values()))
        ctx = self._ctx = temp_dir_beside(first)
        td = Path(ctx.__enter__())
        for key in self.outputs:
            self._tmp[key] = td / f"{key}.tif"
            prof = plain_profile(
                self.shape,
                self.dtypes[key],
                self.crs,
                self.transform,
                self.nodata.get(key),
                compress=False,
            )
            ds = self._ds[key] = rasterio.open(self._tmp[key], "w", **prof)
            if self.descriptions.get(key):
                ds.set_band_description(1, self.descriptions[key])
            if self.tags.get(key):
                ds.update_tags(**{k: str(v) for k, v in self.tags[key].items()})
            if self.colormaps.get(key):
                ds.write_colormap(1, self.colormaps[key])
        return self

    def write(self, key: str, block: np.ndarray, window) -> None:
        self._ds[key].write(np.asarray(block, dtype=self.dtypes[key]), 1, window=window)

    def __exit__(self, exc_type, exc, tb):
        try:
            for ds in self._ds.values():
                ds.close()
            if exc_type is None:
                for key, final in self.outputs.items():
                    to_cog(self._tmp[key], final)
        finally:
            self._ctx.__exit__(exc_type, exc, tb)
        return False

"""Writing GeoTIFFs: tiled, compressed, nodata and CRS set, atomically, byte-reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine

from .atomic import atomic_path

GTIFF_OPTIONS = {
    "driver": "GTiff",
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "deflate",
    "zlevel": 6,
    "BIGTIFF": "IF_SAFER",
}


def default_nodata(dtype) -> float | int:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return -9999.0
    if dtype == np.uint8:
        return 255
    if dtype.kind == "u":
        return int(np.iinfo(dtype).max)
    return int(np.iinfo(dtype).min)


def write_raster(
    path: str | Path,
    array: np.ndarray,
    crs: CRS | str,
    transform: Affine,
    nodata: float | int | None = None,
    tags: dict | None = None,
    band_description: str | None = None,
) -> Path:
    """Write a single-band array as a tiled, deflate-compressed GeoTIFF (atomic)."""
    array = np.asarray(array)
    nodata = default_nodata(array.dtype) if nodata is None else nodata
    profile = dict(GTIFF_OPTIONS)
    profile.update(
        height=array.shape[0], width=array.shape[1], count=1, dtype=array.dtype.name,
        crs=CRS.from_user_input(crs), transform=transform, nodata=nodata,
        predictor=3 if array.dtype.kind == "f" else 2,
    )
    if array.shape[0] < 256 or array.shape[1] < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize"), profile.pop("blockysize")
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(array, 1)
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
            if band_description:
                dst.set_band_description(1, band_description)
    return Path(path)


COG_BLOCKSIZE = 512


def cog_options(dtype: str, blocksize: int = COG_BLOCKSIZE) -> dict:
    """Creation options for GDAL's COG driver: tiled, deflate, internal overviews (nearest for
    integer/categorical rasters, average for floats). No timestamp, one thread: same bytes."""
    is_float = np.dtype(dtype).kind == "f"
    return {
        "BLOCKSIZE": blocksize,
        "COMPRESS": "DEFLATE",
        "LEVEL": 6,
        "PREDICTOR": "YES",
        "OVERVIEWS": "AUTO",
        "OVERVIEW_RESAMPLING": "AVERAGE" if is_float else "NEAREST",
        "BIGTIFF": "IF_SAFER",
        "NUM_THREADS": 1,  # deterministic tile order
    }


def to_cog(src_path: str | Path, dst_path: str | Path) -> Path:
    """Copy a GeoTIFF to a Cloud-Optimised GeoTIFF at `dst_path` (atomic)."""
    import rasterio.shutil

    with rasterio.open(src_path) as src:
        dtype = src.dtypes[0]
    with atomic_path(dst_path) as tmp:
        rasterio.shutil.copy(src_path, tmp, driver="COG", **cog_options(dtype))
    return Path(dst_path)


def write_cog(path: str | Path, array: np.ndarray, crs, transform: Affine,
              nodata: float | int | None = None, tags: dict | None = None,
              band_description: str | None = None) -> Path:
    """Write an in-memory array as a COG (via a temporary GeoTIFF beside it)."""
    from .atomic import temp_dir_beside

    path = Path(path)
    with temp_dir_beside(path) as td:
        tmp = write_raster(Path(td) / "plain.tif", array, crs, transform, nodata=nodata, tags=tags,
                           band_description=band_description)
        to_cog(tmp, path)
    return path

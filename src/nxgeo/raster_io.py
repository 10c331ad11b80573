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

"""Block-wise GeoTIFF writing with the same profile as :func:`nxgeo.raster_io.write_raster`.

The dataset is created on a temporary name beside the target (``nxgeo.atomic.atomic_path``)
and renamed only when every block has been written, so a killed run never leaves a partial
file. Blocks are written in a fixed order, so the bytes are reproducible.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Self

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.windows import Window

from ..atomic import atomic_path
from ..grid import Grid
from ..raster_io import GTIFF_OPTIONS


def profile_for(grid: Grid, dtype, nodata) -> dict:
    dtype = np.dtype(dtype)
    profile = dict(GTIFF_OPTIONS)
    profile.update(
        height=grid.height,
        width=grid.width,
        count=1,
        dtype=dtype.name,
        crs=CRS.from_user_input(grid.crs),
        transform=grid.transform,
        nodata=nodata,
        predictor=3 if dtype.kind == "f" else 2,
    )
    if grid.height < 256 or grid.width < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    return profile


class BlockWriter:
    """``with BlockWriter(path, grid, dtype, nodata) as w: w.write(r0, block)``."""

    def __init__(
        self,
        path: str | Path,
        grid: Grid,
        dtype,
        nodata,
        tags: dict | None = None,
        description: str | None = None,
    ):
        self.path = Path(path)
        self.grid = grid
        self.dtype = np.dtype(dtype)
        self.nodata = nodata
        self.tags = tags or {}
        self.description = description
        self._stack: contextlib.ExitStack | None = None
        self._ds = None

    def __enter__(self) -> Self:
        stack = contextlib.ExitStack()
        tmp = stack.enter_context(atomic_path(self.path))
        try:
            self._ds = rasterio.open(tmp, "w", **profile_for(self.grid, self.dtype, self.nodata))
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def write(self, r0: int, block: np.ndarray) -> None:
        assert self._ds is not None, "BlockWriter.write is called inside its with block"
        block = np.asarray(block, dtype=self.dtype)
        h = block.shape[0]
        self._ds.write(block, 1, window=Window(0, r0, self.grid.width, h))

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                if self.tags:
                    self._ds.update_tags(**{k: str(v) for k, v in self.tags.items()})
                if self.description:
                    self._ds.set_band_description(1, self.description)
            self._ds.close()
        finally:
            self._stack.__exit__(exc_type, exc, tb)
        return False

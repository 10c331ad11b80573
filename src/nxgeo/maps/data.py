"""Reading what the maps show: rasters at map resolution, class counts, hillshade, vectors.

Rasters are always read decimated (rasterio ``out_shape`` / ``rasterio.merge`` with a coarse
``res``), so a 30 m region (~11k x 15k pixels) never loads at full resolution: the long side of
what is drawn is capped at ``max_px`` (2000 by default). Class shares for legends are counted
block by block at full resolution (exact, bounded memory).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.windows import Window, from_bounds

MAX_PX = 2000


@dataclass
class MapRaster:
    """A raster at map resolution: masked array, extent (left, right, bottom, top), pixel size."""

    array: np.ma.MaskedArray
    bounds: tuple[float, float, float, float]  # left, bottom, right, top
    res: tuple[float, float]
    crs: str | None

    @property
    def extent(self) -> tuple[float, float, float, float]:
        left, bottom, right, top = self.bounds
        return (left, right, bottom, top)

    @property
    def transform(self):
        from rasterio.transform import from_bounds as tfb

        h, w = self.array.shape
        return tfb(*self.bounds, w, h)


def _resampling(name: str | Resampling) -> Resampling:
    return name if isinstance(name, Resampling) else Resampling[name]


def decimated_shape(width: int, height: int, max_px: int = MAX_PX) -> tuple[int, int]:
    """(rows, cols) no larger than max_px on the long side, never larger than the source."""
    factor = max(1.0, max(width, height) / float(max_px))
    rows = min(max_px, height, math.ceil(height / factor - 1e-9))
    cols = min(max_px, width, math.ceil(width / factor - 1e-9))
    return max(1, rows), max(1, cols)


def read_map_raster(
    path: str | Path,
    max_px: int = MAX_PX,
    resampling: str = "nearest",
    bounds: Sequence[float] | None = None,
) -> MapRaster:
    """Band 1 of `path` (optionally only `bounds`), decimated so its long side <= max_px."""
    with rasterio.open(path) as ds:
        if bounds is None:
            window = Window(0, 0, ds.width, ds.height)
        else:
            b = ds.bounds
            left, bottom = max(bounds[0], b.left), max(bounds[1], b.bottom)
            right, top = min(bounds[2], b.right), min(bounds[3], b.top)
            if right <= left or top <= bottom:
                raise ValueError(f"{path}: bounds {tuple(bounds)} do not overlap the raster")
            w = from_bounds(left, bottom, right, top, ds.transform)
            c0, r0 = math.floor(w.col_off + 1e-9), math.floor(w.row_off + 1e-9)
            c1 = math.ceil(w.col_off + w.width - 1e-9)
            r1 = math.ceil(w.row_off + w.height - 1e-9)
            window = Window(c0, r0, c1 - c0, r1 - r0).intersection(
                Window(0, 0, ds.width, ds.height)
            )
        rows, cols = decimated_shape(int(window.width), int(window.height), max_px)
        arr = ds.read(
            1,
            window=window,
            out_shape=(rows, cols),
            masked=True,
            resampling=_resampling(resampling),
        )
        wb = ds.window_bounds(window)
        crs = ds.crs.to_string() if ds.crs else None
    left, bottom, right, top = wb
    res = ((right - left) / cols, (top - bottom) / rows)
    return MapRaster(np.ma.asarray(arr), (left, bottom, right, top), res, crs)


def mosaic_map_raster(
    paths: Sequence[str | Path], max_px: int = MAX_PX, resampling: str = "nearest"
) -> MapRaster:
    """Mosaic of aligned rasters (e.g. the reaches of one year), decimated to <= max_px.

    rasterio.merge reads every source straight into the coarse output grid (decimated reads),
    so memory is that of the output. Where sources overlap the first valid value wins.
    """
    from rasterio.merge import merge

    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("no rasters to mosaic")
    lefts, bottoms, rights, tops, native = [], [], [], [], []
    for p in paths:
        with rasterio.open(p) as ds:
            b = ds.bounds
            lefts.append(b.left)
            bottoms.append(b.bottom)
            rights.append(b.right)
            tops.append(b.top)
            native.append(max(abs(ds.res[0]), abs(ds.res[1])))
            nodata = ds.nodata
            crs = ds.crs.to_string() if ds.crs else None
    bounds = (min(lefts), min(bottoms), max(rights), max(tops))
    width_m, height_m = bounds[2] - bounds[0], bounds[3] - bounds[1]
    res = max(min(native), max(width_m, height_m) / float(max_px))
    arr, transform = merge(
        paths,
        bounds=bounds,
        res=(res, res),
        nodata=nodata,
        resampling=_resampling(resampling),
        method="first",
    )
    band = arr[0]
    mask = band == nodata if nodata is not None else np.zeros(band.shape, bool)
    if nodata is not None and isinstance(nodata, float) and math.isnan(nodata):
        mask = np.isnan(band)
    rows, cols = band.shape
    out_bounds = (
        transform.c,
        transform.f + transform.e * rows,
        transform.c + transform.a * cols,
        transform.f,
    )
    return MapRaster(np.ma.masked_array(band, mask), out_bounds, (res, res), crs)


def class_counts(paths: Iterable[str | Path], region=None) -> dict[int, int]:
    """Pixel count per value (nodata excluded) over full-resolution rasters, block by block.
    With `region` (a GeoSeries, reprojected to each raster's CRS), only the pixels whose centre
    is inside it count: a legend's shares are shares of the region, not of the grid's
    rectangle."""
    from rasterio.features import geometry_mask
    from rasterio.windows import transform as window_transform

    total: dict[int, int] = {}
    for p in paths:
        with rasterio.open(p) as ds:
            nodata = ds.nodata
            small_int = np.dtype(ds.dtypes[0]) in (np.dtype("uint8"), np.dtype("uint16"))
            geoms = None
            if region is not None:
                r = region.to_crs(ds.crs) if getattr(region, "crs", None) is not None else region
                geoms = [g for g in r if g is not None and not g.is_empty]
            for _, window in ds.block_windows(1):
                block = ds.read(1, window=window)
                if geoms is not None:
                    inside = geometry_mask(
                        geoms,
                        out_shape=block.shape,
                        invert=True,
                        transform=window_transform(window, ds.transform),
                    )
                    block = block[inside]
                if small_int:  # bincount: far faster than unique for categorical rasters
                    counts = np.bincount(block.ravel())
                    values = np.flatnonzero(counts)
                    counts = counts[values]
                else:
                    values, counts = np.unique(block, return_counts=True)
                for v, c in zip(values.tolist(), counts.tolist()):
                    if nodata is not None and v == nodata:
                        continue
                    total[int(v)] = total.get(int(v), 0) + int(c)
    return dict(sorted(total.items()))


def hillshade(
    dem: MapRaster, azdeg: float = 315.0, altdeg: float = 45.0, vert_exag: float = 2.0
) -> np.ndarray:
    """Hillshade 0-1 of a decimated DEM (matplotlib LightSource; NaN where the DEM has none)."""
    from matplotlib.colors import LightSource

    z = np.ma.filled(dem.array.astype("float64"), np.nan)
    if np.isnan(z).all():
        return np.full(z.shape, np.nan)
    fill = np.nanmean(z)
    zf = np.where(np.isnan(z), fill, z)
    ls = LightSource(azdeg=azdeg, altdeg=altdeg)
    hs = ls.hillshade(zf, vert_exag=vert_exag, dx=dem.res[0], dy=dem.res[1])
    hs[np.isnan(z)] = np.nan
    return hs


def inside_mask(raster: MapRaster, geometries) -> np.ndarray:
    """True on the map pixels inside the geometries (for fading what lies outside the region)."""
    from rasterio.features import geometry_mask

    geoms = [g for g in geometries if g is not None and not g.is_empty]
    if not geoms:
        return np.ones(raster.array.shape, bool)
    return geometry_mask(
        geoms, out_shape=raster.array.shape, transform=raster.transform, invert=True
    )


def read_layer(path: str | Path, layer: str, simplify: float | None = None):
    """A reference vector layer (None when the file or layer is absent)."""
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    if not path.is_file():
        return None
    if layer not in {str(n) for n, _ in pyogrio.list_layers(path)}:
        return None
    gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    if simplify and len(gdf):
        gdf = gdf.copy()
        gdf["geometry"] = gdf.geometry.simplify(simplify, preserve_topology=True)
    return gdf


CANDIDATE_LAYERS = (
    "homestead_greening",
    "mine_remediation",
    "sand_control",
    "state_wasteland",
    "land_consolidation",
)
NOT_CANDIDATE_LAYERS = {"layer_styles"}


def read_candidates(path: str | Path, layers: Sequence[str] | None = None) -> dict:
    """{pathway: GeoDataFrame} of the candidates GeoPackage (every layer but the QGIS styles, or
    only `layers`); {} when it does not exist yet."""
    import pyogrio

    path = Path(path)
    if not path.is_file():
        return {}
    present = [
        str(n)
        for n, g in pyogrio.list_layers(path)
        if g is not None and str(n) not in NOT_CANDIDATE_LAYERS
    ]
    order = (
        list(layers)
        if layers is not None
        else (
            [x for x in CANDIDATE_LAYERS if x in present]
            + sorted(set(present) - set(CANDIDATE_LAYERS))
        )
    )
    out = {}
    for layer in order:
        if layer not in present:
            continue
        gdf = read_layer(path, layer)
        if gdf is not None:
            gdf = gdf.copy()
            if "pathway" not in gdf.columns:
                gdf["pathway"] = layer
            out[layer] = gdf
    return out


def read_context(path: str | Path, layers: Iterable[str], simplify: float | None = None) -> dict:
    """{layer: GeoDataFrame} of the context layers present in the vectors GeoPackage."""
    out = {}
    for layer in layers:
        gdf = read_layer(path, layer, simplify)
        if gdf is not None and len(gdf):
            out[layer] = gdf
    return out

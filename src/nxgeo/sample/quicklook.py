"""Quick-look PNG of a generated sample: hillshaded DEM, precipitation and land use (canonical
class colours from the scheme tables), with county boundaries and rivers, to check it by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _read(path: Path, max_pixels: int, categorical: bool):
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(path) as src:
        f = max(1, int(np.ceil(max(src.width, src.height) / max_pixels)))
        shape = (max(1, src.height // f), max(1, src.width // f))
        rs = Resampling.nearest if categorical else Resampling.bilinear
        a = src.read(1, out_shape=shape, resampling=rs, masked=True)
        b = src.bounds
        return a, (b.left, b.right, b.bottom, b.top), src.crs, (b.right - b.left) / shape[1]


def quicklook(
    out_dir, png_path, year: int | None = None, landuse_dir="config/landuse", max_pixels: int = 1400
) -> Path:
    """Render DEM, precipitation and land use of ``year`` (default: the first land-use file
    found) of the sample in ``out_dir`` into ``png_path`` (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import geopandas as gpd
    import matplotlib.pyplot as plt
    from matplotlib.colors import LightSource, ListedColormap
    from matplotlib.patches import Patch

    from ..atomic import atomic_path
    from ..landuse import load_scheme

    out_dir = Path(out_dir)
    if year is None:
        found = sorted(out_dir.glob("landuse_*.tif"))
        if not found:
            raise FileNotFoundError(f"{out_dir}: no landuse_<year>.tif")
        lu_path = found[0]
        year = int(lu_path.stem.split("_")[1])
    else:
        lu_path = out_dir / f"landuse_{year}.tif"
    scheme = load_scheme("gbt21010", landuse_dir)
    counties = gpd.read_file(out_dir / "vector" / "counties.geojson")
    rivers = gpd.read_file(out_dir / "vector" / "water.gpkg", layer="rivers")

    fig, axes = plt.subplots(1, 3, figsize=(21, 10), constrained_layout=True)

    def overlay(ax, crs):
        counties.to_crs(crs).boundary.plot(ax=ax, color="k", lw=0.4)
        rivers.to_crs(crs).plot(ax=ax, color="#1f4e99", lw=0.8)

    dem, ext, crs, cell = _read(out_dir / "dem.tif", max_pixels, False)
    dx = cell * 88_900 if crs.is_geographic else cell
    dy = cell * 110_950 if crs.is_geographic else cell
    ls = LightSource(azdeg=315, altdeg=45)
    z = dem.filled(np.nan)
    rgb = ls.shade(
        np.nan_to_num(z, nan=float(np.nanmin(z))),
        cmap=plt.get_cmap("terrain"),
        blend_mode="soft",
        vert_exag=3,
        dx=dx,
        dy=dy,
        vmin=900,
        vmax=3400,
    )
    ax = axes[0]
    ax.imshow(rgb, extent=ext)
    sm = plt.cm.ScalarMappable(cmap="terrain", norm=plt.Normalize(900, 3400))
    fig.colorbar(sm, ax=ax, shrink=0.6, label="elevation (m)")
    overlay(ax, crs)
    ax.set_title(f"DEM ({crs.to_string()}), {np.nanmin(z):.0f}-{np.nanmax(z):.0f} m")

    p, ext, crs, _ = _read(out_dir / "precipitation.tif", max_pixels, False)
    ax = axes[1]
    im = ax.imshow(p, extent=ext, cmap="YlGnBu", vmin=150, vmax=700)
    fig.colorbar(im, ax=ax, shrink=0.6, label="precipitation (mm/yr)")
    overlay(ax, crs)
    ax.set_title(f"precipitation ({crs.to_string()}), {p.min():.0f}-{p.max():.0f} mm")

    lu, ext, crs, _ = _read(lu_path, max_pixels, True)
    classes = scheme.classes.sort_values("class_id")
    canon = scheme.to_canonical(lu.filled(0), nodata=0)
    colors = ["#ffffff"] + list(classes["color"])
    cmap = ListedColormap(colors)
    ax = axes[2]
    ax.imshow(
        canon, extent=ext, cmap=cmap, vmin=-0.5, vmax=len(colors) - 0.5, interpolation="nearest"
    )
    overlay(ax, crs)
    present = set(np.unique(canon).tolist())
    handles = [
        Patch(color=c, label=n)
        for i, c, n in zip(classes["class_id"], classes["color"], classes["name_en"])
        if i in present
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(f"land use {year} ({crs.to_string()})")
    for ax in axes:
        ax.tick_params(labelsize=7)
    fig.suptitle(f"nxgeo sample region (synthetic Ningxia) - {out_dir}")
    png_path = Path(png_path)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return png_path

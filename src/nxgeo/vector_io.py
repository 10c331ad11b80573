"""Reading and writing vector layers (GeoPackage, GeoJSON, Shapefile, any OGR format)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pyogrio

from .atomic import atomic_path
from .errors import InputError

# GeoPackage stores "last changed" timestamps; fixing them keeps reruns byte-identical.
# The real run time is recorded in provenance instead.
FIXED_DATE = "2000-01-01T00:00:00Z"


def driver_for(path: str | Path) -> str:
    ext = Path(path).suffix.lower()
    return {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile",
            ".fgb": "FlatGeobuf"}.get(ext, "GPKG")


def list_layers(path: str | Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def read_vector(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer; errors name the file and layer and list the layers that do exist."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        layers = list_layers(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several types
        raise InputError(f"{path}: not a vector file that GDAL/OGR can open ({exc})") from exc
    if layer is not None and layer not in layers:
        raise InputError(
            f"{path}: layer {layer!r} not found; the file has layer(s): {', '.join(layers) or 'none'}"
        )
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path} (layer {layer}): could not be read ({exc})") from exc


def write_layers(path: str | Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write one or more layers into a single file, atomically (whole file or nothing)."""
    path = Path(path)
    driver = driver_for(path)
    with atomic_path(path) as tmp:
        # The file is written under a temporary name and renamed when complete, so SQLite's
        # rollback journal (GeoPackage) protects nothing here and only costs time.
        with pyogrio_config(OGR_CURRENT_DATE=FIXED_DATE, OGR_SQLITE_JOURNAL="MEMORY"):
            for i, (name, gdf) in enumerate(layers.items()):
                kwargs = {"layer": name} if driver in ("GPKG", "GeoJSON", "FlatGeobuf") else {}
                if i > 0 and driver != "GPKG":
                    raise ValueError(f"{path}: driver {driver} holds one layer only")
                gdf.to_file(tmp, driver=driver, engine="pyogrio", **kwargs)
    return path


def write_vector(gdf: gpd.GeoDataFrame, path: str | Path, layer: str | None = None) -> Path:
    return write_layers(path, {layer or Path(path).stem: gdf})


class pyogrio_config:
    """Temporarily set GDAL config options for pyogrio (which shares GDAL with this process)."""

    def __init__(self, **options: str):
        self.options = options
        self.old: dict = {}

    def __enter__(self):
        for k, v in self.options.items():
            self.old[k] = pyogrio.get_gdal_config_option(k)
            pyogrio.set_gdal_config_options({k: v})
        return self

    def __exit__(self, *exc):
        pyogrio.set_gdal_config_options(self.old)
        return False


def county_names(vectors_gpkg: str | Path, layer: str = "counties") -> dict[str, str]:
    """adcode -> county name from the prepared vectors (fields id, name)."""
    c = read_vector(vectors_gpkg, layer)
    names = c["name"] if "name" in c.columns else c["id"]
    return dict(zip(c["id"].astype(str), names.astype(str)))

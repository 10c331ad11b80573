"""Reading and writing vector layers (GeoPackage, GeoJSON, Shapefile, any OGR format)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from .atomic import atomic_path
from .errors import InputError

# GeoPackage stores "last changed" timestamps; fixing them keeps reruns byte-identical.
# The real run time is recorded in provenance instead.
FIXED_DATE = "2000-01-01T00:00:00Z"


def driver_for(path: str | Path) -> str:
    ext = Path(path).suffix.lower()
    return {
        ".gpkg": "GPKG",
        ".geojson": "GeoJSON",
        ".json": "GeoJSON",
        ".shp": "ESRI Shapefile",
        ".fgb": "FlatGeobuf",
    }.get(ext, "GPKG")


def list_layers(path: str | Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def read_vector(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer; errors name the file and layer and list the layers that do exist."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        layers = list_layers(path)
    except Exception as exc:
        raise InputError(f"{path}: not a vector file that GDAL/OGR can open ({exc})") from exc
    if layer is not None and layer not in layers:
        raise InputError(
            f"{path}: layer {layer!r} not found; the file has layer(s): {', '.join(layers) or 'none'}"
        )
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
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
    from .keys import normalize_adcode

    c = read_vector(vectors_gpkg, layer)
    names = c["name"] if "name" in c.columns else c["id"]
    ids = normalize_adcode(c["id"], f"{vectors_gpkg} (layer {layer!r}): field id")
    return dict(zip(ids, names.astype(str)))


# shapely type ids of the parts each geometry kind keeps
_KIND_TYPES = {"polygon": (3, 6), "line": (1, 2, 5), "point": (0, 4)}
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _feature_label(gdf: gpd.GeoDataFrame, i: int, id_field: str = "id") -> str:
    if id_field in gdf.columns:
        return f"id {gdf[id_field].iloc[i]!r}"
    return f"feature #{i + 1}"


def _kind_parts(geom, type_ids: tuple[int, ...]):
    """The parts of `geom` of the wanted types (collections and multi-parts flattened), merged
    back into one geometry per feature; None when there is none."""
    import shapely

    todo, keep = [geom], []
    while todo:
        g = todo.pop()
        t = shapely.get_type_id(g)
        if t == 7:
            todo.extend(shapely.get_parts(g).tolist())
        elif t in type_ids and not g.is_empty:
            keep.append(g)
    if not keep:
        return None
    if len(keep) == 1:
        return keep[0]
    return shapely.union_all(keep)


def repair_geometries(
    gdf: gpd.GeoDataFrame, kind: str | None, name: str, id_field: str = "id"
) -> gpd.GeoDataFrame:
    """Valid geometries of one `kind` ("polygon", "line", "point"; None: validity only), in the
    CRS they will be used in: call it *after* reprojecting, since reprojection can collapse
    sliver holes or narrow necks into invalid rings.

    Invalid geometries are repaired with `make_valid`; a GeometryCollection it returns (or any
    mixed geometry) keeps only the parts of the layer's kind, merged back into one (Multi)Polygon
    / (Multi)LineString / (Multi)Point per feature, so every feature keeps its row and
    attributes (exactextract and GeoPackage readers refuse mixed types). A feature with no part
    of its kind left, or still invalid, is an error naming the layer (`name`) and the feature.
    Null and empty geometries are dropped; features are named by `id_field`. Returns a copy.
    """
    import shapely

    from .errors import InputError

    out = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)].copy()
    if out.empty:
        return out
    geoms = np.asarray(out.geometry.array, dtype=object).copy()
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
    types = shapely.get_type_id(geoms)
    lost: list[tuple[int, str]] = []
    if kind in _KIND_TYPES:
        wanted = _KIND_TYPES[kind]
        for i in np.flatnonzero(~np.isin(types, wanted)):
            part = _kind_parts(geoms[i], wanted)
            if part is None:
                lost.append((int(i), _TYPE_NAMES.get(int(types[i]), str(types[i]))))
            else:
                geoms[i] = part
    if lost:
        shown = "; ".join(f"{_feature_label(out, i, id_field)} became {t}" for i, t in lost[:5])
        more = f" … ({len(lost) - 5} more)" if len(lost) > 5 else ""
        raise InputError(
            f"{name}: {len(lost)} feature(s) have no {kind} part left after reprojection to "
            f"{out.crs.to_string() if out.crs else 'the grid CRS'} and repair ({shown}{more}); "
            "they would be lost. Fix them in your GIS (QGIS: Vector ▸ Geometry Tools ▸ Fix "
            "Geometries; look for slivers and collapsed holes) or delete them."
        )
    still = ~shapely.is_valid(geoms)
    if still.any():
        idx = np.flatnonzero(still)
        shown = "; ".join(
            f"{_feature_label(out, i, id_field)}: {shapely.is_valid_reason(geoms[i])}"
            for i in idx[:5]
        )
        raise InputError(
            f"{name}: {len(idx)} feature(s) stay invalid after reprojection and make_valid "
            f"({shown}); fix them in your GIS (QGIS: Vector ▸ Geometry Tools ▸ Fix Geometries)."
        )
    out[out.geometry.name] = geoms
    return out

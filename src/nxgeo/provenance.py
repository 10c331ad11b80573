"""Provenance: what went into a year's results, with which software, when and where.

- `collect_provenance` — every input file with its SHA-256 (streamed; a Shapefile's sidecar
  files too), the config and the SHA-256 of its canonical JSON, software versions (nxgeo,
  Python, GDAL, PROJ, the geo stack), start and end time, host.
- `write_provenance` — a year's ``provenance.json`` (at the path its rule gives), atomically.
- `provenance_summary` — the compact, time-free part (nxgeo version, config hash, year, one
  digest over the input hashes) that is stamped into outputs:
- `stamp_raster` — GeoTIFF metadata tags (a Cloud-Optimised GeoTIFF is re-laid out through
  GDAL's COG driver so it stays a valid COG; a plain GeoTIFF is updated in place);
- `stamp_gpkg` — GeoPackage metadata (``gpkg_metadata`` + ``gpkg_metadata_reference``, the
  GeoPackage "Metadata" extension, registered in ``gpkg_extensions``; in nxgeo.stamp, which
  also holds the running step's stamp that every writer applies, and importable from here).

Stamps hold no timestamps, so stamped files are byte-identical on a rerun; provenance.json holds
the times.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import socket
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from . import __version__
from .atomic import atomic_path, write_json
from .stamp import (  # noqa: F401 - the stamping API, also importable from here
    FIXED_TIMESTAMP,
    GPKG_MD_URI,
    STAMP_ENV,
    STAMP_KEY,
    current_stamp_tags,
    read_gpkg_stamp,
    set_stamp,
    stamp_gpkg,
    stamp_new_file,
    summary_json,
)

CHUNK = 1 << 20
SCHEMA = "nxgeo-provenance/1"
SIDE_CARS = {".shp": (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")}
PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "geopandas",
    "shapely",
    "rasterio",
    "pyproj",
    "pyogrio",
    "xarray",
    "rioxarray",
    "dask",
    "snakemake",
    "exactextract",
    "rio-cogeo",
    "matplotlib",
    "jsonschema",
    "pyyaml",
    "numexpr",
    "tqdm",
    "pylopdf-fonts-zh-cn",
)


# ---------------------------------------------------------------------------------------------
# hashes


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (memory does not grow with the file)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(obj) -> str:
    """Sorted keys, no spaces, UTF-8 text; non-JSON values (dates, paths) as strings."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def config_sha256(config: Mapping) -> str:
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def _files_of(path: Path) -> list[Path]:
    """The files that make up one input: the file, a Shapefile's sidecars, or a folder's files."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    files = [path]
    for ext in SIDE_CARS.get(path.suffix.lower(), ()):
        for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if cand.is_file():
                files.append(cand)
                break
    return files


def hash_inputs(input_paths: Mapping[str, str | Path | None]) -> dict[str, dict]:
    """{item: {"path", "sha256", "bytes"}} (plus "files" for multi-file inputs).

    An item whose path is None (an optional input not given) is recorded as such; a path that
    does not exist is an error naming the item and the path.
    """
    out: dict[str, dict] = {}
    for item in sorted(input_paths):
        raw = input_paths[item]
        if raw is None:
            out[item] = {"path": None}
            continue
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"provenance: input {item!r} not found: {path}")
        files = _files_of(path)
        if len(files) == 1 and files[0] == path:
            out[item] = {
                "path": str(raw),
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
            }
            continue
        parts = [
            {"path": str(f), "sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files
        ]
        digest = hashlib.sha256(
            "\n".join(f"{p['sha256']}  {Path(str(p['path'])).name}" for p in parts).encode()
        ).hexdigest()
        out[item] = {
            "path": str(raw),
            "sha256": digest,
            "bytes": sum(p["bytes"] for p in parts),
            "files": parts,
        }
    return out


def inputs_digest(inputs: Mapping[str, Mapping]) -> str:
    """One SHA-256 over 'item sha256' lines (sorted by item): changes when any input does."""
    lines = [f"{k} {v.get('sha256') or '-'}" for k, v in sorted(inputs.items())]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# software and host


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def software_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {
        "nxgeo": __version__,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }
    try:
        import rasterio

        out["gdal"] = rasterio.__gdal_version__
    except ImportError:  # pragma: no cover - rasterio is a dependency
        out["gdal"] = None
    try:
        import pyproj

        out["proj"] = pyproj.proj_version_str
    except ImportError:  # pragma: no cover
        out["proj"] = None
    try:
        import pyogrio

        out["gdal_pyogrio"] = pyogrio.__gdal_version_string__
    except (ImportError, AttributeError):
        pass
    try:
        import shapely

        out["geos"] = shapely.geos_version_string
    except (ImportError, AttributeError):
        pass
    for dist in PACKAGES:
        out[dist] = _version(dist)
    return out


def host_info() -> dict:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python_executable": sys.executable,
    }


def _iso(t) -> str | None:
    if t is None:
        return None
    if isinstance(t, (int, float)):
        t = _dt.datetime.fromtimestamp(t, _dt.UTC)
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            t = t.astimezone()
        return t.isoformat(timespec="seconds")
    return str(t)


def collect_provenance(
    config: Mapping,
    input_paths: Mapping[str, str | Path | None],
    started=None,
    finished=None,
    year: int | str | None = None,
) -> dict:
    """Everything needed to say how a result was made (see the module docstring).

    `started` / `finished`: datetimes (naive = local time), POSIX seconds or ISO strings;
    `finished` defaults to now.
    """
    inputs = hash_inputs(input_paths)
    finished = finished if finished is not None else _dt.datetime.now(_dt.UTC)
    start_iso, end_iso = _iso(started), _iso(finished)
    duration = None
    try:
        if start_iso and end_iso:
            duration = round(
                (
                    _dt.datetime.fromisoformat(end_iso) - _dt.datetime.fromisoformat(start_iso)
                ).total_seconds(),
                3,
            )
    except ValueError:
        duration = None
    prov = {
        "schema": SCHEMA,
        "year": None if year is None else str(year),
        "nxgeo_version": __version__,
        "config_sha256": config_sha256(config),
        "inputs_sha256": inputs_digest(inputs),
        "inputs": inputs,
        "config": json.loads(canonical_json(config)),
        "software": software_versions(),
        "started": start_iso,
        "finished": end_iso,
        "duration_s": duration,
        "host": host_info(),
    }
    return prov


def write_provenance(
    path: str | Path,
    config: Mapping | None = None,
    input_paths: Mapping[str, str | Path | None] | None = None,
    started=None,
    finished=None,
    year: int | str | None = None,
    provenance: Mapping | None = None,
) -> Path:
    """Write provenance.json atomically: pass a collected `provenance`, or what to collect."""
    if provenance is None:
        if config is None:
            raise ValueError("write_provenance needs `provenance` or `config` (+ input_paths)")
        provenance = collect_provenance(config, input_paths or {}, started, finished, year)
    return write_json(dict(provenance), path)


def provenance_summary(prov: Mapping, year: int | str | None = None) -> dict:
    """The compact, time-free summary stamped into outputs."""
    y = year if year is not None else prov.get("year")
    return {
        "schema": SCHEMA,
        "nxgeo_version": prov.get("nxgeo_version", __version__),
        "config_sha256": prov["config_sha256"],
        "inputs_sha256": prov.get("inputs_sha256") or inputs_digest(prov.get("inputs", {})),
        "year": None if y is None else str(y),
    }


# ---------------------------------------------------------------------------------------------
# stamping outputs


def _stamp_tags(summary: Mapping) -> dict[str, str]:
    tags = {
        STAMP_KEY: summary_json(summary),
        "NXGEO_VERSION": str(summary.get("nxgeo_version", "")),
        "NXGEO_CONFIG_SHA256": str(summary.get("config_sha256", "")),
        "NXGEO_INPUTS_SHA256": str(summary.get("inputs_sha256", "")),
    }
    if summary.get("year") is not None:
        tags["NXGEO_YEAR"] = str(summary["year"])
    return tags


def stamp_raster(path: str | Path, prov_summary: Mapping) -> Path:
    """Write the provenance summary into a GeoTIFF's metadata tags.

    A plain GeoTIFF is updated in place (rasterio ``update_tags``). A Cloud-Optimised GeoTIFF
    cannot be updated in place without breaking its layout (GDAL refuses by default), so it is
    re-written through the COG driver from a VRT that carries the tags (same pixels, same
    creation options as nxgeo.raster_io.to_cog, overviews rebuilt), atomically.
    """
    import rasterio
    import rasterio.shutil

    path = Path(path)
    tags = _stamp_tags(prov_summary)
    with rasterio.open(path) as ds:
        is_cog = ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "").upper() == "COG"
        dtype = ds.dtypes[0]
        current = ds.tags()
    if all(current.get(k) == v for k, v in tags.items()):
        return path  # already stamped with this summary: leave the bytes alone
    if not is_cog:
        with rasterio.open(path, "r+") as ds:
            ds.update_tags(**tags)
        aux = Path(str(path) + ".aux.xml")
        if aux.exists():  # GDAL may write PAM for some drivers; tags belong in the file
            aux.unlink()
        return path
    from .raster_io import cog_options

    vrt = f"/vsimem/nxgeo_stamp_{os.getpid()}_{hashlib.sha1(str(path).encode()).hexdigest()}.vrt"
    rasterio.shutil.copy(str(path), vrt, driver="VRT")
    try:
        with rasterio.open(vrt, "r+") as v:
            v.update_tags(**tags)
        opts = cog_options(dtype)
        opts["OVERVIEWS"] = "IGNORE_EXISTING"  # rebuilt exactly as to_cog built them
        with atomic_path(path) as tmp:
            rasterio.shutil.copy(vrt, str(tmp), driver="COG", **opts)
    finally:
        rasterio.shutil.delete(vrt)
    return path


def read_raster_stamp(path: str | Path) -> dict | None:
    import rasterio

    with rasterio.open(path) as ds:
        raw = ds.tags().get(STAMP_KEY)
    return json.loads(raw) if raw else None


# ---------------------------------------------------------------------------------------------
# the stamp of the running step (set once per workflow job, applied by every writer: nxgeo.stamp)


def step_stamp(step, results_dir: str | Path, year: int | str | None = None) -> dict:
    """The time-free summary for one workflow job: nxgeo version, rule, year and the SHA-256 of
    the rule's parameters (the config values that shaped the output), and where the year's
    provenance.json is (``<results_dir>/<year>/provenance.json``, `results_dir` as the config
    gives it). `step` is any object with `rule`, `params` (mapping-like) and `wildcards`
    attributes (a Snakemake job). Set it with nxgeo.stamp.set_stamp."""
    params = {k: v for k, v in dict(step.params.items()).items() if k != "version"}
    wildcards = dict(step.wildcards.items()) if getattr(step, "wildcards", None) else {}
    y = year if year is not None else wildcards.get("year", wildcards.get("year_b"))
    return {
        "schema": SCHEMA,
        "nxgeo_version": __version__,
        "rule": str(step.rule),
        "params_sha256": hashlib.sha256(
            canonical_json(json.loads(json.dumps(params, default=str))).encode()
        ).hexdigest(),
        "year": None if y is None else str(y),
        "provenance": None if y is None else f"{results_dir}/{y}/provenance.json",
    }


def provenance_year(
    config: Mapping,
    input_paths: Mapping[str, str | Path | None],
    year,
    logs_dir: str | Path,
    out_json: str | Path,
) -> Path:
    """provenance.json of one survey year: every input with its SHA-256, the config and its
    hash, software versions, host, and the run's start (the earliest step log of the year) and
    end (now)."""
    import time

    logs = [p for p in Path(logs_dir).glob("*.log") if p.is_file()]
    started = min((p.stat().st_mtime for p in logs), default=time.time())
    return write_provenance(out_json, dict(config), input_paths, started, time.time(), year)

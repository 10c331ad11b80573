"""The stamp of the running workflow step, and the writers' side of stamping.

A workflow job (nxgeo.logs.setup_logging with its `step`) sets the stamp once: a compact,
time-free summary (nxgeo version, rule, year, hash of the rule's parameters; see
nxgeo.provenance.step_stamp). Every writer (nxgeo.atomic, nxgeo.raster_io, nxgeo.vector_io)
reads it here and stamps what it writes: GeoTIFF metadata tags, GeoPackage metadata tables.
The stamp travels in the environment variable `STAMP_ENV`, so the processes a step starts
(nxgeo.parallel's workers) stamp their outputs too. Outside a workflow job nothing is set and
nothing is stamped.

This module imports no other nxgeo module: the low-level writers depend on it, never on
nxgeo.provenance.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

STAMP_KEY = "NXGEO_PROVENANCE"
GPKG_MD_URI = "urn:nxgeo:provenance-summary:1"
FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"  # gpkg_metadata_reference.timestamp (reproducible)


def summary_json(summary: Mapping) -> str:
    return json.dumps(dict(summary), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_GPKG_METADATA_SQL = """
CREATE TABLE IF NOT EXISTS gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset',
  md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml',
  metadata TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
  reference_scope TEXT NOT NULL,
  table_name TEXT,
  column_name TEXT,
  row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL,
  md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id)
);
CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
"""
_EXT_DEF = "http://www.geopackage.org/spec120/#extension_metadata"


def stamp_gpkg(path: str | Path, prov_summary: Mapping) -> Path:
    """Write the provenance summary as GeoPackage metadata (scope: the whole GeoPackage).

    One row in ``gpkg_metadata`` (md_scope 'dataset', md_standard_uri
    'urn:nxgeo:provenance-summary:1', mime_type 'application/json') referenced from
    ``gpkg_metadata_reference`` with reference_scope 'geopackage' and a fixed timestamp; the
    extension is registered in ``gpkg_extensions``. An earlier nxgeo stamp is replaced, other
    metadata (e.g. GDAL's) is kept. Idempotent: the same summary leaves the file untouched.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"stamp_gpkg: {path} not found")
    text = summary_json(prov_summary)
    con = sqlite3.connect(path)
    try:
        con.executescript(_GPKG_METADATA_SQL)  # CREATE IF NOT EXISTS: no change when present
        rows = con.execute(
            "SELECT id, metadata FROM gpkg_metadata WHERE md_standard_uri = ?", (GPKG_MD_URI,)
        ).fetchall()
        if len(rows) == 1 and rows[0][1] == text:
            ref = con.execute(
                "SELECT COUNT(*) FROM gpkg_metadata_reference WHERE md_file_id = ?", (rows[0][0],)
            ).fetchone()[0]
            if ref == 1:
                return path
        with con:
            for old_id, _ in rows:
                con.execute("DELETE FROM gpkg_metadata_reference WHERE md_file_id = ?", (old_id,))
                con.execute("DELETE FROM gpkg_metadata WHERE id = ?", (old_id,))
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                "VALUES ('dataset', ?, 'application/json', ?)",
                (GPKG_MD_URI, text),
            )
            md_id = cur.lastrowid
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, "
                "row_id_value, timestamp, md_file_id, md_parent_id) "
                "VALUES ('geopackage', NULL, NULL, NULL, ?, ?, NULL)",
                (FIXED_TIMESTAMP, md_id),
            )
            for table in ("gpkg_metadata", "gpkg_metadata_reference"):
                # (NULLs are distinct in a UNIQUE constraint: check, don't rely on OR IGNORE)
                known = con.execute(
                    "SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND column_name IS NULL "
                    "AND extension_name = 'gpkg_metadata'",
                    (table,),
                ).fetchone()
                if not known:
                    con.execute(
                        "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, "
                        "definition, scope) VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
                        (table, _EXT_DEF),
                    )
    finally:
        con.close()
    return path


def read_gpkg_stamp(path: str | Path) -> dict | None:
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        try:
            row = con.execute(
                "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ?", (GPKG_MD_URI,)
            ).fetchone()
        except sqlite3.OperationalError:
            return None
    finally:
        con.close()
    return json.loads(row[0]) if row else None


# ---------------------------------------------------------------------------------------------
# the stamp of the running step (set once per workflow job, applied by every writer)

STAMP_ENV = "NXGEO_STAMP"


def set_stamp(summary: Mapping | None) -> None:
    """Make every raster and GeoPackage this process (and its children) writes carry `summary`."""
    if summary is None:
        os.environ.pop(STAMP_ENV, None)
    else:
        os.environ[STAMP_ENV] = summary_json(summary)


def current_stamp_tags() -> dict[str, str]:
    """GeoTIFF tags of the current step's stamp ({} outside a workflow job)."""
    text = os.environ.get(STAMP_ENV)
    if not text:
        return {}
    summary = json.loads(text)
    tags = {STAMP_KEY: text, "NXGEO_VERSION": str(summary.get("nxgeo_version", ""))}
    for key in ("rule", "params_sha256", "year", "config_sha256", "inputs_sha256"):
        if summary.get(key) is not None:
            tags[f"NXGEO_{key.upper()}"] = str(summary[key])
    return tags


def stamp_new_file(path: str | Path) -> None:
    """Stamp a freshly written (not yet renamed) output with the current step's summary: GeoTIFF
    tags in place (plain layout; COGs get their tags from their source, see raster_io.to_cog),
    GeoPackage metadata tables. No-op outside a workflow job."""
    text = os.environ.get(STAMP_ENV)
    path = Path(path)
    if not text or not path.is_file():
        return
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        import rasterio

        with rasterio.open(path) as ds:
            is_cog = ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "").upper() == "COG"
        if not is_cog:
            with rasterio.open(path, "r+") as ds:
                ds.update_tags(**current_stamp_tags())
            aux = Path(str(path) + ".aux.xml")
            if aux.exists():
                aux.unlink()
    elif suffix == ".gpkg":
        stamp_gpkg(path, json.loads(text))

"""Provenance: input hashes, config hash, software versions, stamps in GeoTIFF and GeoPackage."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from nxgeo import __version__
from nxgeo import provenance as P
from nxgeo.raster_io import write_cog, write_raster
from nxgeo.vector_io import write_layers

CRS = "EPSG:4507"
T = Affine(30.0, 0, 500_000.0, 0, -30.0, 4_200_000.0)
CONFIG = {"region_name": "测试区", "grid": {"crs": CRS, "resolution": 30}, "years": [2024]}
STARTED = dt.datetime(2025, 1, 2, 8, 0, 0, tzinfo=dt.UTC)
FINISHED = dt.datetime(2025, 1, 2, 8, 30, 15, tzinfo=dt.UTC)


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture()
def inputs(tmp_path):
    arr = (np.arange(300 * 400) % 11).astype("uint8").reshape(300, 400)
    lu = write_raster(tmp_path / "in" / "landuse.tif", arr, CRS, T, nodata=255)
    table = tmp_path / "in" / "budgets.csv"
    table.write_text("adcode,year,allocation_m3\n640105,2024,1000\n", encoding="utf-8")
    gdf = gpd.GeoDataFrame({"adcode": ["640105"]}, geometry=[box(0, 0, 1000, 1000)], crs=CRS)
    shp = tmp_path / "in" / "counties.shp"
    gdf.to_file(shp, engine="pyogrio")
    return {"landuse_2024": lu, "table_water_budgets": table, "vector_counties": shp, "fvc": None}


def test_every_input_is_listed_with_its_hash(inputs):
    prov = P.collect_provenance(CONFIG, inputs, STARTED, FINISHED, year=2024)
    assert set(prov["inputs"]) == set(inputs)
    for item, path in inputs.items():
        rec = prov["inputs"][item]
        if path is None:
            assert rec == {"path": None}
            continue
        assert rec["path"] == str(path)
        if item == "vector_counties":  # a Shapefile: every sidecar hashed
            names = {p["path"].rsplit(".", 1)[1] for p in rec["files"]}
            assert {"shp", "shx", "dbf", "prj"} <= names
            for part in rec["files"]:
                assert part["sha256"] == sha(part["path"])
        else:
            assert rec["sha256"] == sha(path)
            assert rec["bytes"] == path.stat().st_size
    assert prov["started"] == "2025-01-02T08:00:00+00:00"
    assert prov["finished"] == "2025-01-02T08:30:15+00:00"
    assert prov["duration_s"] == 1815.0
    assert prov["year"] == "2024" and prov["nxgeo_version"] == __version__


def test_config_hash_is_canonical(inputs):
    a = P.collect_provenance(CONFIG, inputs, STARTED, FINISHED)
    reordered = {"years": [2024], "grid": {"resolution": 30, "crs": CRS}, "region_name": "测试区"}
    assert P.config_sha256(reordered) == a["config_sha256"]
    assert (
        a["config_sha256"]
        == hashlib.sha256(
            json.dumps(CONFIG, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        ).hexdigest()
    )
    assert a["config"] == CONFIG
    changed = dict(CONFIG, years=[2023])
    assert P.config_sha256(changed) != a["config_sha256"]


def test_software_versions_and_host(inputs):
    prov = P.collect_provenance(CONFIG, inputs, STARTED, FINISHED)
    sw = prov["software"]
    assert sw["gdal"] == rasterio.__gdal_version__
    import pyproj

    assert sw["proj"] == pyproj.proj_version_str
    for key in (
        "nxgeo",
        "python",
        "numpy",
        "pandas",
        "geopandas",
        "shapely",
        "rasterio",
        "pyproj",
        "snakemake",
        "exactextract",
        "matplotlib",
    ):
        assert sw.get(key), key
    assert prov["host"]["hostname"]


def test_missing_input_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="dem.*nope.tif"):
        P.collect_provenance(CONFIG, {"dem": tmp_path / "nope.tif"}, STARTED, FINISHED)


def test_write_provenance_is_json_with_times(tmp_path, inputs):
    out = P.write_provenance(
        tmp_path / "results" / "2024" / "provenance.json",
        CONFIG,
        inputs,
        STARTED,
        FINISHED,
        year=2024,
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == P.SCHEMA and data["started"] and data["finished"]
    assert data["inputs"]["landuse_2024"]["sha256"] == sha(inputs["landuse_2024"])
    assert not list(out.parent.glob(".*tmp*"))  # atomic: no temporary left


def _summary(inputs):
    return P.provenance_summary(P.collect_provenance(CONFIG, inputs, STARTED, FINISHED), 2024)


def test_summary_has_no_times(inputs):
    s = _summary(inputs)
    assert set(s) == {"schema", "nxgeo_version", "config_sha256", "inputs_sha256", "year"}
    later = P.provenance_summary(
        P.collect_provenance(
            CONFIG, inputs, STARTED + dt.timedelta(days=1), FINISHED + dt.timedelta(days=1)
        ),
        2024,
    )
    assert later == s


@pytest.mark.parametrize("cog", [False, True])
def test_stamp_raster_tags_and_same_bytes_on_rerun(tmp_path, inputs, cog):
    from rio_cogeo.cogeo import cog_validate

    summary = _summary(inputs)
    arr = (np.arange(600 * 700) % 9).astype("uint8").reshape(600, 700)
    digests = []
    for run in ("a", "b"):
        path = tmp_path / run / "suit.tif"
        writer = write_cog if cog else write_raster
        writer(path, arr, CRS, T, nodata=255, band_description="grade")
        P.stamp_raster(path, summary)
        digests.append(sha(path))
        # stamping again with the same summary changes nothing
        P.stamp_raster(path, summary)
        assert sha(path) == digests[-1]
        with rasterio.open(path) as ds:
            tags = ds.tags()
            assert np.array_equal(ds.read(1), arr)
            assert ds.nodata == 255 and ds.descriptions == ("grade",)
        assert json.loads(tags[P.STAMP_KEY]) == summary
        assert tags["NXGEO_CONFIG_SHA256"] == summary["config_sha256"]
        assert tags["NXGEO_YEAR"] == "2024"
        assert P.read_raster_stamp(path) == summary
        assert not path.with_name(path.name + ".aux.xml").exists()
        if cog:
            assert cog_validate(str(path))[0], "stamping must keep a valid COG"
    assert digests[0] == digests[1]


def test_stamp_gpkg_metadata_per_spec_and_same_bytes(tmp_path, inputs):
    summary = _summary(inputs)
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["A1", "A2"]}, geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=CRS
    )
    digests = []
    for run in ("a", "b"):
        path = tmp_path / run / "candidates.gpkg"
        write_layers(path, {"homestead_greening": gdf})
        P.stamp_gpkg(path, summary)
        digests.append(sha(path))
        P.stamp_gpkg(path, summary)
        assert sha(path) == digests[-1]
    assert digests[0] == digests[1]
    path = tmp_path / "a" / "candidates.gpkg"
    con = sqlite3.connect(path)
    try:
        md = con.execute(
            "SELECT id, md_scope, md_standard_uri, mime_type, metadata FROM gpkg_metadata"
        ).fetchall()
        ours = [r for r in md if r[2] == P.GPKG_MD_URI]
        assert len(ours) == 1
        md_id, scope, _, mime, text = ours[0]
        assert scope == "dataset" and mime == "application/json"
        assert json.loads(text) == summary
        ref = con.execute(
            "SELECT reference_scope, table_name, column_name, row_id_value, "
            "timestamp, md_parent_id FROM gpkg_metadata_reference "
            "WHERE md_file_id = ?",
            (md_id,),
        ).fetchall()
        assert ref == [("geopackage", None, None, None, P.FIXED_TIMESTAMP, None)]
        ext = con.execute(
            "SELECT table_name, extension_name, scope FROM gpkg_extensions "
            "WHERE extension_name = 'gpkg_metadata' ORDER BY table_name"
        ).fetchall()
        assert ext == [
            ("gpkg_metadata", "gpkg_metadata", "read-write"),
            ("gpkg_metadata_reference", "gpkg_metadata", "read-write"),
        ]
    finally:
        con.close()
    assert P.read_gpkg_stamp(path) == summary
    # still a GeoPackage GDAL reads, with its layer intact
    assert pyogrio.read_info(path, layer="homestead_greening")["features"] == 2
    # a new summary replaces the old stamp (one nxgeo row, not two)
    P.stamp_gpkg(path, dict(summary, year="2025"))
    assert P.read_gpkg_stamp(path)["year"] == "2025"
    con = sqlite3.connect(path)
    try:
        n = con.execute(
            "SELECT COUNT(*) FROM gpkg_metadata WHERE md_standard_uri = ?", (P.GPKG_MD_URI,)
        ).fetchone()[0]
        nref = con.execute("SELECT COUNT(*) FROM gpkg_metadata_reference").fetchone()[0]
    finally:
        con.close()
    assert n == 1 and nref == 1

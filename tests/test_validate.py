"""nxgeo.validate: every bad input gives a specific message naming the file and what to do."""

from __future__ import annotations

import copy
import json
import shutil

import geopandas as gpd
import inputs_factory as F
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Polygon, box

from nxgeo.validate import ValidationReport, validate_inputs, write_reports
from nxgeo.validate import rasters as validate_rasters


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("valid_inputs")
    cfg, base = F.make_valid_inputs(base)
    return cfg, base


@pytest.fixture
def inputs(pristine, tmp_path):
    """(cfg, base): a fresh copy of the valid set that a test may break."""
    cfg, src = pristine
    base = tmp_path / "inputs"
    shutil.copytree(src, base)
    return copy.deepcopy(cfg), base


def messages(report: ValidationReport, severity: str | None = None, item: str | None = None):
    return [
        p.message
        for p in report.problems
        if (severity is None or p.severity == severity) and (item is None or p.item == item)
    ]


def assert_error(report: ValidationReport, *needles: str, item: str | None = None) -> str:
    """The report failed and one error message contains every needle; returns that message."""
    assert not report.ok
    errs = messages(report, "error", item)
    for m in errs:
        if all(n in m for n in needles):
            return m
    raise AssertionError(f"no error containing {needles!r} (item {item}); errors: {errs}")


def assert_warning(report: ValidationReport, *needles: str, item: str | None = None) -> str:
    warns = messages(report, "warning", item)
    for m in warns:
        if all(n in m for n in needles):
            return m
    raise AssertionError(f"no warning containing {needles!r}; warnings: {warns}")


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# ------------------------------------------------------------------------------------------
# the valid set


def test_valid_set_passes_without_problems(inputs):
    cfg, base = inputs
    report = validate_inputs(cfg, base)
    assert report.ok, report.to_markdown()
    assert report.problems == []
    items = {c["item"] for c in report.checked}
    assert {
        "inputs.landuse.files.2023",
        "inputs.landuse.files.2024",
        "inputs.rasters.dem",
        "inputs.rasters.precipitation",
        "inputs.vectors.counties",
        "inputs.vectors.roads",
        "inputs.tables.water_budgets",
        "inputs.tables.prices",
    } <= items
    assert (
        len(items) == 2 + 2 + 2 + 14 + 8
    )  # 2 ownership rasters; 8 tables (with gep_coefficients, unit_costs)
    lu = next(c for c in report.checked if c["item"] == "inputs.landuse.files.2023")
    assert lu["crs"].startswith("EPSG:4507") and lu["width"] == 40 and lu["height"] == 30
    assert sum(lu["codes"].values()) == 40 * 29  # row 0 is nodata
    counties = next(c for c in report.checked if c["item"] == "inputs.vectors.counties")
    assert counties["features"] == 2 and counties["crs"].startswith("EPSG:4490")
    assert "PASSED" in report.to_markdown()


def test_validate_inputs_accepts_string_base_dir(inputs):
    cfg, base = inputs
    assert validate_inputs(cfg, str(base)).ok


# ------------------------------------------------------------------------------------------
# config


def test_geographic_analysis_crs_is_an_error(inputs):
    cfg, base = inputs
    cfg["grid"]["crs"] = "EPSG:4490"
    report = validate_inputs(cfg, base)
    assert_error(report, "grid.crs: 'EPSG:4490'", "is geographic", "EPSG:4507", item="config")
    assert len(report.errors) == 1  # the data checks still ran and passed
    assert (
        len(report.checked) == 28
    )  # incl. inputs.tables.gep_coefficients, unit_costs, 2 ownership rasters


def test_bad_config_value_names_key_and_allowed_values(inputs):
    cfg, base = inputs
    cfg["inputs"]["landuse"]["scheme"] = "corine"
    report = validate_inputs(cfg, base)
    assert_error(
        report, "inputs.landuse.scheme", "'corine'", "'gbt21010', 'clcd', 'cnlucc'", item="config"
    )
    assert len(report.errors) == 1  # no second, confusing land-use error


def test_year_without_landuse_file(inputs):
    cfg, base = inputs
    cfg["years"] = [2023, 2024, 2025]
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "inputs.landuse.files",
        "year 2025",
        "has no land-use file",
        "2025: path/to/landuse_2025.tif",
        item="config",
    )
    # the county tables have no 2025 rows either
    assert_error(report, "missing rows", "(2025)", item="inputs.tables.water_budgets")


def test_structurally_broken_config_stops_after_config_problems(inputs):
    cfg, base = inputs
    cfg["inputs"] = ["not", "a", "mapping"]
    report = validate_inputs(cfg, base)
    assert not report.ok
    assert {p.item for p in report.problems} == {"config"}
    assert report.checked == []
    assert validate_inputs(["not a dict"], base).errors[0].item == "config"


# ------------------------------------------------------------------------------------------
# rasters


def test_missing_raster_file(inputs):
    cfg, base = inputs
    (base / F.P["dem"]).unlink()
    report = validate_inputs(cfg, base)
    msg = assert_error(
        report, "in/dem.tif: file not found", "inputs.rasters.dem", item="inputs.rasters.dem"
    )
    assert str(base) in msg


def test_text_file_named_tif_is_not_a_raster(inputs):
    cfg, base = inputs
    (base / F.P["dem"]).write_text("elevation,1200\n", encoding="utf-8")
    report = validate_inputs(cfg, base)
    assert_error(
        report, "in/dem.tif: is not a raster GDAL can read", "GeoTIFF", item="inputs.rasters.dem"
    )


def test_raster_without_crs(inputs):
    cfg, base = inputs
    F.write_tif(
        base / F.P["precipitation"], np.full((30, 40), 300, np.float32), crs=None, nodata=-9999.0
    )
    report = validate_inputs(cfg, base)
    msg = assert_error(
        report,
        "in/precipitation.tif: has no CRS (no .prj/GeoKeys); assign "
        "CGCS2000, e.g. gdal_edit.py -a_srs EPSG:4490",
        item="inputs.rasters.precipitation",
    )
    assert "suggest EPSG:4507" in msg


def test_raster_outside_region(inputs):
    cfg, base = inputs
    far = Affine(F.RES, 0, F.X0 + 1_000_000, 0, -F.RES, F.Y0)
    F.write_tif(
        base / F.P["dem"], np.full((30, 40), 1500, np.float32), transform=far, nodata=-9999.0
    )
    report = validate_inputs(cfg, base)
    msg = assert_error(
        report,
        "in/dem.tif: does not overlap the region",
        "(1,450,000, 4,100,000, 1,650,000, 4,250,000)",
        item="inputs.rasters.dem",
    )
    assert "region's bounds" in msg and "EPSG:4507" in msg


def test_raster_with_zone_prefix_coordinates_gets_a_crs_hint(inputs):
    cfg, base = inputs
    prefixed = Affine(F.RES, 0, F.X0 + 18_000_000, 0, -F.RES, F.Y0)
    F.write_tif(
        base / F.P["dem"], np.full((30, 40), 1500, np.float32), transform=prefixed, nodata=-9999.0
    )
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "does not overlap the region",
        "zone-number prefix",
        "EPSG:4496",
        item="inputs.rasters.dem",
    )


def test_raster_covering_part_of_region_is_a_warning(inputs):
    cfg, base = inputs
    F.write_tif(base / F.P["dem"], np.full((30, 20), 1500, np.float32), nodata=-9999.0)
    report = validate_inputs(cfg, base)
    assert report.ok
    assert_warning(report, "in/dem.tif: covers only", "% of the region", item="inputs.rasters.dem")


def test_landuse_without_nodata(inputs):
    cfg, base = inputs
    F.write_tif(base / "in/landuse_2024.tif", F.landuse_array(2), nodata=None)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/landuse_2024.tif: no nodata value is declared",
        "gdal_edit.py -a_nodata 0",
        item="inputs.landuse.files.2024",
    )
    # the undeclared background shows up as code 0, with a hint
    assert_error(
        report,
        "unknown codes 0 (40 px)",
        "Code 0 is probably the background",
        item="inputs.landuse.files.2024",
    )


def test_continuous_raster_without_nodata_is_a_warning(inputs):
    cfg, base = inputs
    F.write_tif(base / F.P["dem"], np.full((30, 40), 1500, np.float32), nodata=None)
    report = validate_inputs(cfg, base)
    assert report.ok
    assert_warning(
        report,
        "in/dem.tif: no nodata value is declared",
        "gdal_edit.py -a_nodata",
        item="inputs.rasters.dem",
    )


def test_unknown_landuse_codes_listed_with_pixel_counts(inputs):
    cfg, base = inputs
    a = F.landuse_array(1)
    a.flat[40:1140] = 9999  # 1,100 px
    a.flat[1150:1167] = 4242  # 17 px
    F.write_tif(base / "in/landuse_2023.tif", a, nodata=0)
    report = validate_inputs(cfg, base)
    msg = assert_error(
        report,
        "in/landuse_2023.tif: unknown codes 9999 (1,100 px), 4242 (17 px) "
        "not in scheme gbt21010 (config/landuse/gbt21010.csv)",
        item="inputs.landuse.files.2023",
    )
    assert "Recode them" in msg
    p = next(p for p in report.errors if p.item == "inputs.landuse.files.2023")
    assert p.details["unknown_codes"] == {"9999": 1100, "4242": 17}


def test_landuse_in_another_scheme_gets_a_hint(inputs):
    cfg, base = inputs
    rng = np.random.default_rng(3)
    F.write_tif(
        base / "in/landuse_2023.tif", rng.integers(1, 10, (30, 40)).astype(np.uint8), nodata=0
    )
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "unknown codes",
        "belong to scheme clcd",
        "inputs.landuse.scheme",
        item="inputs.landuse.files.2023",
    )


def test_float_landuse_is_an_error(inputs):
    cfg, base = inputs
    F.write_tif(base / "in/landuse_2023.tif", F.landuse_array(1).astype(np.float32), nodata=0.0)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/landuse_2023.tif: has data type float32",
        "floating-point land use is not accepted",
        "gdal_translate -ot UInt16",
        item="inputs.landuse.files.2023",
    )


def test_fvc_in_percent_is_an_error(inputs):
    cfg, base = inputs
    F.write_tif(base / "in/fvc.tif", np.full((30, 40), 45, np.float32), nodata=-9999.0)
    cfg["inputs"]["rasters"]["fvc"] = "in/fvc.tif"
    report = validate_inputs(cfg, base)
    assert_error(
        report, "in/fvc.tif: values range 45 to 45", "divided by 100", item="inputs.rasters.fvc"
    )


def test_codes_are_counted_strip_by_strip(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    a = rng.choice([0, 101, 305, 1205, 9999], size=(700, 600)).astype(np.uint16)
    path = F.write_tif(
        tmp_path / "big.tif", a, nodata=0, tiled=True, blockxsize=256, blockysize=256
    )
    monkeypatch.setattr(validate_rasters, "STRIP_PIXELS", 600 * 10)  # -> 256-row strips
    with rasterio.open(path) as ds:
        windows = list(validate_rasters.iter_strips(ds))
        counts = validate_rasters.count_codes(ds)
    assert [w.height for w in windows] == [256, 256, 188]
    vals, n = np.unique(a[a != 0], return_counts=True)
    assert counts == dict(zip(vals.tolist(), n.tolist()))


# ------------------------------------------------------------------------------------------
# vectors


def test_missing_vector_field(inputs):
    cfg, base = inputs
    F.write_layers(
        base / F.P["homesteads"], {"homesteads": F.homesteads().rename(columns={"status": "state"})}
    )
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/vector/homesteads.gpkg (layer 'homesteads'): field 'status'",
        "`inputs.vectors.homesteads.fields.status`",
        "not found; the layer has fields: 'parcel_id', 'state'",
        item="inputs.vectors.homesteads",
    )


def test_duplicate_ids(inputs):
    cfg, base = inputs
    m = F.mines()
    m.loc[2, "mine_id"] = "M1"
    F.write_layers(base / F.P["mines"], {"mines": m})
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/vector/mines.gpkg (layer 'mines'): duplicate ids in field 'mine_id': 'M1' (2×)",
        item="inputs.vectors.mines",
    )


def test_invalid_geometry_is_repaired_and_counted_as_warning(inputs):
    cfg, base = inputs
    h = F.homesteads()
    x, y = 530_000, 4_130_000
    h.loc[1, "geometry"] = Polygon([(x, y), (x + 300, y + 300), (x + 300, y), (x, y + 300)])
    F.write_layers(base / F.P["homesteads"], {"homesteads": h})
    report = validate_inputs(cfg, base)
    assert report.ok, report.to_markdown()
    msg = assert_warning(
        report,
        "1 invalid geometry (e.g. id 'H2': Self-intersection",
        "repaired with make_valid",
        item="inputs.vectors.homesteads",
    )
    assert "Fix Geometries" in msg
    p = next(p for p in report.warnings if p.item == "inputs.vectors.homesteads")
    assert p.details["invalid"] == 1


def test_empty_layer(inputs):
    cfg, base = inputs
    layers = F.zone_layers()
    layers["ecological_redline"] = layers["ecological_redline"].iloc[0:0]
    F.write_layers(base / F.P["zones"], layers)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/vector/zones.gpkg (layer 'ecological_redline'): the layer is empty (0 features)",
        item="inputs.vectors.ecological_redline",
    )


def test_wrong_layer_name_lists_layers_present(inputs):
    cfg, base = inputs
    cfg["inputs"]["vectors"]["protected_areas"]["layer"] = "protected"
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/vector/zones.gpkg: layer 'protected' not found; the file has layer(s): "
        "'protected_areas', 'ecological_redline'",
        "`inputs.vectors.protected_areas.layer`",
        item="inputs.vectors.protected_areas",
    )


def test_wrong_geometry_type(inputs):
    cfg, base = inputs
    layers = F.infrastructure_layers()
    s = layers["settlements"]
    layers["settlements"] = s.set_geometry(s.geometry.buffer(500))
    F.write_layers(base / F.P["infrastructure"], layers)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "(layer 'settlements'): settlements must be points",
        "Polygon (2)",
        item="inputs.vectors.settlements",
    )


def test_status_values_not_allowed(inputs):
    cfg, base = inputs
    h = F.homesteads()
    h.loc[0, "status"] = "vacant"
    h.loc[1, "status"] = "拆迁中"
    F.write_layers(base / F.P["homesteads"], {"homesteads": h})
    report = validate_inputs(cfg, base)
    msg = assert_error(
        report,
        "field 'status' (status) has values that are not allowed",
        "'vacant'",
        "'拆迁中'",
        "use one of idle, occupied, demolished",
        "field calculator",
        item="inputs.vectors.homesteads",
    )
    assert "空闲" in msg  # the Chinese terms that would be understood are listed


def test_status_case_blanks_and_chinese_terms_are_recoded_with_a_warning(inputs):
    # The same normaliser as processing (nxgeo.keys): accepted here means read the same there.
    cfg, base = inputs
    h = F.homesteads()
    h.loc[0, "status"] = "Idle "
    h.loc[1, "status"] = "空闲"
    F.write_layers(base / F.P["homesteads"], {"homesteads": h})
    report = validate_inputs(cfg, base)
    assert report.ok, report.to_markdown()
    assert_warning(
        report,
        "in/vector/homesteads.gpkg (layer 'homesteads'): field 'status' "
        "(status) values read as 'Idle ' → idle, '空闲' → idle",
        "the run uses the recoded values",
        item="inputs.vectors.homesteads",
    )


def test_county_adcode_must_have_six_digits(inputs):
    cfg, base = inputs
    c = gpd.read_file(base / F.P["counties"])
    c.loc[0, "adcode"] = "6401"
    (base / F.P["counties"]).unlink()
    c.to_file(base / F.P["counties"], driver="GeoJSON", engine="pyogrio")
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/vector/counties.geojson: field 'adcode' must hold 6-digit county codes",
        "'6401'",
        item="inputs.vectors.counties",
    )


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_vector_without_crs(inputs):
    cfg, base = inputs
    F.write_layers(base / F.P["mines"], {"mines": F.mines().set_crs(None, allow_override=True)})
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/vector/mines.gpkg (layer 'mines'): has no CRS",
        "ogr2ogr -a_srs EPSG:4507",
        item="inputs.vectors.mines",
    )


def test_configured_reach_missing_from_layer(inputs):
    cfg, base = inputs
    cfg["reaches"] = ["weining", "yinchuan", "yanchi"]
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "reach(es) 'yanchi' listed in the config `reaches` are not in field 'reach_id'",
        item="inputs.vectors.reaches",
    )


def test_vector_outside_region(inputs):
    cfg, base = inputs
    layers = F.zone_layers()
    layers["sand_areas"] = layers["sand_areas"].set_geometry(
        [box(2_000_000, 6_000_000, 2_010_000, 6_010_000)], crs=F.CRS_GK
    )
    F.write_layers(base / F.P["zones"], layers)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "(layer 'sand_areas'): does not overlap the region",
        "(2,000,000, 6,000,000, 2,010,000, 6,010,000)",
        item="inputs.vectors.sand_areas",
    )


# ------------------------------------------------------------------------------------------
# tables


def test_wrong_table_columns(inputs):
    cfg, base = inputs
    path = base / F.P["water_budgets"]
    read_csv(path).rename(columns={"allocation_m3": "allocation"}).to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/tables/water_budgets.csv: missing column(s) allocation_m3; expected "
        "columns: adcode, year, allocation_m3, consumption_m3, reserve_m3; found: adcode, "
        "year, allocation, consumption_m3, reserve_m3",
        item="inputs.tables.water_budgets",
    )


def test_semicolon_separated_table(inputs):
    cfg, base = inputs
    path = base / F.P["prices"]
    read_csv(path).to_csv(path, index=False, sep=";")
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "config/tables/prices.csv: missing column(s) item, value, unit",
        "separated by ';'",
        item="inputs.tables.prices",
    )


def test_counties_layer_is_required(inputs):
    cfg, base = inputs
    cfg["inputs"]["vectors"]["counties"] = None
    report = validate_inputs(cfg, base)
    assert_error(report, "the counties layer is required", item="inputs.vectors.counties")


@pytest.mark.parametrize(
    "layer, pathway", [("mining_areas", "mine_remediation"), ("sand_areas", "sand_control")]
)
def test_a_configured_pathway_needs_its_zone_layer(inputs, layer, pathway):
    """The 10 m bench cut (2026-12-01): a config without mining areas passed validation and
    the candidates step stopped after everything before it had run. Now validation says it,
    and the same config without the pathway is valid."""
    cfg, base = inputs
    assert pathway in cfg["pathways"]
    cfg["inputs"]["vectors"][layer] = None
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        f"`inputs.vectors.{layer}` is not set, but the pathway {pathway} is configured",
        f"remove `pathways.{pathway}`",
        item=f"inputs.vectors.{layer}",
    )
    del cfg["pathways"][pathway]
    report = validate_inputs(cfg, base)
    assert not [p for p in report.errors if p.item == f"inputs.vectors.{layer}"]


def test_the_contract_names_every_pathway_zone_layer():
    """Each pathway's zone layer (candidates.parcels.ZONE_LAYER) is a required input of the
    contract, or an optional one that names the pathway in ``needed_by``."""
    from nxgeo.candidates.parcels import ZONE_LAYER
    from nxgeo.validate.contract import ITEMS

    items = {i.name: i for i in ITEMS if i.kind == "vector"}
    for pathway, layer in ZONE_LAYER.items():
        it = items[layer]
        assert not it.optional or pathway in it.needed_by, (pathway, layer)
    for it in items.values():
        for pathway in it.needed_by:
            assert ZONE_LAYER.get(pathway) == it.name, (it.name, pathway)


def test_county_missing_from_water_table(inputs):
    cfg, base = inputs
    path = base / F.P["water_budgets"]
    df = read_csv(path)
    df[df["adcode"] != "640122"].to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/tables/water_budgets.csv: missing rows for 2 county-years: 640122 贺兰县 (2023, 2024)",
        item="inputs.tables.water_budgets",
    )


def test_non_numeric_water_quota(inputs):
    cfg, base = inputs
    path = base / F.P["water_demand"]
    df = read_csv(path)
    df.loc[2, "demand_m3_per_ha"] = "abc"
    df.to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "config/tables/water_demand.csv: row 3, column demand_m3_per_ha: 'abc' is not a number",
        "line 4 of the file",
        item="inputs.tables.water_demand",
    )


def test_negative_allocation(inputs):
    cfg, base = inputs
    path = base / F.P["water_budgets"]
    df = read_csv(path)
    df.loc[1, "allocation_m3"] = "-5"
    df.to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/tables/water_budgets.csv: row 2, column allocation_m3: -5 is negative",
        ">= 0",
        item="inputs.tables.water_budgets",
    )


def test_text_in_numeric_columns(inputs):
    cfg, base = inputs
    path = base / F.P["greening_targets"]
    df = read_csv(path)
    df.loc[0, "target_ha"] = "about 100"
    df.loc[3, "year"] = "2024.5"
    df.to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "row 1, column target_ha: 'about 100' is not a number",
        item="inputs.tables.greening_targets",
    )
    assert_error(
        report,
        "row 4, column year: '2024.5' is not a whole number",
        item="inputs.tables.greening_targets",
    )


def test_adcode_turned_into_number_by_a_spreadsheet(inputs):
    cfg, base = inputs
    path = base / F.P["county_emissions"]
    df = read_csv(path)
    df["adcode"] = df["adcode"] + ".0"
    df.to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "row 1, column adcode: '640105.0' is not a 6-digit county code",
        "format the column as text",
        item="inputs.tables.county_emissions",
    )


def test_duplicate_table_keys(inputs):
    cfg, base = inputs
    path = base / F.P["county_emissions"]
    df = read_csv(path)
    pd.concat([df, df.iloc[[0]]]).to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "duplicate rows for (adcode, year): (640105, 2023) in rows 1, 5",
        item="inputs.tables.county_emissions",
    )


def test_table_not_utf8(inputs):
    cfg, base = inputs
    path = base / F.P["greening_targets"]
    read_csv(path).assign(note="绿化").to_csv(path, index=False, encoding="gbk")
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/tables/greening_targets.csv: is not UTF-8",
        "CSV UTF-8",
        item="inputs.tables.greening_targets",
    )


def test_carbon_pools_must_cover_every_class(inputs):
    cfg, base = inputs
    path = base / F.P["carbon_pools"]
    df = read_csv(path)
    df[df["lucode"] != "5"].to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert_error(
        report, "no carbon densities for class(es) 5 (shrub)", item="inputs.tables.carbon_pools"
    )


# ------------------------------------------------------------------------------------------
# the report


def test_all_problems_are_reported_at_once(inputs):
    cfg, base = inputs
    (base / F.P["dem"]).unlink()  # 1
    cfg["inputs"]["vectors"]["roads"]["fields"]["kind"] = "road_class"  # 2
    path = base / F.P["prices"]
    df = read_csv(path)
    df.loc[0, "value"] = "cheap"  # 3
    df.to_csv(path, index=False)
    report = validate_inputs(cfg, base)
    assert len(report.errors) == 3, report.to_markdown()
    assert {p.item for p in report.errors} == {
        "inputs.rasters.dem",
        "inputs.vectors.roads",
        "inputs.tables.prices",
    }
    assert report.warnings == []


def test_markdown_and_json_reports_contain_every_problem(inputs, tmp_path):
    cfg, base = inputs
    (base / F.P["precipitation"]).unlink()
    cfg["inputs"]["vectors"]["canals"]["layer"] = "ditches"
    h = F.homesteads()
    x, y = 530_000, 4_130_000
    h.loc[0, "geometry"] = Polygon([(x, y), (x + 300, y + 300), (x + 300, y), (x, y + 300)])
    F.write_layers(base / F.P["homesteads"], {"homesteads": h})
    cfg["grid"]["crs"] = "EPSG:4326"
    report = validate_inputs(cfg, base)
    assert len(report.errors) == 3 and len(report.warnings) == 1
    md = report.to_markdown()
    assert "FAILED" in md and "3 error(s)" in md and "1 warning(s)" in md
    for p in report.problems:
        assert p.message.replace("|", "\\|") in md
        assert f"### `{p.item}`" in md
    md_path, json_path = tmp_path / "out" / "report.md", tmp_path / "out" / "report.json"
    write_reports(report, md_path, json_path)
    assert md_path.read_text(encoding="utf-8") == md
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["ok"] is False and data["n_errors"] == 3 and data["n_warnings"] == 1
    assert [p["message"] for p in data["problems"]] == [p.message for p in report.problems]
    assert len(data["checked"]) == len(report.checked)
    assert not list((tmp_path / "out").glob(".*tmp*"))  # atomic: no temporary leftovers


# ------------------------------------------------------------------------------------------
# issue #21: checks added so that validation and processing agree


def test_grid_over_the_pixel_budget_is_refused(inputs):
    cfg, base = inputs
    cfg["grid"]["resolution"] = 1
    report = validate_inputs(cfg, base)
    msg = assert_error(
        report,
        "grid.resolution: 1 m gives an analysis grid of",
        "more than grid.max_pixels = 500,000,000",
        "raise grid.max_pixels to at least",
        item="grid.resolution",
    )
    n = report.errors[0].details["pixels"]
    assert n > 500_000_000 and f"{n:,} pixels" in msg
    cfg["grid"]["max_pixels"] = n  # confirmed: accepted
    assert validate_inputs(cfg, base).ok


def _region_pixels():
    """(row, col) of land-use pixels well inside county 640105 (x 460-550 km, y 4110-4240 km)."""
    rows = slice(10, 14)  # y 4 200 000 - 4 180 000
    cols = slice(4, 8)  # x 470 000 - 490 000
    return rows, cols


def test_nodata_inside_the_region_is_a_warning_with_its_area(inputs):
    cfg, base = inputs
    path = base / F.P["landuse"].format(year=2024)
    a = F.landuse_array(seed=2)
    rows, cols = _region_pixels()
    a[rows, cols] = 0  # a cloud gap: 16 pixels of 25 km2
    F.write_tif(path, a, nodata=0)
    report = validate_inputs(cfg, base)
    assert report.ok
    msg = assert_warning(
        report,
        "in/landuse_2024.tif: 16 nodata pixel(s) inside the region (40,000.0 ha,",
        "within bounds (470,000, 4,180,000, 490,000, 4,200,000)",
        "there is no land use of 2024 there",
        "gdal_fillnodata.py",
        item="inputs.landuse.files.2024",
    )
    assert "of the region's pixels" in msg
    # the border row of nodata (outside the counties) is not reported, nor the other year
    assert not messages(report, "warning", "inputs.landuse.files.2023")


def test_nodata_inside_the_region_of_a_geographic_dem_counts_hectares(inputs):
    cfg, base = inputs
    from pyproj import Transformer

    # the DEM in EPSG:4490 (0.05 degree pixels) with a void over county 640105
    to_geo = Transformer.from_crs(F.CRS_GK, F.CRS_GEO, always_xy=True)
    lon0, lat0 = to_geo.transform(460_000, 4_245_000)
    t = Affine(0.05, 0, lon0 - 0.1, 0, -0.05, lat0 + 0.1)
    dem = np.full((40, 60), 1500.0, np.float32)
    dem[10:12, 5:7] = -9999.0
    F.write_tif(base / F.P["dem"], dem, crs=F.CRS_GEO, transform=t, nodata=-9999.0)
    report = validate_inputs(cfg, base)
    msg = assert_warning(
        report, "in/dem.tif: 4 nodata pixel(s) inside the region", item="inputs.rasters.dem"
    )
    ha = report.warnings[[p.message for p in report.warnings].index(msg)].details["nodata_ha"]
    # 4 pixels of 0.05 x 0.05 degrees at ~38 N: 4 x 4.4 km x 5.6 km ~ 9,800 ha
    assert 9_000 < ha < 10_500


def test_dem_in_feet_is_refused_with_the_conversion(inputs):
    cfg, base = inputs
    yy, xx = np.mgrid[0 : F.HEIGHT, 0 : F.WIDTH]
    feet = ((1100 + 40 * xx + 10 * yy) / 0.3048).astype(np.float32)  # 3,600 - 9,800 ft
    F.write_tif(base / F.P["dem"], feet, nodata=-9999.0)
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/dem.tif: the elevations look like feet, not metres: median",
        "Ningxia lies at about 1,000–3,600 m",
        'gdal_calc.py -A in/dem.tif --calc="A*0.3048" --outfile dem_m.tif',
        "point inputs.rasters.dem to the result",
        item="inputs.rasters.dem",
    )
    assert len(report.errors) == 1  # one message, not also a range error


def test_dem_labelled_feet(inputs):
    cfg, base = inputs
    path = base / F.P["dem"]
    with rasterio.open(path, "r+") as ds:
        ds.units = ("ft",)
    report = validate_inputs(cfg, base)
    assert report.ok  # values look like metres: a warning only
    assert_warning(
        report,
        "in/dem.tif: the band unit is 'ft' (feet) but the values (median",
        "look like metres, so they are used as metres",
        item="inputs.rasters.dem",
    )
    with rasterio.open(path, "r+") as ds:
        ds.write((ds.read(1) * 4).astype("float32"), 1)  # median ~8,000: really feet
    assert_error(
        validate_inputs(cfg, base),
        "in/dem.tif: the elevations look like feet",
        "the band unit is 'ft'",
        item="inputs.rasters.dem",
    )


def test_precipitation_in_tenths_of_a_millimetre_is_refused(inputs):
    cfg, base = inputs
    yy, xx = np.mgrid[0 : F.HEIGHT, 0 : F.WIDTH]
    F.write_tif(
        base / F.P["precipitation"], ((180 + 10 * yy + xx) * 10).astype(np.float32), nodata=-9999.0
    )
    report = validate_inputs(cfg, base)
    assert_error(
        report,
        "in/precipitation.tif: the median annual precipitation inside the region is 3,",
        "looks like tenths of a millimetre",
        'gdal_calc.py -A in/precipitation.tif --calc="A/10"',
        "point inputs.rasters.precipitation to the result",
        item="inputs.rasters.precipitation",
    )


def test_crs_without_datum_is_a_warning(inputs):
    cfg, base = inputs
    no_datum = (
        "+proj=tmerc +lat_0=0 +lon_0=105 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    )
    yy, xx = np.mgrid[0 : F.HEIGHT, 0 : F.WIDTH]
    F.write_tif(
        base / F.P["precipitation"],
        (180 + 10 * yy + xx).astype(np.float32),
        crs=rasterio.crs.CRS.from_proj4(no_datum),
        nodata=-9999.0,
    )
    F.write_layers(base / F.P["mines"], {"mines": F.mines().set_crs(no_datum, allow_override=True)})
    report = validate_inputs(cfg, base)
    assert report.ok
    assert_warning(
        report,
        "in/precipitation.tif: its CRS",
        "defines no datum",
        "gdal_edit.py -a_srs EPSG:4507",
        item="inputs.rasters.precipitation",
    )
    assert_warning(
        report,
        "in/vector/mines.gpkg (layer 'mines'): its CRS",
        "defines no datum",
        "ogr2ogr -a_srs EPSG:4507",
        item="inputs.vectors.mines",
    )
    assert not messages(report, "warning", "inputs.rasters.dem")  # EPSG:4507 has its datum


def test_two_band_dem_is_checked_and_processed_on_band_1(inputs, tmp_path):
    from nxgeo.grid import Grid
    from nxgeo.prepare import reproject_to_grid

    cfg, base = inputs
    yy, xx = np.mgrid[0 : F.HEIGHT, 0 : F.WIDTH]
    dem = (1100 + 40 * xx + 10 * yy).astype(np.float32)
    F.write_tif(base / F.P["dem"], np.stack([dem, np.zeros_like(dem)]), nodata=-9999.0)
    report = validate_inputs(cfg, base)
    assert report.ok
    assert_warning(
        report,
        "in/dem.tif: has 2 bands; band 1 is checked here and used by every "
        "step (band 2 is ignored)",
        "gdal_translate -b N",
        item="inputs.rasters.dem",
    )
    grid = Grid(crs=F.CRS_GK, transform=F.TRANSFORM, width=F.WIDTH, height=F.HEIGHT)
    out = reproject_to_grid(base / F.P["dem"], tmp_path / "dem.tif", grid, categorical=False)
    with rasterio.open(out) as ds:
        assert ds.count == 1
        np.testing.assert_allclose(ds.read(1), dem)


def test_overlapping_mines_are_a_warning_with_ids_and_area(inputs):
    cfg, base = inputs
    m = F.mines()
    m.loc[1, "geometry"] = box(467_000, 4_181_000, 469_000, 4_183_000)  # half over M1
    F.write_layers(base / F.P["mines"], {"mines": m})
    report = validate_inputs(cfg, base)
    assert report.ok
    assert_warning(
        report,
        "in/vector/mines.gpkg (layer 'mines'): 1 pair of features overlap "
        "(200.00 ha in all): id 'M1' and 'M2' (200.00 ha)",
        "counted twice",
        "Topology Checker",
        item="inputs.vectors.mines",
    )


def test_overlapping_counties_in_a_geographic_crs(inputs):
    cfg, base = inputs
    from shapely.affinity import translate

    c = gpd.read_file(base / F.P["counties"]).to_crs(F.CRS_GK)
    c.loc[1, "geometry"] = translate(c.geometry.iloc[1], -3_000, 0)  # 3 km over the neighbour
    (base / F.P["counties"]).unlink()
    c.to_crs(F.CRS_GEO).to_file(base / F.P["counties"], driver="GeoJSON", engine="pyogrio")
    report = validate_inputs(cfg, base)
    msg = assert_warning(
        report,
        "in/vector/counties.geojson: 1 pair of features overlap",
        "id '640105' and '640122' (39,",
        item="inputs.vectors.counties",
    )
    assert "ha)" in msg


def test_sliver_overlaps_of_real_county_boundaries_are_not_reported(inputs):
    # a shared boundary digitised twice: a 20 m wide sliver (260 ha, 0.02 % of a county)
    cfg, base = inputs
    from shapely.affinity import translate

    c = gpd.read_file(base / F.P["counties"]).to_crs(F.CRS_GK)
    c.loc[1, "geometry"] = translate(c.geometry.iloc[1], -20, 0)
    (base / F.P["counties"]).unlink()
    c.to_crs(F.CRS_GEO).to_file(base / F.P["counties"], driver="GeoJSON", engine="pyogrio")
    assert validate_inputs(cfg, base).problems == []

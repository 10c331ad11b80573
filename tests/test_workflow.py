"""The real DAG on the tiny sample (the whole region at 2 km), inside pytest."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import TINY, copy_run, run_snakemake, tiny_config

pytestmark = pytest.mark.workflow
YEARS = (2023, 2024)
# rules that consume suitability outputs (grow as the DAG grows)
# ledgers: the forest needed is put against the afforestable land with water (water_capacity.csv, #14)
# programme: chooses among the allocated candidates (#16)
DOWNSTREAM_OF_SUITABILITY = {
    "candidates",
    "allocate_water",
    "ledgers",
    "maps",
    "provenance",
    "report",
    "report_pdf",
    "programme",
    "export",
    "county_scorecard",
    "qgis_project",
    "gis_compare",
    "candidates_diff",
    "progress",
}
REACHES = ("weining", "qingtongxia", "yinchuan", "shizuishan", "qingshui", "jinghe", "yanchi")


def test_validation_reports(tiny_run):
    for year in YEARS:
        d = tiny_run / "results" / str(year)
        report = json.loads((d / "validation" / "report.json").read_text(encoding="utf-8"))
        assert report["ok"] is True
        assert "PASSED" in (d / "validation" / "report.md").read_text(encoding="utf-8")
        assert (d / "logs" / "validate_inputs.log").exists()
        assert (d / "benchmarks" / "validate_inputs.tsv").exists()


def test_reach_rasters_are_cogs_with_crs_and_nodata(tiny_run):
    from rio_cogeo.cogeo import cog_validate

    for year in YEARS:
        for reach in REACHES:
            d = tiny_run / "results" / str(year) / "reaches" / reach
            for name in (
                "landuse",
                "dem",
                "precipitation",
                "slope",
                "ls",
                "distance_water",
                "zone_county",
            ):
                path = d / f"{name}.tif"
                valid, errors, _ = cog_validate(str(path), quiet=True)
                assert valid, (path, errors)
                with rasterio.open(path) as ds:
                    assert ds.crs.to_epsg() == 4507
                    assert ds.nodata is not None
                    assert abs(ds.transform.a - TINY["resolution"]) < 1e-6


def test_inventory_adds_up(tiny_run):
    for year in YEARS:
        t = tiny_run / "results" / str(year) / "tables"
        inv = pd.read_csv(
            t / "inventory_by_class.csv", encoding="utf-8-sig", dtype={"zone_id": str}
        )
        assert (t / "inventory_by_class.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        by_county = inv[inv.zone_kind == "county"]
        by_reach = inv[inv.zone_kind == "reach"]
        assert by_county.zone_id.nunique() == 22 and by_reach.zone_id.nunique() == 7
        np.testing.assert_allclose(by_county.area_mu, by_county.area_ha * 15)
        # the sample's reaches are unions of counties: both sums give the same class totals
        # (up to slivers between the simplified county outlines that the dissolve closes)
        c = by_county.groupby("class").area_ha.sum()
        r = by_reach.groupby("class").area_ha.sum()
        np.testing.assert_allclose(c, r.reindex(c.index), rtol=2e-4)
        by_code = pd.read_csv(t / "inventory_by_code.csv", encoding="utf-8-sig")
        np.testing.assert_allclose(by_code.area_ha.sum(), inv.area_ha.sum(), rtol=1e-9)
        rec = pd.read_csv(t / "inventory_reconcile.csv", encoding="utf-8-sig")
        # class totals + nodata inside the polygon reconcile with the polygon area
        assert rec.residual_ha.abs().max() < 1.0


def test_transitions_and_change_raster(tiny_run):
    d = tiny_run / "results" / "2024" / "compare" / "2023_2024"
    t = pd.read_csv(d / "transitions_by_county.csv", encoding="utf-8-sig")
    inv23 = pd.read_csv(
        tiny_run / "results/2023/tables/inventory_by_class.csv", encoding="utf-8-sig"
    )
    from_totals = t[t.from_class > 0].groupby("from_name").area_ha.sum()
    inv_totals = inv23[inv23.zone_kind == "county"].groupby("class").area_ha.sum()
    np.testing.assert_allclose(from_totals, inv_totals.reindex(from_totals.index), rtol=1e-6)
    assert t.changed.any()
    with rasterio.open(d / "change.tif") as ds:
        change = ds.read(1)
    assert (change[(change != 0) & (change != ds.nodata)] > 100).all()


def test_suitability_and_water_capacity(tiny_run):
    d = tiny_run / "results" / "2024" / "reaches" / "yinchuan" / "suitability"
    with (
        rasterio.open(d / "suit_forest_grade.tif") as g,
        rasterio.open(d / "suit_forest_reason.tif") as r,
    ):
        grade, reason = g.read(1), r.read(1)
    excluded = (reason > 0) & (reason != reason.max()) & (grade != 255)
    assert (grade[excluded & ((reason & 0xFF) > 0)] == 4).all()
    assert (d / "reason_legend.csv").exists() and (d / "best_use_legend.csv").exists()
    w = pd.read_csv(
        tiny_run / "results/2024/tables/water_capacity.csv",
        encoding="utf-8-sig",
        dtype={"adcode": str},
    )
    assert len(w) == 22 and w.binding.any()


def test_nothing_to_do_on_rerun(tiny_run):
    proc = run_snakemake(tiny_run, "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_touching_one_year_reruns_only_that_year(tiny_run, tmp_path):
    """Editing one year's land-use file (one pixel recoded) reruns that year's jobs only."""
    work = copy_run(tiny_run, tmp_path / "run")  # the shared run stays as it is
    lu = work / "survey" / "landuse_2024.tif"
    with rasterio.open(lu, "r+") as ds:
        a = ds.read(1)
        r, c = np.argwhere(a == 404)[0]  # other grassland -> natural pasture
        a[r, c] = 401
        ds.write(a, 1)
    proc = run_snakemake(work, "--dry-run")
    out = proc.stdout + proc.stderr
    assert "year=2024" in out and "year=2023" not in out
    assert "prepare_landuse" in out and "clip_reach" in out
    assert "prepare_grid" not in out and "prepare_vectors" not in out


def test_changing_one_weight_reruns_only_suitability_and_what_depends_on_it(tiny_run):
    import yaml

    cfg = yaml.safe_load((tiny_run / "config.yaml").read_text(encoding="utf-8"))
    crit = cfg["suitability"]["targets"]["forest"]["criteria"]
    crit[0]["weight"], crit[1]["weight"] = 0.5, 0.2
    changed = tiny_run / "config_weight.yaml"
    changed.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = run_snakemake(tiny_run, "--dry-run", "--quiet", "rules", config=changed)
    out = proc.stdout + proc.stderr
    jobs = {
        line.split()[0]
        for line in out.splitlines()
        if line.strip()
        and line.split()[0].isidentifier()
        and len(line.split()) == 2
        and line.split()[1].isdigit()
    }
    assert "suitability" in jobs
    jobs.discard("total")
    assert jobs <= {"suitability", "water_capacity", "all"} | DOWNSTREAM_OF_SUITABILITY, jobs


def test_bad_config_value_stops_before_any_job(tmp_path):
    cfg = tiny_config(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace("scheme: gbt21010", "scheme: corine")
    cfg.write_text(text, encoding="utf-8")
    proc = run_snakemake(tmp_path, "--dry-run", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "inputs.landuse.scheme" in out and "'corine'" in out
    assert not (tmp_path / "results").exists()


def test_services_and_ledgers(tiny_run):
    t = tiny_run / "results" / "2024"
    s = pd.read_csv(
        t / "tables" / "services_by_county.csv", encoding="utf-8-sig", dtype={"zone_id": str}
    )
    counties = s[(s.zone_kind == "county") & (s.zone_id != "none")]
    assert len(counties) == 22 and s.zone_kind.iloc[-1] == "region"  # the total row last
    assert (counties.carbon_stock_t_c > 0).all() and (counties.gep_regulating_cny > 0).all()
    cmp = t / "compare" / "2023_2024"
    ledger = pd.read_csv(cmp / "greening_ledger.csv", encoding="utf-8-sig", dtype={"adcode": str})
    trades = pd.read_csv(cmp / "greening_trades.csv", encoding="utf-8-sig")
    sellers = ledger[ledger.sold_ha > 0]
    assert (sellers.after_trade_ha >= sellers.target_ha - 1e-6).all()
    assert abs(ledger.sold_ha.sum() - ledger.bought_ha.sum()) < 1e-6
    assert abs(trades.area_ha.sum() - ledger.sold_ha.sum()) < 1e-6
    assert not (set(trades.seller_adcode.astype(str)) & set(trades.buyer_adcode.astype(str)))
    carbon = pd.read_csv(cmp / "carbon_balance.csv", encoding="utf-8-sig")
    assert set(carbon.status) <= {
        "carbon_surplus",
        "carbon_deficit",
        "no_sink_data",
        "no_emission_data",
    }
    assert (cmp / "greening_ledger.png").stat().st_size > 1000


def test_candidates_gpkg_and_water_balance(tiny_run):
    import geopandas as gpd
    import pyogrio

    path = tiny_run / "results" / "2024" / "candidates.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {
        "homestead_greening",
        "mine_remediation",
        "sand_control",
        "land_consolidation",
        "layer_styles",
    } <= layers
    total = 0
    for layer in ("homestead_greening", "mine_remediation", "sand_control"):
        g = gpd.read_file(path, layer=layer)
        total += len(g)
        assert g.crs.to_epsg() == 4507
        for field in (
            "parcel_id",
            "pathway",
            "adcode",
            "county_name",
            "reach",
            "area_ha",
            "area_mu",
            "recommended_target",
            "allocated",
            "rank_in_county",
            "reason",
            "water_demand_m3",
            "d_carbon_t",
        ):
            assert field in g.columns, (layer, field)
        assert g.parcel_id.is_unique
        # every parcel not allocated carries a reason
        assert (g.loc[g.allocated == 0, "reason"].fillna("") != "").all()
    assert total > 0
    mines = gpd.read_file(path, layer="mine_remediation")
    assert (mines.loc[mines.reason == "operating", "allocated"] == 0).all()
    wb = pd.read_csv(tiny_run / "results/2024/tables/water_balance.csv", encoding="utf-8-sig")
    assert (wb.allocated_m3 <= wb.headroom_m3.clip(lower=0) + 1e-6).all()
    assert wb.county_name.notna().all()


def test_programme_spends_within_budget_and_water(tiny_run):
    """#16: costs on every candidate; the programme's table, layer, marginal value and 001
    comparison; money within the year's budget and water within every county's headroom."""
    import geopandas as gpd
    import yaml

    cfg = yaml.safe_load((tiny_run / "config.yaml").read_text(encoding="utf-8"))
    t = tiny_run / "results" / "2024" / "tables"
    for layer in ("homestead_greening", "mine_remediation", "sand_control"):
        g = gpd.read_file(tiny_run / "results/2024/candidates.gpkg", layer=layer)
        elig = g.eligible == 1
        assert g.loc[elig, "cost_cny"].notna().all() and (g.loc[elig, "cost_cny"] >= 0).all()
        assert np.allclose(g.loc[elig, "cost_wan_cny"] * 1e4, g.loc[elig, "cost_cny"])
    p = pd.read_csv(t / "programme.csv", dtype={"adcode": str}, encoding="utf-8-sig")
    budget = cfg["programme"]["budget_yi_cny"][2024] * 1e8
    assert len(p) > 0 and p["cost_cny"].sum() <= budget * (1 + 1e-9)
    assert list(p["rank"]) == list(range(1, len(p) + 1)) and p.parcel_id.is_unique
    wb = pd.read_csv(t / "water_balance.csv", dtype={"adcode": str}, encoding="utf-8-sig")
    used = p.groupby("adcode")["water_m3"].sum()
    cap = wb.set_index("adcode")["headroom_m3"].clip(lower=0)
    assert (used <= cap.reindex(used.index).fillna(0) + 1e-6).all()
    layer = gpd.read_file(tiny_run / "results/2024/programme.gpkg", layer="programme")
    assert set(layer.parcel_id) == set(p.parcel_id)
    m = pd.read_csv(t / "programme_marginal.csv", encoding="utf-8-sig")
    assert (np.diff(m["objective"]) >= 0).all()
    assert (m["objective"] >= m["objective_greedy"] - 1e-6).all()
    ref = pd.read_csv(t / "programme_vs_001.csv", encoding="utf-8-sig")
    assert ref["observed_cost_per_mu_cny"].round().tolist()[:2] == [7319, 6256]


def test_county_scorecard_both_years(tiny_run):
    """#16: one row per county and a total; the first year has no comparison (empty change
    columns that say why), the second takes 2023→2024; the candidate columns equal the sums of
    the candidates summary (allocated parcels only); rates within 0-100 %."""
    from nxgeo.scorecard import CANDIDATE_SUMS, NO_COMPARE_NOTE

    cards = {}
    for year in YEARS:
        t = tiny_run / "results" / str(year) / "tables"
        card = pd.read_csv(t / "county_scorecard.csv", encoding="utf-8-sig", dtype={"adcode": str})
        cards[year] = card
        assert len(card) == 23 and card.adcode.iloc[-1] == "total"
        for c in ("forest_cover_pct", "soil_conservation_pct", "grassland_fvc_pct"):
            v = card[c].dropna()
            assert len(v) and ((v >= 0) & (v <= 100)).all(), (year, c)
        summary = pd.read_csv(
            t / "candidates_summary.csv", encoding="utf-8-sig", dtype={"adcode": str}
        )
        by = summary.groupby("adcode")[list(CANDIDATE_SUMS.values())].sum()
        c = card[card.adcode != "total"].set_index("adcode")
        for col, field in CANDIDATE_SUMS.items():
            want = by[field].reindex(c.index).fillna(0.0)
            assert np.allclose(c[col], want), (year, col)
    assert cards[2023].gep_change_pct.isna().all()
    assert (cards[2023].change_note == NO_COMPARE_NOTE).all()
    assert cards[2024].gep_change_pct.iloc[:-1].notna().all()
    assert (cards[2024].change_note == "2023→2024").all()


def test_export_and_state_wasteland_layer(tiny_run):
    """The year's export folder (#15): the GDB and Shapefiles hold every candidates layer
    (state_wasteland too) with the same features, the workbook has a sheet per county table."""
    import geopandas as gpd
    import openpyxl
    import pyogrio

    year = tiny_run / "results" / "2024"
    layers = [n for n, _ in pyogrio.list_layers(year / "candidates.gpkg") if n != "layer_styles"]
    assert "state_wasteland" in layers
    export = year / "export"
    assert sorted(n for n, _ in pyogrio.list_layers(export / "candidates.gdb")) == sorted(layers)
    for layer in layers:
        src = gpd.read_file(year / "candidates.gpkg", layer=layer)
        assert len(gpd.read_file(export / "candidates.gdb", layer=layer)) == len(src)
        shp = gpd.read_file(export / "shp" / f"{layer}.shp")
        assert len(shp) == len(src)
        assert (export / "shp" / f"{layer}.cpg").read_text().strip() == "UTF-8"
    names = pd.read_csv(export / "shp" / "field_names.csv", encoding="utf-8-sig")
    assert names["short_name"].str.len().max() <= 10 and names["short_name"].is_unique
    wb = openpyxl.load_workbook(export / "tables.xlsx", read_only=True)
    assert len(wb.sheetnames) == 8 + 1 and wb.sheetnames[-1] == "字段说明"


def test_maps_report_and_provenance(tiny_run):
    import hashlib

    from nxgeo.provenance import read_raster_stamp

    d = tiny_run / "results" / "2024"
    maps = sorted((d / "maps").glob("*.png"))
    names = {p.stem for p in maps}
    assert {
        "overview_homestead_greening",
        "overview_mine_remediation",
        "overview_sand_control",
        "best_use",
        "landuse",
    } <= names
    assert any(n.startswith("county_") for n in names)
    assert all(p.with_suffix(".pdf").exists() for p in maps)
    html = (d / "report" / "index.html").read_text(encoding="utf-8")
    assert "<img" in html and "http://" not in html.replace("http://www.w3.org", "")
    prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
    for item in prov["inputs"].values():
        for f in item.get("files", [item]):
            p = tiny_run / f["path"] if not os.path.isabs(f["path"]) else f["path"]
            assert hashlib.sha256(Path(p).read_bytes()).hexdigest() == f["sha256"]
    stamp = read_raster_stamp(d / "reaches" / "yinchuan" / "landuse.tif")
    assert stamp and stamp["rule"] == "clip_reach" and stamp["year"] == "2024"
    # terrain is year-independent: computed once in results/common, each year holds a copy
    # that keeps the stamp of the step that computed it
    common = tiny_run / "results" / "common" / "reaches" / "yinchuan" / "slope.tif"
    assert (d / "reaches" / "yinchuan" / "slope.tif").read_bytes() == common.read_bytes()
    stamp = read_raster_stamp(common)
    assert stamp and stamp["rule"] == "terrain" and stamp["year"] is None

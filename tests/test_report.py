"""The yearly HTML report: tables match their CSVs, self-contained, escaped, opens in Chromium."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_maps import CONFIG, YEAR, build_results

from nxgeo.atomic import write_csv
from nxgeo.provenance import write_provenance
from nxgeo.report import (
    config_placeholders,
    fmt_cell,
    make_table,
    narrative,
    numbers_of,
    parse_tables,
    print_pdf,
    report_year,
    table_parts,
    table_placeholders,
)

CLASSES = [
    (1, "cropland_irrigated", "水浇耕地", "Irrigated cropland"),
    (4, "forest", "林地", "Forest"),
    (8, "water", "水域", "Water"),
]
ZONES = [("county", "640105", "西夏区"), ("county", "640122", "贺兰县"), ("reach", "r1", "测试段")]
MADE_ON = "2025-01-02"


def write_tables(year_dir: Path, water_balance: bool = True, summary: bool = True) -> dict:
    rng = np.random.default_rng(7)
    rows = []
    for kind, zid, zname in ZONES:
        for cid, cls, zh, en in CLASSES:
            ha = float(rng.uniform(10, 50_000))
            rows.append(
                {
                    "zone_kind": kind,
                    "zone_id": zid,
                    "zone_name": zname,
                    "class_id": cid,
                    "class": cls,
                    "class_zh": zh,
                    "class_en": en,
                    "area_ha": ha,
                    "area_mu": ha * 15,
                    "share": 0.0,
                }
            )
    inv = pd.DataFrame(rows)
    write_csv(inv, year_dir / "tables" / "inventory_by_class.csv")
    names = [c[1] for c in CLASSES]
    tm = pd.DataFrame(rng.uniform(0, 1000, (3, 3)), columns=names)
    tm.insert(0, "from_2023 \\ to_2024 (ha)", names)
    write_csv(tm, year_dir / "compare" / "2023_2024" / "transition_matrix.csv")
    wb = pd.DataFrame(
        {
            "adcode": ["640105", "640122"],
            "county_name": ["西夏区", "贺兰县"],
            "headroom_m3": [2.5e6, -1.0e5],
            "demand_m3": [3.0e6, 1.0e5],
            "allocated_m3": [2.4e6, 0.0],
            "left_m3": [1.0e5, -1.0e5],
        }
    )
    if water_balance:
        write_csv(wb, year_dir / "tables" / "water_balance.csv")
    cs = pd.DataFrame(
        {
            "adcode": ["640105", "640105"],
            "county_name": ["西夏区", "西夏区"],
            "pathway": ["homestead_greening", "mine_remediation"],
            "n_parcels": [6, 6],
            "n_eligible": [6, 6],
            "n_allocated": [5, 5],
            "area_ha": [39.0, 39.0],
            "area_mu": [585.0, 585.0],
            "allocated_area_ha": [30.0, 30.0],
            "new_cultivated_ha": [8.0, 0.0],
            "freed_quota_ha": [6.0, 0.0],
            "greening_increment_ha": [10.0, 10.0],
            "pv_mw": [0.0, 1.5],
            "water_allocated_m3": [1000.0, 2000.0],
            "n_hazard": [0, 1],
        }
    )
    if summary:
        write_csv(cs, year_dir / "tables" / "candidates_summary.csv")
    cmp = year_dir / "compare" / "2023_2024"
    led = pd.DataFrame(
        {
            "adcode": ["640105", "640122"],
            "name": ["西夏区", "贺兰县"],
            "year": [2024, 2024],
            "target_years": [2024, 2024],
            "in_group": [True, True],
            "gross_ha": [50.0, 5.0],
            "loss_ha": [0.0, 0.0],
            "increment_ha": [50.0, 5.0],
            "target_ha": [20.0, 30.0],
            "balance_ha": [30.0, -25.0],
            "sold_ha": [10.0, 0.0],
            "bought_ha": [0.0, 10.0],
            "after_trade_ha": [40.0, 15.0],
            "uncovered_deficit_ha": [0.0, 15.0],
            "status": ["surplus", "deficit_partly_covered"],
            "status_zh": ["有盈余", "缺口部分补足"],
        }
    )
    write_csv(led, cmp / "greening_ledger.csv")
    trades = pd.DataFrame(
        {
            "trade_id": [1],
            "seller_adcode": ["640105"],
            "seller_name": ["西夏区"],
            "buyer_adcode": ["640122"],
            "buyer_name": ["贺兰县"],
            "area_ha": [10.0],
            "price_cny_per_ha": [30000.0],
            "area_mu": [150.0],
            "value_cny": [300000.0],
            "year": [2024],
        }
    )
    write_csv(trades, cmp / "greening_trades.csv")
    prog = pd.DataFrame(
        {
            "adcode": ["640105", "合计"],
            "county_name": ["西夏区", "全区 total"],
            "pathway": ["mine_remediation", "合计"],
            "n_parcels": [3, 3],
            "area_ha": [10.0, 10.0],
            "area_mu": [150.0, 150.0],
            "cost_wan_cny": [109.5, 109.5],
            "cost_yi_cny": [0.01095, 0.01095],
            "cost_per_mu_cny": [7300.0, 7300.0],
            "budget_share": [0.25, 0.25],
        }
    )
    write_csv(prog, year_dir / "tables" / "programme_summary.csv")
    (year_dir / "validation").mkdir(parents=True, exist_ok=True)
    (year_dir / "validation" / "report.json").write_text(
        json.dumps(
            {
                "ok": True,
                "summary": "PASSED / 通过: 0 error(s)",
                "n_errors": 0,
                "n_warnings": 0,
                "problems": [],
                "checked": [
                    {
                        "item": "inputs.rasters.dem",
                        "kind": "raster",
                        "path": "data/dem.tif",
                        "crs": "EPSG:4507",
                        "shape": [80, 60],
                    }
                ],
            },
            ensure_ascii=False,
        )
    )
    return {
        "inventory": inv,
        "transition": tm,
        "water": wb,
        "summary": cs,
        "ledger": led,
        "trades": trades,
    }


def write_fake_maps(year_dir: Path) -> None:
    from PIL import Image

    maps = year_dir / "maps"
    maps.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, name in enumerate(("landuse", "best_use")):
        Image.new("RGB", (240, 340), (60 * i, 150, 90)).save(maps / f"{name}.png")
        (maps / f"{name}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        entries.append(
            {
                "name": name,
                "title_zh": f"图{i}",
                "title_en": f"Map {i}",
                "png": f"{name}.png",
                "pdf": f"{name}.pdf",
            }
        )
    Image.new("RGB", (240, 340), (9, 9, 9)).save(maps / "detail_640105_x_1.png")
    (maps / "detail_640105_x_1.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    entries.append(
        {
            "name": "detail_640105_x_1",
            "title_zh": "详图1",
            "title_en": "Detail 1",
            "png": "detail_640105_x_1.png",
            "pdf": "detail_640105_x_1.pdf",
        }
    )
    (maps / "index.json").write_text(
        json.dumps(
            {
                "maps": entries,
                "skipped": [
                    {
                        "map": "overview_sand_control",
                        "reason": "layer sand_control not in candidates.gpkg",
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = build_results(tmp_path_factory.mktemp("report") / "results", suitability=False)
    year_dir = root / str(YEAR)
    frames = write_tables(year_dir)
    write_fake_maps(year_dir)
    write_provenance(
        year_dir / "provenance.json",
        CONFIG,
        {"landuse": year_dir / "grid" / "landuse.tif"},
        dt.datetime(2025, 1, 2, 8, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 2, 9, tzinfo=dt.UTC),
        year=YEAR,
    )
    cfg = dict(
        CONFIG, region_name="测试区 <b>&amp</b> / Test <region>", note="<script>alert('x')</script>"
    )
    out = report_year(YEAR, root, cfg, year_dir / "report" / "index.html", made_on=MADE_ON)
    return out, out.read_text(encoding="utf-8"), frames


def _rows(table):
    return table[1:]


def test_inventory_table_matches_the_csv(report):
    _, text, frames = report
    tables = parse_tables(text)
    inv = frames["inventory"]
    t = tables["tbl-inventory-county"]
    header = t[0]
    assert header[:2] == ["代码 Code", "名称 Name"]
    assert header[2:5] == [f"{zh}（公顷） {en} (ha)" for _, _, zh, en in CLASSES]
    county = inv[inv["zone_kind"] == "county"]
    for row in _rows(t)[:-1]:
        zid = row[0]
        want = county[county["zone_id"] == zid].set_index("class")["area_ha"]
        got = numbers_of(row[2:])
        for (_cid, cls, _, _), value in zip(CLASSES, got):
            assert value == pytest.approx(want[cls], abs=0.05), (zid, cls)
        assert got[-1] == pytest.approx(want.sum(), abs=0.05)
    total = _rows(t)[-1]
    assert total[0] == "合计"
    assert numbers_of(total[2:])[-1] == pytest.approx(county["area_ha"].sum(), abs=0.05)
    assert len(_rows(tables["tbl-inventory-reach"])) == 2  # one reach + total


def test_transition_and_water_tables_match_the_csvs(report):
    _, text, frames = report
    tables = parse_tables(text)
    tm = frames["transition"]
    t = tables["tbl-transition-matrix"]
    assert t[0][1:] == [f"{zh}（公顷） {en} (ha)" for _, _, zh, en in CLASSES]
    for row, (_, want) in zip(_rows(t), tm.iterrows()):
        assert row[0].endswith(want.iloc[0])  # '水浇耕地 cropland_irrigated'
        assert numbers_of(row[1:]) == pytest.approx(list(want.iloc[1:]), abs=0.05)
    wb = frames["water"]
    w = tables["tbl-water"]
    assert [r[0] for r in _rows(w)] == list(wb["adcode"])
    col = w[0].index("已配置水量（万立方米） Allocated (10⁴ m³)")  # m3 shown in 万 m3
    assert [numbers_of([r[col]])[0] for r in _rows(w)] == pytest.approx(
        list(wb["allocated_m3"] / 1e4), abs=0.01
    )
    cs = tables["tbl-candidates-summary"]
    assert len(_rows(cs)) == len(frames["summary"])
    ind = tables["tbl-pathways"]
    pv_col = ind[0].index("光伏装机（MW） Solar PV (MW)")
    assert sum(numbers_of([r[pv_col]])[0] for r in _rows(ind)) == pytest.approx(1.5)


def test_report_is_self_contained_and_escaped(report):
    _, text, _ = report
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert "<region>" not in text and "Test &lt;region&gt;" in text
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "@import" not in text and "url(http" not in text and "@font-face" not in text
    srcs = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(srcs) >= 4  # 2 maps + charts
    from PIL import Image

    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            assert im.size[0] > 0
    # maps link to their PDFs beside the report; sections that have data have no skip note
    assert 'href="../maps/landuse.pdf"' in text
    # detail sheets are listed with links, not embedded
    assert 'href="../maps/detail_640105_x_1.pdf"' in text and 'alt="详图1"' not in text
    assert "overview_sand_control" in text
    assert "PASSED / 通过" in text and "config SHA-256" in text
    # config as YAML in a <pre>
    assert "<pre>" in text and "best_use_order" in text


def test_report_rerun_is_identical(report, tmp_path):
    out, text, _ = report
    root = out.parents[2]
    cfg = dict(
        CONFIG, region_name="测试区 <b>&amp</b> / Test <region>", note="<script>alert('x')</script>"
    )
    again = report_year(YEAR, root, cfg, tmp_path / "index.html", made_on=MADE_ON)
    assert again.read_text(encoding="utf-8") == text


def test_report_without_optional_inputs_notes_what_is_missing(tmp_path):
    root = build_results(tmp_path / "results", candidates=(), suitability=False)
    out = report_year(YEAR, root, CONFIG, tmp_path / "index.html", made_on=MADE_ON)
    text = out.read_text(encoding="utf-8")
    for missing in (
        "candidates_pathways.csv",
        "inventory_by_class.csv",
        "no earlier survey year",
        "gep_by_county.csv",
        "greening_ledger.csv",
        "carbon_balance.csv",
        "maps not made yet",
        "validation/report.json",
        "provenance.json",
        "no water table",
    ):
        assert missing in text, missing


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_opens_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip(
            "chromium/chromium-driver not installed (Debian packages); .ci/run installs them"
        )
    out, _, _ = report
    url = out.resolve().as_uri()
    common = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'ud'}",
        "--enable-logging=stderr",
        "--v=0",
        "--hide-scrollbars",
    ]
    shot = tmp_path / "shot.png"
    p1 = subprocess.run(
        common + [f"--screenshot={shot}", "--window-size=1280,4000", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000, p1.stderr[-2000:]
    p2 = subprocess.run(
        common + ["--virtual-time-budget=5000", "--dump-dom", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = p2.stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body, p2.stderr[-2000:]
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body.group(0)))
    assert attrs.get("data-images-ok") == "true", attrs
    assert int(attrs.get("data-images-count", "0")) >= 4
    assert attrs.get("data-js-errors", "") == ""
    for log in (p1.stderr, p2.stderr):
        assert "Uncaught" not in log and "ERROR:CONSOLE" not in log


# --- formats, headers, splitting ----------------------------------------------------------


def test_years_and_codes_have_no_thousands_separator(report):
    _, text, frames = report
    led = parse_tables(text)["tbl-greening-ledger"]
    col = led[0].index("目标年份 Target year")
    assert {r[col] for r in _rows(led)} == {"2024"}
    assert [r[0] for r in _rows(led)] == list(frames["ledger"]["adcode"])
    assert not re.search(r"\b20,2\d\b|\b2,02\d\b", text)
    assert fmt_cell(2024.0, "year") == "2024" and fmt_cell(640105, "code") == "640105"
    assert fmt_cell(12345.0, "ha") == "12,345.0"


def test_money_in_wan_and_yi_and_areas_in_wan_mu(report):
    _, text, _ = report
    tr = parse_tables(text)["tbl-greening-trades"]
    value = tr[0].index("金额（万元） Value (10⁴ CNY)")
    assert numbers_of([tr[1][value]])[0] == pytest.approx(30.0)  # 300,000 CNY = 30 万元
    mu = tr[0].index("面积（万亩） Area (10⁴ mu)")
    assert numbers_of([tr[1][mu]])[0] == pytest.approx(0.015)  # 150 mu
    # no table header shows money in plain yuan except unit prices
    for tid, rows in parse_tables(text).items():
        for h in rows[0] if rows else []:
            assert "(CNY)" not in h, (tid, h)
    assert "亿元" in text or "万元" in text
    assert fmt_cell(1.5e8, "cny_yi") == "1.50" and fmt_cell(3.0e4, "cny_wan") == "3.00"


def test_every_header_is_chinese_with_english(report):
    _, text, _ = report
    cjk = re.compile(r"[\u4e00-\u9fff]")
    skip = {"tbl-software", "tbl-inputs", "tbl-provenance"}
    for tid, rows in parse_tables(text).items():
        if tid in skip or not rows:
            continue
        for h in rows[0]:
            assert cjk.search(h), (tid, h)
    assert '<span class="zh">' in text and '<br><span class="en">' in text


def test_wide_tables_are_split_into_parts_that_keep_every_column():
    df = pd.DataFrame({f"c{i}_ha": [float(i)] for i in range(23)})
    df.insert(0, "adcode", ["640105"])
    t = make_table(df, "tbl-wide", key_cols=1, max_cols=8)
    assert all(len(p) <= 8 for p in t.parts)
    assert all(p[0] == 0 for p in t.parts)  # key column repeated
    assert sorted({i for p in t.parts for i in p}) == list(range(24))  # every column once
    assert table_parts(5, 1, 8) == [[0, 1, 2, 3, 4]]
    # printed as parts <id>, <id>-p2, ... and read back as one table
    from nxgeo.report import _env

    page = str(_env().get_template("macros.html.j2").module.table(t))
    assert 'id="tbl-wide-p4"' in page and 'id="tbl-wide-p5"' not in page
    rows = parse_tables(page)["tbl-wide"]
    assert len(rows[0]) == 24 and rows[1][0] == "640105"
    assert numbers_of(rows[1][1:]) == pytest.approx([float(i) for i in range(23)])


# --- narrative and placeholders ---------------------------------------------------------


def test_narrative_names_the_deficit_counties():
    led = pd.DataFrame(
        {
            "adcode": ["640105", "640122", "640323"],
            "name": ["西夏区", "贺兰县", "盐池县"],
            "uncovered_deficit_ha": [0.0, 12.5, 0.0],
        }
    )
    water = pd.DataFrame(
        {
            "adcode": ["640105", "640122", "640323"],
            "county_name": ["西夏区", "贺兰县", "盐池县"],
            "headroom_m3": [1e6, 5e5, -3.0e4],
        }
    )
    carbon = pd.DataFrame(
        {
            "adcode": ["640105", "640122"],
            "name": ["西夏区", "贺兰县"],
            "status": ["carbon_deficit", "carbon_surplus"],
        }
    )
    tr = pd.DataFrame(
        {
            "from_zh": ["沙地", "耕地", "沙地"],
            "to_zh": ["灌木林地", "建设用地", "沙地"],
            "area_ha": [30.0, 12.0, 999.0],
            "changed": [True, True, False],
        }
    )
    lines = narrative(ledger=led, water=water, carbon=carbon, transitions=tr, pair="2023→2024")
    text = "\n".join(lines)
    greening = next(x for x in lines if "绿化增量缺口" in x)
    assert "贺兰县" in greening and "西夏区" not in greening and "盐池县" not in greening
    dry = next(x for x in lines if "可用水量无余量" in x)
    assert "盐池县" in dry and "贺兰县" not in dry
    assert "沙地→灌木林地" in text and "999" not in text  # unchanged land is no change
    assert "碳赤字县（区）1 个" in text
    ok = narrative(ledger=led.assign(uncovered_deficit_ha=0.0))
    assert any("均达到目标" in x for x in ok)


def test_config_placeholders_are_listed_with_their_key_path():
    text = """pathways:
  mine_remediation:
    pv_mw_per_ha: 0.5        # (placeholder)
    hazard_slope_deg: 35     # flag for slope cutting
  sand_control:
    # Three-North shares (placeholder):
    three_north: {closure_share: 0.6}
    # columns: item, value, placeholder, note
    prices: config/tables/prices.csv
ledgers:
  forest_sequestration_t_co2_per_ha: 5.0    # (placeholder) for neutrality
"""
    rows = config_placeholders(text)
    keys = [r["parameter"] for r in rows]
    assert keys == [
        "pathways.mine_remediation.pv_mw_per_ha",
        "pathways.sand_control.three_north",
        "ledgers.forest_sequestration_t_co2_per_ha",
    ]
    assert rows[0]["value"] == "0.5"


def test_table_placeholders_read_the_flag_and_the_note(tmp_path):
    p = tmp_path / "prices.csv"
    p.write_text(
        "item,value,unit,source,placeholder,note\ncarbon_co2,100,CNY/t CO2,ETS,yes,\n"
        "water,6.11,CNY/m3,LY/T 1721,no,\n",
        encoding="utf-8",
    )
    rows = table_placeholders(p)
    assert [r["parameter"] for r in rows] == ["carbon_co2"] and rows[0]["value"] == "100"
    q = tmp_path / "water_demand.csv"
    q.write_text(
        "use,demand_m3_per_ha,note\ncropland,4500,placeholder: 300 m3/mu\nforest,0,measured\n",
        encoding="utf-8",
    )
    rows = table_placeholders(q)
    assert len(rows) == 1 and rows[0]["parameter"].startswith("cropland")


def test_report_lists_the_shipped_placeholders(tmp_path):
    import glob

    root = build_results(tmp_path / "results", candidates=(), suitability=False)
    from nxgeo.report import inputs_from_results

    ROOT = Path(__file__).resolve().parents[1]
    inputs = inputs_from_results(
        root,
        YEAR,
        config_files=[ROOT / "config" / "config.yaml"],
        config_tables=sorted(glob.glob(str(ROOT / "config/tables/*.csv"))),
    )
    text = report_year(YEAR, inputs, CONFIG, tmp_path / "index.html", made_on=MADE_ON).read_text(
        encoding="utf-8"
    )
    rows = parse_tables(text)["tbl-placeholders"]
    params = [r[0] for r in rows[1:]]
    assert "pathways.mine_remediation.pv_mw_per_ha" in params
    assert "carbon_co2" in params  # prices.csv, flag yes


def test_programme_section_in_wan_and_per_mu(report):
    _, text, _ = report
    t = parse_tables(text)["tbl-programme"]
    cost = t[0].index("费用（万元） Cost (10⁴ CNY)")
    per_mu = t[0].index("亩均费用（元/亩） Cost per mu (CNY/mu)")
    share = t[0].index("占预算（%） Share of budget (%)")
    assert numbers_of([t[1][cost], t[1][per_mu], t[1][share]]) == [109.5, 7300.0, 25.0]
    assert t[1][2] == "矿山生态修复（历史遗留与矿权人责任）" and t[2][0] == "合计"


def test_two_greening_increments_are_told_apart(report):
    _, text, _ = report
    assert "候选潜在绿化增量" in text and "观测净绿化增量" in text
    assert "不可相加" in text


# --- the PDF -------------------------------------------------------------------------------


def _pdf_text(path: Path) -> str:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (test dependency) reads the PDF's text")
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)


def _squash(s: str) -> str:
    """Whitespace removed, ligatures and CJK radicals of the PDF text normalised (NFKC)."""
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def test_report_pdf_has_every_section_and_every_column(report, tmp_path):
    if _chromium() is None:
        pytest.skip("chromium not installed (Debian package); .ci/run installs it")
    out, text, _ = report
    pdf = print_pdf(out, tmp_path / "report.pdf", made_on=MADE_ON)
    assert pdf is not None and pdf.read_bytes()[:5] == b"%PDF-"
    body = _squash(_pdf_text(pdf))
    from nxgeo.report import SECTIONS

    for sid, _ in SECTIONS:
        m = re.search(rf'<h2 id="{sid}">.*?<span class="en">([^<]+)</span>', text)
        assert m, sid
        assert _squash(html_unescape(m.group(1))) in body, sid
    # no table is cut: each table's English column headers, in the HTML and in the PDF text
    heads = re.findall(
        r'<table class="data" id="([^"]+)"[^>]*>\s*<thead><tr>(.*?)</tr>', text, re.DOTALL
    )
    assert len(heads) > 10
    for tid, row in heads:
        en = [html_unescape(h) for h in re.findall(r'<span class="en">([^<]*)</span>', row)]
        found = [h for h in en if _squash(h.split(" (")[0]) in body]
        assert len(found) == len(en), (tid, sorted(set(en) - set(found)))
    # same page, same bytes (Chromium's dates replaced by the made-on date)
    again = print_pdf(out, tmp_path / "again.pdf", made_on=MADE_ON)
    assert again.read_bytes() == pdf.read_bytes()


def html_unescape(s: str) -> str:
    import html

    return html.unescape(s)


def test_print_pdf_without_chromium_writes_nothing(report, tmp_path, monkeypatch, caplog):
    import nxgeo.report as rep

    out, _, _ = report
    monkeypatch.setattr(rep, "find_chromium", lambda: None)
    assert print_pdf(out, tmp_path / "r.pdf") is None
    assert not (tmp_path / "r.pdf").exists()
    assert "chromium not found" in caplog.text


def test_report_opens_with_the_county_scorecard_when_it_exists(tmp_path):
    from nxgeo.scorecard import REPORT_COLUMNS

    root = build_results(tmp_path / "results", candidates=(), suitability=False)
    row = {c: 12.5 for c in REPORT_COLUMNS} | {
        "county_name": "西夏区",
        "adcode": "640105",
        "water_headroom_m3": 2.5e6,
    }
    write_csv(pd.DataFrame([row]), root / str(YEAR) / "tables" / "county_scorecard.csv")
    text = report_year(YEAR, root, CONFIG, tmp_path / "index.html", made_on=MADE_ON).read_text(
        encoding="utf-8"
    )
    assert 'id="tbl-county-indicators"' not in text
    t = parse_tables(text)["tbl-scorecard"]
    assert t[0][0] == "县区 County" and "森林覆盖率（%） Forest cover (%)" in t[0]
    col = t[0].index("可用水量余量（万立方米） Water headroom (10⁴ m³)")
    assert numbers_of([t[1][col]]) == [250.0]
    assert text.index('id="tbl-scorecard"') < text.index('id="gep"')

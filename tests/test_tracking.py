"""Parcels from year to year (#19): ids carried by overlap, the candidate diff, the cumulative
progress (nxgeo.tracking, docs/tracking.md)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin
from shapely.geometry import box

from nxgeo.candidates.ids import location_ids
from nxgeo.errors import ConfigError
from nxgeo.tracking import (
    candidates_diff,
    carry_ids,
    cumulative_progress,
    diff_summary,
    match,
    overlaps,
)

CFG = {"min_share": 0.6, "parent_share": 0.1, "restored_share": 0.8, "progress_min_share": 0.1}
CRS = "EPSG:4507"


def frame(rows):
    """rows: (parcel_id, pathway, geometry)."""
    return gpd.GeoDataFrame(
        {"parcel_id": [r[0] for r in rows], "pathway": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


def test_shifted_parcel_keeps_its_id_where_the_location_label_flips():
    # a 300 m x 300 m sand unit whose centroid sits 1 m from a 100 m snapping midpoint
    a_geom = box(500_000 + 49.0 - 150, 4_000_000 - 150, 500_000 + 49.0 + 150, 4_000_000 + 150)
    b_geom = shapely.affinity.translate(a_geom, 12.0, 0.0)  # less than half a 30 m pixel
    la = location_ids("C", ["640323"], [a_geom])[0]
    lb = location_ids("C", ["640323"], [b_geom])[0]
    assert la != lb  # the place label alone would give a new id
    out = carry_ids(
        frame([(la, "sand_control", a_geom)]), frame([(lb, "sand_control", b_geom)]), CFG
    )
    assert out["parcel_id"].tolist() == [la]
    assert out["id_origin"].tolist() == ["carried"]
    assert out["parent_ids"].tolist() == [""]


def test_split_parts_name_their_parent_and_get_new_ids():
    a = frame([("C-1", "sand_control", box(0, 0, 1000, 1000))])
    b = frame(
        [
            ("C-1", "sand_control", box(0, 0, 500, 1000)),  # same label as the parent
            ("C-2", "sand_control", box(500, 0, 1000, 1000)),
        ]
    )
    out = carry_ids(a, b, CFG)
    assert set(out["id_origin"]) == {"split"}
    assert out["parent_ids"].tolist() == ["C-1", "C-1"]
    # the parent's label is never reused for a part (it names the parent)
    assert "C-1" not in set(out["parcel_id"]) and out["parcel_id"].is_unique


def test_merge_names_both_parents_and_a_shrunk_remainder_keeps_the_id():
    a = frame(
        [
            ("C-1", "sand_control", box(0, 0, 1000, 1000)),
            ("C-2", "sand_control", box(1000, 0, 2000, 1000)),
            ("C-3", "sand_control", box(5000, 0, 6000, 1000)),
        ]
    )
    b = frame(
        [
            ("C-9", "sand_control", box(0, 0, 2000, 1000)),  # C-1 + C-2 merged
            ("C-8", "sand_control", box(5000, 0, 5700, 1000)),  # 70 % of C-3
            ("C-3", "sand_control", box(5700, 0, 6000, 1000)),
        ]
    )  # 30 % fragment of C-3
    out = carry_ids(a, b, CFG).set_index(b.index)
    assert out.loc[0, "id_origin"] == "merged" and out.loc[0, "parent_ids"] == "C-1;C-2"
    assert out.loc[1, "parcel_id"] == "C-3" and out.loc[1, "id_origin"] == "carried"
    assert out.loc[2, "id_origin"] == "split" and out.loc[2, "parent_ids"] == "C-3"
    assert out.loc[2, "parcel_id"].startswith("C-3-")  # own label, made unique


def test_source_ids_and_other_pathways_are_never_matched():
    g = box(0, 0, 100, 100)
    a = frame([("A-HS-000001", "homestead_greening", g), ("C-1", "sand_control", g)])
    b = frame([("A-HS-000002", "homestead_greening", g), ("W-7", "state_wasteland", g)])
    out = carry_ids(a, b, CFG)
    assert out["parcel_id"].tolist() == ["A-HS-000002", "W-7"]
    assert out["id_origin"].tolist() == ["source", "new"]


def test_no_previous_year_keeps_every_id():
    b = frame([("C-1", "sand_control", box(0, 0, 10, 10))])
    out = carry_ids(None, b, CFG)
    assert out["parcel_id"].tolist() == ["C-1"] and out["id_origin"].tolist() == ["new"]


def test_bad_shares_are_refused():
    with pytest.raises(ConfigError, match="tracking.min_share"):
        carry_ids(None, frame([]), {**CFG, "min_share": 1.5})


rect = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(1, 8), st.integers(1, 8))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(rect, min_size=1, max_size=8),
    st.lists(rect, min_size=1, max_size=8),
    st.sampled_from([0.3, 0.5, 0.6, 0.9]),
)
def test_matching_is_one_to_one_and_above_the_share(ra, rb, share):
    ga = [box(x, y, x + w, y + h) for x, y, w, h in ra]
    gb = [box(x, y, x + w, y + h) for x, y, w, h in rb]
    area_a, area_b = shapely.area(ga), shapely.area(gb)
    ia, ib, ov = overlaps(ga, gb)
    m = match(area_a, area_b, ia, ib, ov, share)
    assert len(set(m.values())) == len(m)  # one-to-one
    for j, i in m.items():
        o = shapely.area(shapely.intersection(ga[i], gb[j]))
        assert o >= share * area_a[i] - 1e-9 and o >= share * area_b[j] - 1e-9
    # carried ids are unique and every B parcel gets an id
    a = frame([(f"C-a{i}", "sand_control", g) for i, g in enumerate(ga)])
    b = frame([(f"C-b{i}", "sand_control", g) for i, g in enumerate(gb)])
    out = carry_ids(a, b, {**CFG, "min_share": share})
    assert out["parcel_id"].is_unique
    assert (out["id_origin"] == "carried").sum() == len(m)


# ----------------------------------------------------------------------------- the diff
CLASSES = "config/landuse/classes.csv"  # 4 forest, 6 grassland, 12 sandy, 10 rural_homestead
TARGETS = {
    "forest": {"class": "forest"},
    "grass": {"class": "grassland"},
    "closed_protection": {"class": "current"},
    "shrub": {"class": "shrub"},
}


def _tif(path, arr):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype="uint8",
        crs=CRS,
        transform=from_origin(0, 100, 10, 10),
        nodata=0,
    ) as dst:
        dst.write(arr.astype("uint8"), 1)
    return path


def _cand(rows):
    """rows: parcel_id, x0, target, allocated, eligible, reason, parent_ids."""
    cols = [
        "parcel_id",
        "x0",
        "recommended_target",
        "allocated",
        "eligible",
        "reason",
        "parent_ids",
    ]
    df = pd.DataFrame(rows, columns=cols)
    geoms = [box(x, 0, x + 10, 100) for x in df["x0"]]  # one 10 m column each
    df = df.drop(columns="x0").assign(
        pathway="sand_control", adcode="640323", county_name="盐池县", area_ha=0.1
    )
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


def test_hand_built_two_years_give_one_parcel_of_each_status(tmp_path):
    from nxgeo.vector_io import write_layers

    # columns (10 m each): 0 restored, 1 in progress, 2 unchanged, 3 changed, 4 dropped for
    # water, 5 vanished (not a candidate any more), 6 new in year B, 7 restored by the year-B
    # decision (already_restored) although the land use shows no change
    la = np.full((10, 10), 12)
    lb = la.copy()
    lb[:, 0] = 4  # sand -> forest: restored
    lb[:3, 1] = 4  # 30 % forest: in progress
    lb[:, 5] = 6  # now grassland, no longer a sand candidate
    a = _cand(
        [
            ("C-0", 0, "forest", 1, 1, "", ""),
            ("C-1", 10, "forest", 1, 1, "", ""),
            ("C-2", 20, "shrub", 1, 1, "", ""),
            ("C-3", 30, "shrub", 1, 1, "", ""),
            ("C-4", 40, "shrub", 1, 1, "", ""),
            ("C-5", 50, "shrub", 1, 1, "", ""),
            ("C-7", 70, "shrub", 1, 1, "", ""),
        ]
    )
    b = _cand(
        [
            ("C-1", 10, "forest", 1, 1, "", ""),
            ("C-2", 20, "shrub", 1, 1, "", ""),
            ("C-3", 30, "grass", 1, 1, "", ""),
            ("C-4", 40, "shrub", 0, 1, "water_budget", ""),
            ("C-6", 60, "shrub", 1, 1, "", "C-5"),
            ("C-7", 70, "shrub", 0, 0, "already_restored", ""),
        ]
    )
    write_layers(tmp_path / "a.gpkg", {"sand_control": a})
    write_layers(tmp_path / "b.gpkg", {"sand_control": b})
    out = {k: tmp_path / f"{k}" for k in ("d.gpkg", "d.csv", "s.csv")}
    candidates_diff(
        tmp_path / "a.gpkg",
        tmp_path / "b.gpkg",
        _tif(tmp_path / "la.tif", la),
        _tif(tmp_path / "lb.tif", lb),
        CLASSES,
        TARGETS,
        CFG,
        15,
        out["d.gpkg"],
        out["d.csv"],
        out["s.csv"],
    )
    d = pd.read_csv(out["d.csv"], encoding="utf-8-sig").set_index("parcel_id")
    assert d["status"].to_dict() == {
        "C-0": "restored",
        "C-1": "in_progress",
        "C-2": "unchanged",
        "C-3": "changed",
        "C-4": "dropped",
        "C-5": "dropped",
        "C-6": "new",
        "C-7": "restored",
    }
    assert d.loc["C-4", "reason"] == "water"
    assert (
        d.loc["C-5", "reason"].startswith("not_a_candidate")
        and "grassland" in d.loc["C-5", "reason"]
    )
    assert "shrub -> grass" in d.loc["C-3", "reason"]
    assert d.loc["C-6", "parent_ids"] == "C-5"
    assert d.loc["C-0", "target_share_b"] == pytest.approx(1.0)
    assert d.loc["C-1", "target_share_b"] == pytest.approx(0.3)
    s = pd.read_csv(out["s.csv"], encoding="utf-8-sig")
    assert s["n_restored"].sum() == 2 and s["restored_ha"].sum() == pytest.approx(0.2)
    assert s["restored_mu"].sum() == pytest.approx(3.0)
    layer = gpd.read_file(out["d.gpkg"], layer="candidates_diff")
    assert len(layer) == 8 and layer.crs.to_epsg() == 4507


def test_a_target_that_keeps_the_class_is_never_seen_restored(tmp_path):
    from nxgeo.vector_io import write_layers

    la = np.full((10, 10), 12)
    a = _cand([("C-0", 0, "closed_protection", 1, 1, "", "")])
    write_layers(tmp_path / "a.gpkg", {"sand_control": a})
    write_layers(tmp_path / "b.gpkg", {"sand_control": a})
    p = _tif(tmp_path / "l.tif", la)
    candidates_diff(
        tmp_path / "a.gpkg",
        tmp_path / "b.gpkg",
        p,
        p,
        CLASSES,
        TARGETS,
        CFG,
        15,
        tmp_path / "d.gpkg",
        tmp_path / "d.csv",
        tmp_path / "s.csv",
    )
    d = pd.read_csv(tmp_path / "d.csv", encoding="utf-8-sig")
    assert d["status"].tolist() == ["unchanged"]


def test_cumulative_progress_sums_the_chain_against_the_target():
    def summ(ha):
        d = pd.DataFrame(
            {
                "parcel_id": ["x"],
                "pathway": ["sand_control"],
                "adcode": ["640323"],
                "county_name": ["盐池县"],
                "status": ["restored"],
                "area_ha": [ha],
            }
        )
        return diff_summary(d, 15)

    targets = pd.DataFrame(
        {"adcode": ["640323"] * 3, "year": [2022, 2023, 2024], "target_ha": [99.0, 10.0, 30.0]}
    )
    out = cumulative_progress(
        [summ(4.0), summ(6.0)], [(2022, 2023), (2023, 2024)], targets, 2024, 15
    )
    r = out.iloc[0]
    assert r["restored_ha"] == pytest.approx(10.0) and r["restored_mu"] == pytest.approx(150.0)
    assert r["since_year"] == 2022 and r["to_year"] == 2024
    assert r["greening_target_ha"] == pytest.approx(40.0)  # 2023 + 2024, not the base year
    assert r["target_reached_share"] == pytest.approx(0.25)


@pytest.mark.workflow
def test_the_sample_run_tracks_parcels_from_2023_to_2024(tiny_run):
    d = pd.read_csv(
        tiny_run / "results/2024/compare/2023_2024/candidates_diff.csv",
        encoding="utf-8-sig",
        dtype={"adcode": str},
    )
    assert len(d) and set(d["status"]) <= {
        "restored",
        "in_progress",
        "unchanged",
        "changed",
        "new",
        "dropped",
    }
    assert (d.loc[d["status"] == "dropped", "reason"] != "").all()
    b = gpd.read_file(tiny_run / "results/2024/candidates.gpkg", layer="sand_control")
    assert "parent_ids" in b.columns and set(b["id_origin"]) <= {
        "carried",
        "split",
        "merged",
        "new",
        "source",
    }
    assert (b["id_origin"] == "carried").any()
    p = pd.read_csv(tiny_run / "results/2024/tables/cumulative_progress.csv", encoding="utf-8-sig")
    assert {"restored_ha", "greening_target_ha"} <= set(p.columns) or len(p) == 0


def test_report_section_since_last_year_counts_statuses_and_reasons(tmp_path):
    from nxgeo.report import Ctx, section_tracking

    d = pd.DataFrame(
        {
            "parcel_id": ["a", "b", "c", "d"],
            "pathway": ["sand_control"] * 4,
            "adcode": ["640323"] * 4,
            "county_name": ["盐池县"] * 4,
            "status": ["restored", "dropped", "dropped", "new"],
            "reason": [
                "forest on 90% of the parcel",
                "water",
                "no_longer_eligible (already_restored)",
                "new parcel",
            ],
            "area_ha": [1.0, 2.0, 3.0, 4.0],
        }
    )
    d.to_csv(tmp_path / "d.csv", index=False)
    diff_summary(d, 15).to_csv(tmp_path / "s.csv", index=False)
    c = Ctx(
        2024,
        {"candidates_diff": tmp_path / "d.csv", "candidates_diff_summary": tmp_path / "s.csv"},
        {},
        {},
        "2023_2024",
    )
    sec = section_tracking(c)
    kinds = [b.kind for b in sec.blocks]
    assert kinds[:3] == ["kpis", "table", "table"]
    kp = {k["en"]: k["v"] for k in sec.blocks[0].data}
    assert kp.get("Parcels restored") == "1" and kp.get("Parcels dropped") == "2"
    drop = sec.blocks[2].data
    text = str(getattr(drop, "rows", drop))
    assert "water" in text and "no_longer_eligible" in text
    assert section_tracking(Ctx(2023, {}, {}, {}, None)).blocks[0].kind == "note"

"""Suitability overlay: transforms, combinations, constraints with reasons, specs, best use,
and the block-wise file driver."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import rasterio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rasterio.transform import Affine

from nxgeo.config import load_yaml
from nxgeo.errors import ConfigError
from nxgeo.suitability import (
    GRADE_EXCLUDED,
    GRADE_MODERATE,
    GRADE_NODATA,
    GRADE_SUITABLE,
    GRADE_UNSUITABLE,
    REASON_BIT,
    best_use,
    best_use_order,
    decode_reasons,
    evaluate_target,
    fuzzy,
    grade,
    grade_score,
    grades,
    land_water_matrix,
    linear,
    lookup,
    minimum,
    spec_problems,
    suitability_files,
    weighted_sum,
    write_reason_legend,
)
from nxgeo.suitability.files import read_outputs
from nxgeo.suitability.spec import KNOWN_LAYERS, MASK_LAYERS

NAN = np.nan
CFG = load_yaml("config/config.yaml")
SUIT = CFG["suitability"]
CLASSES = pd.read_csv("config/landuse/classes.csv")
CID = dict(zip(CLASSES["canonical"], CLASSES["class_id"]))


def eq(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-4)


# --- transforms --------------------------------------------------------------------------
def test_grades_slope_breaks_value_at_break_gets_better_grade():
    x = [0, 2, 2.0001, 6, 6.5, 15, 15.1, 25, 25.1, 80, NAN]
    eq(grades(x, [2, 6, 15, 25]), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0])


def test_grades_precipitation_descending():
    x = [1500, 1200, 1199.9, 800, 799, 400, 399.9, 200, 199.9, 0, NAN]
    eq(grades(x, [1200, 800, 400, 200], descending=True), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0])


def test_grades_water_quota_modulus_descending():
    x = [30, 25, 24.9, 13, 12.9, 8, 7.9, 3, 2.9]
    eq(grades(x, [25, 13, 8, 3], descending=True), [1, 1, 2, 2, 3, 3, 4, 4, 5])


def test_grades_reject_unordered_breaks():
    with pytest.raises(ValueError, match="increasing"):
        grades([1.0], [2, 15, 6, 25])
    with pytest.raises(ValueError, match="decreasing"):
        grades([1.0], [200, 400, 800, 1200], descending=True)


def test_grade_score_mapping():
    close(grade_score([1, 2, 3, 4, 5, 0]), [100, 75, 50, 25, 0, NAN])
    assert grade_score([1]).dtype == np.float32


def test_linear_increasing_and_decreasing():
    close(linear([-1, 0, 5, 10, 11, NAN], 0, 10), [0, 0, 50, 100, 100, NAN])
    close(linear([40, 35, 20, 5, 0], 35, 5), [0, 0, 50, 100, 100])
    assert linear([1.0], 0, 10).dtype == np.float32
    with pytest.raises(ValueError):
        linear([1.0], 5, 5)


def test_fuzzy_trapezoid():
    x = [5, 10, 15, 20, 25, 30, 35, 40, 45, NAN]
    close(fuzzy(x, [10, 20, 30, 40]), [0, 0, 50, 100, 100, 100, 50, 0, 0, NAN])


def test_fuzzy_vertical_edges():
    close(fuzzy([9.99, 10, 30, 30.01], [10, 10, 30, 30]), [0, 100, 100, 0])
    with pytest.raises(ValueError, match="ascending"):
        fuzzy([1.0], [10, 30, 20, 40])


def test_lookup_by_class():
    ids = np.array([0, CID["sandy"], CID["bare"], CID["cropland_irrigated"], 99], dtype=np.uint8)
    close(lookup(ids, {"sandy": 100, "bare": 90}, 5, CLASSES), [NAN, 100, 90, 5, NAN])
    with pytest.raises(ValueError, match="desert"):
        lookup(ids, {"desert": 100}, 0, CLASSES)


# --- combination -------------------------------------------------------------------------
def test_weighted_sum():
    close(
        weighted_sum([np.array([0, 100, NAN]), np.array([100, 50, 10])], [0.25, 0.75]),
        [75, 62.5, NAN],
    )
    with pytest.raises(ValueError, match="sum to 1.1"):
        weighted_sum([np.array([1.0]), np.array([1.0])], [0.5, 0.6])


def test_minimum_weakest_plank():
    close(
        minimum([np.array([10, 80, NAN]), np.array([30, 20, 50]), np.array([90, 90, 90])]),
        [10, 20, NAN],
    )


# docs/domain.md §4, typed out independently of config: rows land grade, columns water grade.
DOMAIN_MATRIX = {
    1: [1, 1, 1, 2, 5],
    2: [1, 1, 2, 3, 5],
    3: [2, 2, 3, 4, 5],
    4: [3, 4, 4, 5, 5],
    5: [5, 5, 5, 5, 5],
}
DOMAIN_CLASS = {
    1: GRADE_SUITABLE,
    2: GRADE_SUITABLE,
    3: GRADE_MODERATE,
    4: GRADE_MODERATE,
    5: GRADE_UNSUITABLE,
}


@pytest.mark.parametrize("land,water", [(lg, wg) for lg in range(1, 6) for wg in range(1, 6)])
def test_land_water_matrix_every_cell(land, water):
    expected = DOMAIN_MATRIX[land][water - 1]
    eq(
        land_water_matrix(np.array([land]), np.array([water]), SUIT["land_water_matrix"]),
        [expected],
    )
    # end to end through the cropland target: slope gives the land grade, precipitation the
    # water grade (no secured water): the class is the DOMAIN class of the matrix grade
    slope = {1: 1.0, 2: 4.0, 3: 10.0, 4: 20.0, 5: 30.0}[land]
    precip = {1: 1300.0, 2: 1000.0, 3: 600.0, 4: 300.0, 5: 100.0}[water]
    tcfg = copy.deepcopy(SUIT["targets"]["cropland"])
    tcfg["constraints"].pop("max_slope_deg")  # keep slope 30 gradable here
    layers = base_layers((1, 1), slope=slope, precipitation=precip)
    score, g, reasons = evaluate_target(layers, "cropland", tcfg, SUIT, CLASSES)
    assert reasons[0, 0] == 0
    assert g[0, 0] == DOMAIN_CLASS[expected]
    assert score[0, 0] == SUIT["matrix_grade_scores"][expected - 1]


def test_land_water_matrix_nodata_grade():
    eq(
        land_water_matrix(np.array([0, 2, 3]), np.array([1, 0, 2]), SUIT["land_water_matrix"]),
        [0, 0, 2],
    )


def test_cropland_water_grade_uses_modulus_only_where_water_secured():
    # 180 mm precipitation = water grade 5; modulus 30 = grade 1; slope 1 deg = land grade 1
    layers = base_layers((1, 2), slope=1.0, precipitation=180.0, water_quota_modulus=30.0)
    layers["water_secured"] = np.array([[True, False]])
    score, g, _ = evaluate_target(layers, "cropland", SUIT["targets"]["cropland"], SUIT, CLASSES)
    eq(g, [[GRADE_SUITABLE, GRADE_UNSUITABLE]])  # matrix[1][1] = 1, matrix[1][5] = 5
    eq(score, [[100, 0]])


# --- helpers -----------------------------------------------------------------------------
def base_layers(shape, **values):
    """Every known layer, benign defaults (no constraint applies), overridable by name."""
    defaults = {
        "slope": 3.0,
        "elevation": 1500.0,
        "precipitation": 500.0,
        "distance_water": 1000.0,
        "distance_roads": 500.0,
        "distance_settlements": 2000.0,
        "ls": 1.0,
        "water_quota_modulus": 10.0,
        "soil_k": 0.03,
        "sand_fraction": 0.2,
    }
    layers = {}
    for n in KNOWN_LAYERS:
        if n in MASK_LAYERS:
            layers[n] = np.zeros(shape, bool)
        elif n == "landuse":
            layers[n] = np.full(shape, CID["grassland"], np.uint8)
        else:
            layers[n] = np.full(shape, defaults[n], np.float32)
    for k, v in values.items():
        layers[k] = np.broadcast_to(np.asarray(v, dtype=layers[k].dtype), shape).copy()
    return layers


def simple_suit(**target):
    t = {
        "combine": "weighted_sum",
        "criteria": [
            {"layer": "slope", "transform": "linear", "low": 30, "high": 0, "weight": 1.0}
        ],
        "constraints": {},
    }
    t.update(target)
    suit = copy.deepcopy(SUIT)
    suit["targets"] = {"t": t}
    suit["best_use_order"] = ["t"]
    return suit


# --- constraints and reasons -------------------------------------------------------------
def test_each_constraint_sets_its_bit_and_all_bits_are_kept():
    suit = simple_suit(
        constraints={
            "not_convertible_from": ["built"],
            "exclude_zones": [
                "protected_core",
                "protected_any",
                "ecological_redline",
                "basic_farmland",
            ],
            "max_slope_deg": 25,
            "precipitation_rule": {"min_mm": 400, "unless": "water_secured"},
            "buffers": [
                {"layer": "distance_water", "min_m": 50},
                {"layer": "distance_roads", "max_m": 5000},
            ],
        }
    )
    n = 12
    layers = base_layers((1, n))
    lu, s, p, dw, dr = (
        layers[k][0]
        for k in ("landuse", "slope", "precipitation", "distance_water", "distance_roads")
    )
    lu[0] = CID["built"]
    layers["protected_core"][0, 1] = True
    layers["protected_any"][0, 2] = True
    layers["ecological_redline"][0, 3] = True
    layers["basic_farmland"][0, 4] = True
    s[5] = 25.5
    s[6] = 25.0  # exactly at the limit: allowed
    p[7] = 399.0
    dw[8] = 49.0
    dw[9] = 50.0  # exactly min_m: allowed
    dr[10] = 5001.0
    lu[11] = CID["built"]  # several causes at once
    layers["protected_core"][0, 11] = True
    layers["basic_farmland"][0, 11] = True
    p[11] = 100.0
    score, g, r = evaluate_target(layers, "t", suit["targets"]["t"], suit, CLASSES)
    expected = [
        ["class_not_convertible"],
        ["protected_core"],
        ["protected_any"],
        ["ecological_redline"],
        ["basic_farmland"],
        ["slope_limit"],
        [],
        ["precipitation_rule"],
        ["buffer"],
        [],
        ["buffer"],
        ["class_not_convertible", "protected_core", "basic_farmland", "precipitation_rule"],
    ]
    assert [decode_reasons(v) for v in r[0]] == expected
    for i, exp in enumerate(expected):
        if exp:
            assert g[0, i] == GRADE_EXCLUDED and score[0, i] == 0, i
        else:
            assert g[0, i] != GRADE_EXCLUDED and score[0, i] == np.floor(
                100 * (30 - s[i]) / 30 + 0.5
            ), i
    eq(g[0, [6, 9]], [GRADE_UNSUITABLE, GRADE_SUITABLE])  # slope 25 -> score 17; slope 3 -> 90
    assert r.dtype == np.uint16 and g.dtype == np.uint8 and score.dtype == np.uint8


def test_nodata_alone_is_255_but_nodata_with_a_cause_is_excluded():
    suit = simple_suit(constraints={"exclude_zones": ["basic_farmland"]})
    layers = base_layers((1, 4))
    layers["slope"][0, 0] = NAN
    layers["landuse"][0, 1] = 0  # outside the study area: nodata even in a zone
    layers["basic_farmland"][0, 1] = True
    layers["slope"][0, 2] = NAN
    layers["basic_farmland"][0, 2] = True
    score, g, r = evaluate_target(layers, "t", suit["targets"]["t"], suit, CLASSES)
    eq(g[0], [GRADE_NODATA, GRADE_NODATA, GRADE_EXCLUDED, GRADE_SUITABLE])
    eq(score[0], [255, 255, 0, 90])
    assert decode_reasons(r[0, 2]) == ["basic_farmland", "nodata"]
    assert decode_reasons(r[0, 0]) == ["nodata"] and decode_reasons(r[0, 1]) == ["nodata"]


def test_uint8_masks_are_accepted():
    suit = simple_suit(constraints={"exclude_zones": ["protected_core"]})
    layers = base_layers((1, 3))
    layers["protected_core"] = np.array([[1, 0, 255]], np.uint8)  # 1 = inside only
    _, g, _ = evaluate_target(layers, "t", suit["targets"]["t"], suit, CLASSES)
    eq(g[0], [GRADE_EXCLUDED, GRADE_SUITABLE, GRADE_SUITABLE])


def test_grade_function_thresholds():
    s = np.array([100, 70, 69, 40, 39, 0, 255], np.uint8)
    eq(grade(s, None, SUIT["grade_breaks"]), [1, 1, 2, 2, 3, 3, 255])
    eq(grade(np.array([69.5, 69.4, NAN]), None, (70, 40)), [1, 2, 255])  # half up
    r = np.array([0, 1, 256, 257, 0, 0, 0], np.uint16)
    eq(grade(s, r, (70, 40)), [1, 4, 255, 4, 3, 3, 255])


def test_reason_legend_files(tmp_path):
    csv_path, json_path = write_reason_legend(tmp_path / "reason_legend.csv")
    df = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert list(df["code"]) == [
        "class_not_convertible",
        "protected_core",
        "protected_any",
        "ecological_redline",
        "basic_farmland",
        "slope_limit",
        "precipitation_rule",
        "buffer",
        "nodata",
        "official_evaluation",
    ]
    assert list(df["value"]) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["dtype"] == "uint16" and len(data["bits"]) == 10
    assert "生态保护红线" in csv_path.read_text(encoding="utf-8-sig")


# --- property: hard constraints always win ------------------------------------------------
def _resolve(v):
    return float(SUIT[v]) if isinstance(v, str) else float(v)


def expected_causes(tcfg, layers):
    """{reason code: mask} from the raw config, written independently of the parser."""
    c = tcfg.get("constraints") or {}
    out = {}
    ids = [CID[n] for n in c.get("not_convertible_from", [])]
    out["class_not_convertible"] = np.isin(layers["landuse"], ids)
    for z in c.get("exclude_zones", []):
        out[z] = layers[z]
    with np.errstate(invalid="ignore"):
        if "max_slope_deg" in c:
            out["slope_limit"] = layers["slope"] > _resolve(c["max_slope_deg"])
        if "precipitation_rule" in c:
            pr = c["precipitation_rule"]
            m = layers["precipitation"] < _resolve(pr["min_mm"])
            if pr.get("unless"):
                m &= ~layers[pr["unless"]]
            out["precipitation_rule"] = m
        for b in c.get("buffers", []):
            d = layers[b["layer"]]
            m = np.zeros(d.shape, bool)
            if "min_m" in b:
                m |= d < b["min_m"]
            if "max_m" in b:
                m |= d > b["max_m"]
            out["buffer"] = out.get("buffer", m) | m
    return out


@st.composite
def random_layers(draw):
    h = draw(st.integers(1, 8))
    w = draw(st.integers(1, 8))
    shape = (h, w)

    def floats(lo, hi):
        a = draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi))).astype(np.float32)
        for i in draw(st.lists(st.integers(0, h * w - 1), max_size=2)):  # a few nodata pixels
            a.flat[i] = np.nan
        return a

    layers = {
        "slope": floats(0, 60),
        "elevation": floats(900, 3500),
        "precipitation": floats(100, 800),
        "distance_water": floats(0, 20000),
        "distance_roads": floats(0, 20000),
        "distance_settlements": floats(0, 30000),
        "ls": floats(0, 20),
        "water_quota_modulus": floats(0, 40),
        "soil_k": floats(0, 0.1),
        "sand_fraction": floats(0, 1),
        "landuse": draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, 13))),
    }
    for m in MASK_LAYERS:  # about one pixel in four inside each mask
        layers[m] = draw(
            hnp.arrays(np.bool_, shape, elements=st.sampled_from([False, False, False, True]))
        )
    return layers


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=random_layers(), target=st.sampled_from(sorted(SUIT["targets"])))
def test_property_constraints_always_exclude_and_grade_respects_thresholds(layers, target):
    tcfg = SUIT["targets"][target]
    score, g, r = evaluate_target(layers, target, tcfg, SUIT, CLASSES)
    any_cause = np.zeros(g.shape, bool)
    in_area = layers["landuse"] != 0  # land use 0 = outside the study area: nodata
    assert (g[~in_area] == GRADE_NODATA).all() and (r[~in_area] == REASON_BIT["nodata"]).all()
    for code, mask in expected_causes(tcfg, layers).items():
        mask = np.asarray(mask, bool) & in_area
        any_cause |= mask
        assert (g[mask] == GRADE_EXCLUDED).all(), code
        assert ((r[mask] & REASON_BIT[code]) != 0).all(), code
    assert (g[~any_cause] != GRADE_EXCLUDED).all()
    assert (r[~any_cause & in_area] & ~np.uint16(REASON_BIT["nodata"]) == 0).all()
    gb = SUIT["grade_breaks"]
    assert (score[g == GRADE_SUITABLE] >= gb["suitable"]).all()
    mod = score[g == GRADE_MODERATE]
    assert ((mod >= gb["moderately_suitable"]) & (mod < gb["suitable"])).all()
    assert (score[g == GRADE_UNSUITABLE] < gb["moderately_suitable"]).all()
    assert (score[g == GRADE_EXCLUDED] == 0).all()
    assert (score[g == GRADE_NODATA] == 255).all()
    assert ((r[g == GRADE_NODATA] & REASON_BIT["nodata"]) != 0).all()
    assert (layers["landuse"][g <= GRADE_UNSUITABLE] != 0).all()


# --- the precipitation rule (四水四定) -------------------------------------------------------
def test_forest_below_400mm_needs_secured_water():
    forest = SUIT["targets"]["forest"]
    # ideal forest site except precipitation: flat, elevation in the fuzzy plateau
    layers = base_layers((1, 4), slope=2.0, elevation=2000.0, landuse=CID["grassland"])
    layers["precipitation"][0] = [350, 350, 399.9, 400]
    layers["water_secured"][0] = [False, True, False, False]
    score, g, r = evaluate_target(layers, "forest", forest, SUIT, CLASSES)
    assert g[0, 0] == GRADE_EXCLUDED and decode_reasons(r[0, 0]) == ["precipitation_rule"]
    assert g[0, 1] == GRADE_SUITABLE and r[0, 1] == 0  # secured water: can be suitable
    assert score[0, 1] == 100  # (precipitation counts as met)
    assert g[0, 2] == GRADE_EXCLUDED
    assert r[0, 3] == 0  # exactly 400 mm is allowed
    # shrub is still possible at 350 mm without water; not below 250 mm
    layers["precipitation"][0] = [350, 249, 250, 600]
    _, gs, rs = evaluate_target(layers, "shrub", SUIT["targets"]["shrub"], SUIT, CLASSES)
    assert gs[0, 0] != GRADE_EXCLUDED and gs[0, 2] != GRADE_EXCLUDED
    assert decode_reasons(rs[0, 1]) == ["precipitation_rule"]


# --- best use ----------------------------------------------------------------------------
def test_best_use_ties_runner_up_and_codes():
    order = ["forest", "shrub", "grass"]

    def u8(v):
        return np.array(v, np.uint8)

    scores = {
        "forest": u8([80, 80, 90, 50, 255, 30]),
        "shrub": u8([80, 85, 60, 45, 255, 20]),
        "grass": u8([75, 85, 95, 45, 255, 10]),
    }
    grades_ = {
        "forest": u8([1, 1, 1, 2, 255, 3]),
        "shrub": u8([1, 1, 2, 2, 255, 3]),
        "grass": u8([1, 1, 4, 2, 255, 4]),
    }
    scores["grass"][2] = 0  # grass excluded at pixel 2 (excluded pixels score 0 anyway)
    best, runner, bscore = best_use(scores, grades_, order)
    # 0: forest = shrub = 80 -> forest (listed first); runner-up shrub (tie with forest, before grass)
    # 1: shrub = grass = 85 -> shrub; runner-up grass
    # 2: forest 90; grass excluded; runner-up shrub
    # 3: forest 50 > shrub 45 = grass 45 -> forest; runner-up shrub (listed before grass)
    # 4: all nodata -> 255; 5: none suitable or moderately -> 0
    eq(best, [1, 2, 1, 1, 255, 0])
    eq(runner, [2, 3, 2, 2, 255, 0])
    eq(bscore, [80, 85, 90, 50, 255, 0])


def test_best_use_order_appends_unlisted_targets():
    suit = {"targets": {"a": {}, "b": {}, "c": {}}, "best_use_order": ["c", "a"]}
    assert best_use_order(suit) == ["c", "a", "b"]


# --- spec problems -----------------------------------------------------------------------
def test_shipped_config_has_no_spec_problems():
    assert spec_problems(CFG) == []
    assert spec_problems(CFG, available_layers=KNOWN_LAYERS) == []


def bad(path_fn):
    cfg = copy.deepcopy(CFG)
    path_fn(cfg["suitability"])
    return "\n".join(spec_problems(cfg))


def test_spec_unknown_layer_lists_known_layers():
    text = bad(lambda s: s["targets"]["forest"]["criteria"][1].update(layer="slop"))
    assert "suitability.targets.forest.criteria[1]" in text and "'slop'" in text
    assert "known layers:" in text and "slope" in text and "precipitation" in text


def test_spec_optional_layer_missing_when_input_not_configured():
    cfg = copy.deepcopy(CFG)
    cfg["suitability"]["targets"]["grass"]["criteria"].append(
        {"layer": "soil_k", "transform": "linear", "low": 0.05, "high": 0.01, "weight": 0.0}
    )
    text = "\n".join(spec_problems(cfg))
    assert "grass.criteria[2]" in text and "'soil_k' does not exist" in text
    cfg["inputs"]["rasters"]["soil_k"] = "data/soil_k.tif"
    assert spec_problems(cfg) == []


def test_spec_breaks_out_of_order():
    text = bad(lambda s: s["targets"]["cropland"]["criteria"][0].update(breaks=[2, 15, 6, 25]))
    assert "cropland.criteria[0]" in text and "[2, 15, 6, 25]" in text and "out of order" in text
    text = bad(lambda s: s.update(precipitation_breaks=[200, 400, 800, 1200]))
    assert "cropland.criteria[2]" in text and "[200, 400, 800, 1200] (precipitation_breaks)" in text


def test_spec_fuzzy_points_not_ascending():
    text = bad(
        lambda s: s["targets"]["wine_grape"]["criteria"][0].update(points=[1100, 1050, 1300, 1500])
    )
    assert (
        "wine_grape.criteria[0]" in text
        and "not ascending" in text
        and "[1100, 1050, 1300, 1500]" in text
    )


def test_spec_weights_not_summing_to_one_and_normalise_option():
    text = bad(lambda s: s["targets"]["grass"]["criteria"][0].update(weight=0.7))
    assert "targets.grass" in text and "sum to 1.1" in text and "normalise_weights" in text

    def fix(s):
        s["targets"]["grass"]["criteria"][0]["weight"] = 0.7
        s["targets"]["grass"]["normalise_weights"] = True

    assert bad(fix) == ""
    # normalised weights 0.7/1.1 and 0.4/1.1 are what is used
    suit = simple_suit(
        normalise_weights=True,
        criteria=[
            {"layer": "slope", "transform": "linear", "low": 0, "high": 100, "weight": 3},
            {"layer": "elevation", "transform": "linear", "low": 0, "high": 100, "weight": 1},
        ],
    )
    layers = base_layers((1, 1), slope=100.0, elevation=0.0)
    score, _, _ = evaluate_target(layers, "t", suit["targets"]["t"], suit, CLASSES)
    assert score[0, 0] == 75


def test_spec_matrix_roles():
    text = bad(lambda s: s["targets"]["cropland"]["criteria"][0].update(role="water"))
    assert (
        "targets.cropland" in text
        and "exactly one role: land" in text
        and "found 0 land and 3 water" in text
    )
    text = bad(lambda s: s["targets"]["cropland"]["criteria"][1].pop("role"))
    assert "cropland.criteria[1]" in text and "role" in text


def test_spec_lookup_unknown_class():
    text = bad(lambda s: s["targets"]["solar_pv"]["criteria"][1]["values"].update(gobi=100))
    assert (
        "solar_pv.criteria[1]" in text
        and "'gobi'" in text
        and "known classes:" in text
        and "bare" in text
    )


def test_spec_best_use_order_unknown_target():
    text = bad(lambda s: s.update(best_use_order=["cropland", "rice"]))
    assert "best_use_order" in text and "'rice'" in text


def test_spec_constraint_problems():
    text = bad(
        lambda s: s["targets"]["forest"]["constraints"].update(
            exclude_zones=["nature_reserve"], not_convertible_from=["desert"], max_slop_deg=25
        )
    )
    assert "forest.constraints" in text
    assert "'nature_reserve' is not a zone layer" in text and "'desert'" in text
    assert "max_slop_deg" in text and "spelling" in text
    text = bad(
        lambda s: s["targets"]["forest"]["constraints"].update(
            precipitation_rule={"min_mm": "forest_min_precip"}
        )
    )
    assert "forest.constraints.precipitation_rule.min_mm" in text and "'forest_min_precip'" in text


def test_spec_typo_in_criterion_key_and_bad_linear():
    text = bad(lambda s: s["targets"]["grass"]["criteria"][1].update(hihg=5))
    assert "grass.criteria[1]" in text and "hihg" in text
    text = bad(lambda s: s["targets"]["grass"]["criteria"][1].update(low=5, high=5))
    assert "grass.criteria[1]" in text and "must differ" in text


def test_spec_matrix_scores_must_agree_with_classes():
    text = bad(lambda s: s.update(matrix_grade_scores=[100, 75, 50, 25, 0]))
    assert "matrix grade 4 scores 25" in text and "unsuitable" in text


def test_evaluate_target_raises_on_bad_spec():
    suit = simple_suit(
        criteria=[{"layer": "slope", "transform": "linear", "low": 1, "high": 1, "weight": 1.0}]
    )
    with pytest.raises(ConfigError, match="must differ"):
        evaluate_target(base_layers((1, 1)), "t", suit["targets"]["t"], suit, CLASSES)


# --- block-wise file driver equals the array version ----------------------------------------
def test_file_driver_equals_array_version(tmp_path):
    h, w = 20, 17
    rng = np.random.default_rng(7)
    layers = {
        "slope": rng.uniform(0, 40, (h, w)),
        "elevation": rng.uniform(1000, 3000, (h, w)),
        "precipitation": rng.uniform(150, 700, (h, w)),
        "distance_water": rng.uniform(0, 20000, (h, w)),
        "distance_roads": rng.uniform(0, 20000, (h, w)),
        "distance_settlements": rng.uniform(0, 25000, (h, w)),
        "ls": rng.uniform(0, 10, (h, w)),
        "water_quota_modulus": rng.uniform(0, 40, (h, w)),
    }
    layers = {k: v.astype(np.float32) for k, v in layers.items()}
    layers["slope"][0, :5] = -9999.0  # file nodata
    layers["landuse"] = rng.integers(1, 14, (h, w)).astype(np.uint8)
    layers["landuse"][-1, :] = 0  # outside the reach (masks clipped too)
    for m in MASK_LAYERS:
        layers[m] = (rng.random((h, w)) < 0.2).astype(np.uint8)
        layers[m][-1, :] = 255  # mask nodata outside the reach: not inside
    tr = Affine(30, 0, 500000, 0, -30, 4000000)
    paths = {}
    for name, arr in layers.items():
        paths[name] = tmp_path / "in" / f"{name}.tif"
        paths[name].parent.mkdir(exist_ok=True)
        nodata = -9999.0 if arr.dtype.kind == "f" else (0 if name == "landuse" else None)
        with rasterio.open(
            paths[name],
            "w",
            driver="GTiff",
            height=h,
            width=w,
            count=1,
            dtype=arr.dtype.name,
            crs="EPSG:4507",
            transform=tr,
            nodata=nodata,
        ) as ds:
            ds.write(arr, 1)
    outputs = suitability_files(paths, tmp_path / "out", SUIT, CLASSES, block_rows=3)
    got = read_outputs(outputs)

    arrays = {k: v.copy() for k, v in layers.items()}
    arrays["slope"][arrays["slope"] == -9999.0] = np.nan
    order = best_use_order(SUIT)
    scores, grades_ = {}, {}
    for t in order:
        s, g, r = evaluate_target(arrays, t, SUIT["targets"][t], SUIT, CLASSES)
        eq(got[f"suit_{t}_score"], s)
        eq(got[f"suit_{t}_grade"], g)
        # outside the study area (land use 0) the file holds its declared nodata (#17), the
        # array version the nodata bit alone
        assert (r[-1, :] == REASON_BIT["nodata"]).all()
        eq(got[f"suit_{t}_reason"], np.where(layers["landuse"] == 0, 65535, r))
        scores[t], grades_[t] = s, g
    with rasterio.open(outputs["suit_forest_reason"]) as ds:
        assert ds.nodata == 65535
    b, ru, bs = best_use(scores, grades_, order)
    eq(got["best_use"], b)
    eq(got["best_use_runner_up"], ru)
    eq(got["best_use_score"], bs)
    assert (b[-1] == 255).all() and (got["suit_forest_grade"][0, :5] != GRADE_SUITABLE).all()
    with rasterio.open(outputs["suit_cropland_grade"]) as ds:
        assert ds.nodata == 255 and ds.crs.to_epsg() == 4507 and ds.profile["compress"] == "deflate"
    legend = pd.read_csv(outputs["best_use_legend"], encoding="utf-8-sig")
    assert list(legend["code"]) == [0, *range(1, len(order) + 1), 255]
    assert legend.loc[legend["target"] == "forest", "name_zh"].item() == "林地"
    assert outputs["reason_legend_csv"].exists() and outputs["reason_legend_json"].exists()
    assert not list((tmp_path / "out").glob(".*tmp*"))


def test_file_driver_rejects_misaligned_layer(tmp_path):
    from nxgeo.errors import InputError

    paths = {}
    for name in KNOWN_LAYERS:
        if name in ("soil_k", "sand_fraction"):
            continue
        tr = Affine(30, 0, 500000 + (30 if name == "elevation" else 0), 0, -30, 4000000)
        paths[name] = tmp_path / f"{name}.tif"
        with rasterio.open(
            paths[name],
            "w",
            driver="GTiff",
            height=4,
            width=4,
            count=1,
            dtype="uint8",
            crs="EPSG:4507",
            transform=tr,
        ) as ds:
            ds.write(np.ones((4, 4), np.uint8), 1)
    with pytest.raises(InputError, match="elevation"):
        suitability_files(paths, tmp_path / "out", SUIT, CLASSES)

"""Land-use scheme tables and the code -> canonical class mapping."""

import numpy as np
import pandas as pd
import pytest

from nxgeo.errors import InputError
from nxgeo.landuse import SCHEMES, load_scheme


@pytest.mark.parametrize("name", SCHEMES)
def test_scheme_tables_load_and_codes_unique(name):
    s = load_scheme(name)
    assert s.table["code"].is_unique
    assert set(s.table["canonical"]) <= set(s.classes["canonical"])


def test_gbt21010_key_codes():
    s = load_scheme("gbt21010")
    lut = s.lookup()
    cid = s.class_id
    assert lut[102] == cid("cropland_irrigated")  # 0102 水浇地
    assert lut[103] == cid("cropland_dry")  # 0103 旱地
    assert lut[702] == cid("rural_homestead")  # 0702 农村宅基地
    assert lut[602] == cid("mining")  # 0602 采矿用地
    assert lut[1205] == cid("sandy")  # 1205 沙地
    assert lut[1107] == cid("water")  # 1107 沟渠
    assert lut[1106] == cid("wetland")  # 1106 内陆滩涂
    assert s.code_for("0305") == 305


def test_to_canonical_hand_checked():
    s = load_scheme("gbt21010")
    codes = np.array([[102, 103, 0], [301, 1205, 702]], dtype=np.int16)
    out = s.to_canonical(codes, nodata=0)
    assert out.dtype == np.uint8
    expected = np.array([[1, 2, 0], [4, 12, 10]], dtype=np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_unknown_codes_are_reported_with_counts():
    s = load_scheme("gbt21010")
    codes = np.array([[102, 9999, 9999], [4242, 0, 102]], dtype=np.int16)
    assert s.unknown_codes(codes, nodata=0) == {9999: 2, 4242: 1}
    with pytest.raises(InputError, match="9999"):
        s.to_canonical(codes, nodata=0)


def test_clcd_barren_is_sandy_inside_sand_areas():
    s = load_scheme("clcd")
    codes = np.array([7, 7, 2], dtype=np.int16)
    in_sand = np.array([True, False, True])
    out = s.to_canonical(codes, in_sand_area=in_sand)
    assert out.tolist() == [s.class_id("sandy"), s.class_id("bare"), s.class_id("forest")]


def test_unknown_scheme():
    with pytest.raises(InputError, match="unknown land-use scheme 'corine'"):
        load_scheme("corine")


def test_every_canonical_class_has_carbon_pools():
    classes = pd.read_csv("config/landuse/classes.csv")
    carbon = pd.read_csv("config/tables/carbon_pools.csv")
    assert set(classes["class_id"]) == set(carbon["lucode"])

"""Rank stability of the selection (#19, nxgeo.stability)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nxgeo.candidates.allocation import allocate
from nxgeo.candidates.decide import sand_priority
from nxgeo.candidates.stage import _rank
from nxgeo.errors import ConfigError
from nxgeo.stability import check_uncertain, draw, selection_stability

WATER = {"benefit": {"forest": 0.8, "shrub": 0.6, "grass": 0.5}, "benefit_default": 0.3}
PATHWAYS = {"sand_control": {"priority_weights": {"threat": 0.5, "area": 0.2, "wind": 0.3}}}


def scenario(n=8, seed=0):
    """n parcels in two counties, each with a forest option then a grass fallback."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(1, 10, n).round(2)
    parcels = pd.DataFrame(
        {
            "parcel_id": [f"P{i}" for i in range(n)],
            "pathway": "homestead_greening",
            "adcode": ["640104" if i % 2 else "640105" for i in range(n)],
            "eligible": True,
            "area_ha": area,
            "sand_priority": np.nan,
        }
    )
    rows = []
    for p, a, ad in zip(parcels["parcel_id"], area, parcels["adcode"]):
        d = float(rng.uniform(2000, 6000))
        rows.append((p, ad, 0, "forest", "forest", d * a, 0.8 * a))
        rows.append((p, ad, 1, "grass", "grass", 0.4 * d * a, 0.5 * a))
    options = pd.DataFrame(
        rows, columns=["parcel_id", "adcode", "opt_rank", "target", "use", "demand_m3", "benefit"]
    )
    headroom = pd.Series({"640104": 60_000.0, "640105": 40_000.0})
    return parcels, options, headroom


def run(parcels, options, headroom, cfg, allocator=None):
    solve = partial(allocate, solver="greedy", compare=False)
    return selection_stability(
        parcels,
        options,
        headroom,
        cfg,
        WATER,
        PATHWAYS,
        allocate=allocator or (lambda o, h: solve(o, h)[0]),
        rank=_rank,
        sand_priority=sand_priority,
    )


def deterministic(parcels, options, headroom):
    a, _ = allocate(options, headroom, solver="greedy", compare=True)
    a = a.set_index("parcel_id")
    pid = parcels["parcel_id"]
    return pid.map(a["allocated"]).to_numpy(bool), pid.map(a["opt_rank"]).to_numpy() == 0


CFG = {"draws": 50, "seed": 7, "top_k": 2, "robust_share": 0.9}


def test_zero_width_ranges_give_the_deterministic_selection():
    parcels, options, headroom = scenario()
    zero = {
        "water.benefit.forest": [0.8, 0.8],
        "water.demand_factor": [1.0, 1.0],
        "water.headroom_factor": [1.0, 1.0],
    }
    out = run(parcels, options, headroom, {**CFG, "uncertain": zero})
    alloc, first = deterministic(parcels, options, headroom)
    assert first.any() and (alloc & ~first).any()  # some parcels fall back: water binds
    assert set(out["p_selected"]) <= {0.0, 1.0}
    assert (out["p_selected"].to_numpy() == (alloc & first).astype(float)).all()
    assert (out["selection_stability"] == "robust").all()
    parcels2 = parcels.assign(allocated=alloc)
    assert (out["rank_p05"] == out["rank_p95"]).all()
    assert (out["rank_p05"].to_numpy() == _rank(parcels2, options)).all()


def test_same_seed_same_result_and_wide_ranges_make_some_parcels_fragile():
    parcels, options, headroom = scenario(n=12, seed=3)
    wide = {"water.demand_factor": [0.3, 1.7], "water.headroom_factor": [0.5, 1.5]}
    a = run(parcels, options, headroom, {**CFG, "uncertain": wide})
    b = run(parcels, options, headroom, {**CFG, "uncertain": wide})
    pd.testing.assert_frame_equal(a, b)
    assert (a["selection_stability"] == "fragile").any()
    assert ((a["p_selected"] > 0) & (a["p_selected"] < 1)).any()


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 10), st.integers(0, 1000), st.floats(0.1, 1.0), st.floats(0.0, 1.0))
def test_probabilities_and_rank_interval_are_consistent(n, seed, lo, width):
    parcels, options, headroom = scenario(n=n, seed=seed)
    unc = {"water.demand_factor": [lo, lo + width], "water.benefit.grass": [0.1, 0.9]}
    out = run(parcels, options, headroom, {**CFG, "draws": 20, "uncertain": unc})
    assert out["p_selected"].between(0, 1).all() and out["p_top_k"].between(0, 1).all()
    assert (out["rank_p05"] <= out["rank_p95"]).all() and (out["rank_p05"] >= 1).all()
    robust = (out["p_selected"] >= 0.9) | (1 - out["p_selected"] >= 0.9)
    assert ((out["selection_stability"] == "robust") == robust).all()


def test_draws_are_seeded_and_inside_the_ranges():
    r = {"water.demand_factor": (0.8, 1.2), "water.benefit.forest": (0.5, 0.5)}
    a, b = draw(r, 100, 1), draw(r, 100, 1)
    pd.testing.assert_frame_equal(a, b)
    assert a["water.demand_factor"].between(0.8, 1.2).all()
    assert (a["water.benefit.forest"] == 0.5).all()
    assert not draw(r, 100, 2).equals(a)


@pytest.mark.parametrize(
    "unc, msg",
    [
        ({"water.benefit.lotus": [0, 1]}, "not a parameter that can be drawn"),
        ({"water.demand_factor": [1.2, 0.8]}, "low <= high"),
        ({"suitability.weights.x": [0, 1]}, "not a parameter"),
        ({"water.headroom_factor": "wide"}, "expected [low, high]"),
    ],
)
def test_bad_uncertain_parameters_are_named(unc, msg):
    with pytest.raises(ConfigError) as e:
        check_uncertain(unc, WATER, PATHWAYS)
    assert msg in str(e.value) and list(unc)[0] in str(e.value)


def test_the_shipped_config_draws_known_parameters_and_a_typo_is_refused_at_start_up():
    import copy

    from nxgeo.config import check_config, load_yaml

    cfg = load_yaml("config/config.yaml")
    check_config(cfg)
    bad = copy.deepcopy(cfg)
    bad["stability"]["uncertain"]["water.benefit.forst"] = [0.5, 1.0]
    with pytest.raises(ConfigError, match="water.benefit.forst"):
        check_config(bad)


def _rank_reference(df, options):
    """`_rank` as first written (pandas sort_values + groupby): the oracle of the numpy one."""
    first = options[options["opt_rank"] == 0].set_index("parcel_id")
    d = df["parcel_id"].map(first["demand_m3"]).to_numpy(float)
    b = df["parcel_id"].map(first["benefit"]).fillna(0.0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d > 0, b / d, np.inf)
    ratio = np.where(np.isnan(d), -np.inf, ratio)
    sand = df["pathway"].to_numpy() == "sand_control"
    prio = np.where(sand, pd.to_numeric(df["sand_priority"], errors="coerce").fillna(-1), ratio)
    tier = np.where(df["allocated"].astype(bool), 0, np.where(df["eligible"].astype(bool), 1, 2))
    key = pd.DataFrame(
        {
            "pathway": df["pathway"].to_numpy(),
            "adcode": df["adcode"].to_numpy(),
            "tier": tier,
            "prio": -prio,
            "ben": -np.where(sand, 0.0, b),
            "pid": df["parcel_id"].to_numpy(),
        },
        index=df.index,
    )
    key = key.sort_values(["pathway", "adcode", "tier", "prio", "ben", "pid"], kind="stable")
    key["rank"] = key.groupby(["pathway", "adcode"]).cumcount() + 1
    return key["rank"].reindex(df.index).to_numpy(np.int64)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(0, 10_000), st.booleans())
def test_rank_equals_the_pandas_sort(n, seed, ties):
    rng = np.random.default_rng(seed)
    parcels, options, _ = scenario(n=n, seed=seed)
    parcels["pathway"] = rng.choice(["homestead_greening", "sand_control", "mine"], n)
    parcels["adcode"] = rng.choice(["640104", "640105", "640106"], n)
    parcels["sand_priority"] = np.where(
        rng.random(n) < 0.2, np.nan, rng.integers(0, 4, n) if ties else rng.random(n) * 100
    )
    parcels["allocated"] = rng.random(n) < 0.5
    parcels["eligible"] = rng.random(n) < 0.8
    if ties:  # equal benefit and demand: ties broken by parcel_id
        options["benefit"], options["demand_m3"] = (
            1.0,
            np.where(rng.random(len(options)) < 0.3, 0, 5.0),
        )
    options = options[
        ~options["parcel_id"].isin(parcels["parcel_id"].sample(n // 4, random_state=seed))
    ]
    parcels.index = rng.permutation(np.arange(1000, 1000 + n))  # any index
    assert (_rank(parcels, options) == _rank_reference(parcels, options)).all()


def test_stability_with_the_draws_greedy_equals_the_allocation():
    """selection_stability with GreedyDraws (what the pipeline uses for solver greedy) gives
    the same fields as with `allocate` itself."""
    from nxgeo.candidates.allocation import GreedyDraws

    parcels, options, headroom = scenario(n=16, seed=5)
    cfg = {
        **CFG,
        "draws": 30,
        "uncertain": {"water.demand_factor": [0.3, 1.7], "water.benefit.grass": [0.1, 0.9]},
    }
    slow = run(parcels, options, headroom, cfg)
    fast = run(parcels, options, headroom, cfg, allocator=GreedyDraws(options))
    pd.testing.assert_frame_equal(fast, slow)
    assert (slow["selection_stability"] == "fragile").any()  # the draws do change things

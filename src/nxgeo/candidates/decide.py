"""Decision per candidate parcel (docs/domain.md §6); every threshold comes from config ``pathways``
and ``water`` (the rules, one sentence each with their keys: docs/pathways.md).

Shared rules
------------
- A target use is **suitable** for a parcel when its majority grade is 1 or 2 (suitable /
  moderately suitable) and its mean score is >= ``pathways.min_suitable_score`` (default: the
  ``suitability.grade_breaks.moderately_suitable`` break, 40).
- **Not a candidate**: a parcel on land-use nodata (every ``share_*`` 0) or without slope /
  precipitation gets reason ``no_data``; a parcel whose current survey class (majority) is in
  ``pathways.already_restored_classes`` (green classes, cropland) gets ``already_restored``.
  Neither is eligible, so neither is ever allocated or counted.
- **Protected** (A, B) = the parcel touches a protected area (any zone) or the ecological red
  line. Nothing protected gets cropland, PV or construction. (C decides by shares: below.)
- **Best green use** = among ``homestead_greening.regreen_targets`` (forest, shrub, grass) the
  suitable one with the highest mean score (ties: list order); ``natural_recovery`` (自然恢复,
  no planting, no water; decision code ``no_suitable_green_use``) when none is suitable.
- **Reclamation use** (以水定地): irrigated ``cropland`` only where ``water_secured_share`` >=
  ``water.secured_min_share``; elsewhere ``water.reclaim_outside_secured``: ``cropland_dry``
  (rain-fed, only where the mean precipitation reaches
  ``water.rainfed_above_precipitation_mm.cropland_dry``) or ``none`` (no reclamation: the
  parcel is regreened).
- Every parcel gets ``initial_target`` (the pathway-level recommendation), ``initial_use`` (the
  water-demand use that implements it: a row of the water-demand table, or ``none`` /
  ``natural_recovery`` = no water), ``decision`` (why this target; ";"-separated codes) and,
  when not eligible, ``reason``.

A. homestead_greening: reclaim (``reclaim_target``, cropland) where cropland is suitable, the
mean slope <= ``suitability.preferred_reclaim_slope_deg``, not protected and a reclamation use
exists (above) — the water allocation then decides; otherwise regreen to the best green use
(``natural_recovery`` when none is suitable). Decision codes: reclaim_cropland (with
reclaim_irrigated_secured_water or reclaim_dry_cropland), protected_area_no_cropland,
slope_above_reclaim_limit, cropland_unsuitable, no_reclamation_without_secured_water,
no_suitable_green_use.

B. mine_remediation (eligible mines only; operating mines are listed with reason
``operating`` and no target): protected -> ``ecological``; else planned construction covering
>= ``construction_min_share`` of the parcel -> ``construction`` (a statutory plan comes
first); else a closed mine with mean slope <= ``pv_max_slope_deg`` and area >=
``pv_min_area_ha`` and PV not excluded there by a hard constraint (majority solar_pv grade
1-3: e.g. never on basic farmland) -> ``solar_pv`` (MW = area x ``pv_mw_per_ha``); else cropland where
suitable, mean slope <= ``preferred_reclaim_slope_deg`` and a reclamation use exists ->
``cropland``; else ``ecological`` planted with the best green use (``green_use``).
``hazard_flag`` = 1 where the maximum slope inside the mine on the finest DEM
(``hazard_slope_max_deg``; without it the reach's ``slope_max``) > ``hazard_slope_deg``
(slope cutting and load reduction, 削坡减荷). ``legacy`` (0/1, from the mine layer) and
``funding``: ``public`` for legacy mines (历史遗留, government money), ``operator`` otherwise
(矿山地质环境治理恢复基金); empty where the layer gives no legacy value.

C. sand_control (project units): ``protected_share`` (share of the unit inside a protected
area or the red line) >= ``closure_min_protected_share`` -> ``closed_protection`` (封禁保护);
untreatable (water_secured share < 0.5 and mean precipitation < ``untreatable_precip_mm``) ->
``closed_protection``; threat distance (minimum distance to farmland, water, roads or
settlements) <= ``threat_distance_m`` -> ``public_benefit`` (公益性治沙, planting
``water_use.public_benefit``, default shrub); else ``for_profit`` (营利性治沙) with the first
sub-mode whose rule holds: ``tourism`` where the sandy share >= ``tourism_min_sandy_share``
and a settlement is within ``tourism_max_access_m``; ``pv`` where PV is suitable, no part of
the unit is protected, the mean slope <= ``pv_max_slope_deg`` and a road is within
``pv_max_road_m``; else ``shrub``
(sand-tolerant shrubs: Caragana 柠条, sand willow 沙柳).

W. state_wasteland (国有荒地复绿, 三(二): 宜林则林、宜草则草、宜湿则湿、宜农则农, decided by
water): the parcel's survey classes are barren by construction, so ``state_wasteland.classes``
are never ``already_restored`` for it (其他草地 0404 is unused land, not restored grassland).
The recommended use is the suitable use of ``state_wasteland.targets`` with the highest mean
score (ties: list order), never the use of the class the parcel already is (`TARGET_CLASSES`:
其他草地 is grassland, so grass is not planted on it again and not counted as greening
increment; where that was its only suitable use it is closed for natural recovery, code
``already_suitable_class_closure``); cropland only where it is suitable, the mean slope <=
``suitability.preferred_reclaim_slope_deg``, the parcel touches no protected area or red line
and a reclamation use exists (以水定地: irrigated inside secured water, else dry cropland where
rain-fed) — else the best of the other targets; ``natural_recovery`` when none is suitable.
``green_use`` is the best suitable green target (the runner-up the allocation falls back to
when cropland gets no water). Decision codes: best_use_<target>, the reclamation water code,
protected_area_no_cropland, no_suitable_green_use.

Sand-fixation priority (0-100, C only): 100 x (w_threat·T/(T+d) + w_area·(1 − e^(−A/A_ref))
+ w_wind·exposure·mobility) / Σw, with d the threat distance, T ``threat_distance_m``, A the
area (ha), A_ref ``priority_area_ref_ha``, exposure the mean wind-exposure proxy and mobility
the share-weighted ``mobility`` of the parcel's classes (sandy 1, bare 0.5).

Indicators (`finalize`): before the allocation the potential of every eligible parcel, after
it only allocated parcels count: ``new_cultivated_ha`` (use cropland or cropland_dry),
``freed_quota_ha`` (A: the homestead's area; D: ``quota_source_ha``, the construction land
reclaimed), ``greening_increment_ha`` (uses forest, shrub, grass, wetland; natural
recovery only with ``pathways.natural_recovery_counts_as_greening`` and never for
no_suitable_green_use), ``closure_ha`` (C closed protection), ``natural_recovery_ha`` (use
natural_recovery), ``pv_mw``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

TARGET_ZH = {
    "cropland": "耕地（复垦）",
    "forest": "林地",
    "shrub": "灌木林地",
    "grass": "草地",
    "wetland": "湿地",
    "solar_pv": "光伏",
    "ecological": "生态用地",
    "construction": "建设用地",
    "closed_protection": "封禁保护",
    "public_benefit": "公益性治沙",
    "for_profit": "营利性治沙",
    "natural_recovery": "自然恢复（封育）",
}
SUB_MODE_ZH = {"pv": "光伏治沙", "shrub": "灌木固沙（柠条、沙柳）", "tourism": "沙漠旅游"}
NATURAL = "natural_recovery"
GREEN_USES = ("forest", "shrub", "grass", "wetland")
NO_WATER_USES = ("none", NATURAL)
CROPLAND_USES = ("cropland", "cropland_dry")
CROPLAND_TARGETS = ("cropland",)
#: the canonical classes a target use turns land into (a parcel already of that class is not
#: converted to it again: state_wasteland)
TARGET_CLASSES = {
    "cropland": ("cropland_irrigated", "cropland_dry"),
    "forest": ("forest",),
    "shrub": ("shrub",),
    "grass": ("grassland",),
    "wetland": ("wetland",),
}
#: pathways whose reclamation falls back to the green use itself as the target (the others
#: to ``ecological`` land planted with it)
GREEN_TARGET_FALLBACK = ("homestead_greening", "state_wasteland", "land_consolidation")
FUNDING = {True: "public", False: "operator"}


def target_zh(target, sub_mode=None) -> str:
    if not target:
        return ""
    zh = TARGET_ZH.get(str(target), str(target))
    if sub_mode and str(sub_mode) in SUB_MODE_ZH:
        zh = f"{zh}·{SUB_MODE_ZH[str(sub_mode)]}"
    return zh


def min_score(cfg_pathways: dict, cfg_suitability: Mapping | None) -> float:
    """``pathways.min_suitable_score`` (required by the schema)."""
    return float(cfg_pathways["min_suitable_score"])


def suitable(df: pd.DataFrame, target: str, min_sc: float) -> np.ndarray:
    g, s = f"grade_{target}", f"score_{target}"
    if g not in df.columns or s not in df.columns:
        return np.zeros(len(df), dtype=bool)
    grade = pd.to_numeric(df[g], errors="coerce").to_numpy()
    score = pd.to_numeric(df[s], errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        return np.isin(grade, (1, 2)) & (score >= min_sc)


def best_green(df: pd.DataFrame, targets: list[str], min_sc: float) -> np.ndarray:
    """Best suitable green use per parcel, 'natural_recovery' where none is suitable."""
    best = np.full(len(df), NATURAL, dtype=object)
    best_score = np.full(len(df), -np.inf)
    for t in targets:
        ok = suitable(df, t, min_sc)
        sc = pd.to_numeric(df.get(f"score_{t}", np.nan), errors="coerce")
        sc = np.asarray(sc, dtype=float) if np.ndim(sc) else np.full(len(df), np.nan)
        better = ok & (sc > best_score)
        best[better] = t
        best_score[better] = sc[better]
    return best


def _protected(df: pd.DataFrame) -> np.ndarray:
    p = np.zeros(len(df), dtype=bool)
    for c in ("protected_any", "protected_core", "ecological_redline"):
        if c in df.columns:
            p |= pd.to_numeric(df[c], errors="coerce").fillna(0).to_numpy() > 0
    return p


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)


def _join(*codes) -> np.ndarray:
    """Element-wise ';'.join of non-empty codes (arrays of str)."""
    arrs = [np.asarray(c, dtype=object) for c in codes]
    return np.array([";".join(x for x in parts if x) for parts in zip(*arrs)], dtype=object)


def suitable_uses(df: pd.DataFrame, min_sc: float) -> np.ndarray:
    """ ";"-list of the targets suitable for each parcel (order of the grade_* columns)."""
    targets = [c[len("grade_") :] for c in df.columns if c.startswith("grade_")]
    flags = {t: suitable(df, t, min_sc) for t in targets}
    return np.array(
        [";".join(t for t in targets if flags[t][i]) for i in range(len(df))], dtype=object
    )


def reclaim_use(df: pd.DataFrame, cfg_water: dict) -> tuple[np.ndarray, np.ndarray]:
    """(use, code) of reclamation per parcel (module docstring, 以水定地): ``cropland``
    (irrigated) inside secured water, else ``cropland_dry`` where allowed and rain-fed, else
    "" (no reclamation)."""
    secured = np.nan_to_num(_num(df, "water_secured_share"), nan=0.0) >= float(
        cfg_water["secured_min_share"]
    )
    outside = str(cfg_water["reclaim_outside_secured"])
    if outside not in ("cropland_dry", "none"):
        raise ValueError(
            f"water.reclaim_outside_secured must be cropland_dry or none, not {outside!r}"
        )
    limits = cfg_water["rainfed_above_precipitation_mm"] or {}
    if outside == "cropland_dry" and "cropland_dry" not in limits:
        raise ValueError(
            "water.reclaim_outside_secured is cropland_dry: give its rain-fed limit "
            "water.rainfed_above_precipitation_mm.cropland_dry (mm)"
        )
    limit = float(limits["cropland_dry"]) if outside == "cropland_dry" else np.inf
    with np.errstate(invalid="ignore"):
        dry = (outside == "cropland_dry") & (_num(df, "precip_mean_mm") >= limit)
    use = np.where(secured, "cropland", np.where(dry, "cropland_dry", "")).astype(object)
    code = np.where(
        secured,
        "reclaim_irrigated_secured_water",
        np.where(dry, "reclaim_dry_cropland", "no_reclamation_without_secured_water"),
    ).astype(object)
    return use, code


def _base(df: pd.DataFrame, min_sc: float, cfg_pathways: dict, own_classes=()) -> pd.DataFrame:
    out = df.copy()
    out["suitable_uses"] = suitable_uses(out, min_sc)
    for c, v in (
        ("initial_target", ""),
        ("initial_use", "none"),
        ("green_use", ""),
        ("sub_mode", ""),
        ("decision", ""),
        ("hazard_flag", 0),
        ("sand_priority", np.nan),
    ):
        out[c] = v
    if "eligible" not in out.columns:
        out["eligible"] = True
    if "reason" not in out.columns:
        out["reason"] = ""
    out["reason"] = out["reason"].fillna("").astype(str)
    out["eligible"] = out["eligible"].astype(bool)
    nodata = np.isnan(_num(out, "slope_mean")) | np.isnan(_num(out, "precip_mean_mm"))
    shares = [c for c in out.columns if c.startswith("share_")]
    if shares:  # on land-use nodata: every class share 0 (issue #21)
        nodata |= (
            out[shares].apply(pd.to_numeric, errors="coerce").fillna(0.0).sum(axis=1).to_numpy()
            <= 0
        )
    newly = nodata & out["eligible"].to_numpy()
    out.loc[newly, "reason"] = "no_data"
    out.loc[newly, "eligible"] = False
    done = {str(c) for c in cfg_pathways["already_restored_classes"]} - {
        str(c) for c in own_classes
    }
    cur = out.get("current_class", pd.Series([""] * len(out), index=out.index))
    restored = cur.fillna("").astype(str).isin(done).to_numpy() & out["eligible"].to_numpy()
    out.loc[restored, "reason"] = "already_restored"
    out.loc[restored, "eligible"] = False
    return out


def reclaim_or_regreen(
    out: pd.DataFrame,
    cfg: dict,
    cfg_suitability: Mapping,
    cfg_water: dict,
    ms: float,
    crop_suit: np.ndarray | None = None,
) -> pd.DataFrame:
    """Reclaim to cropland, else regreen with the best green use (A homestead greening and D
    land consolidation): cropland where it is suitable (`crop_suit`; default: the reclaim
    target's suitability), the slope is at most ``preferred_reclaim_slope_deg``, the parcel is
    not protected and water allows it (`reclaim_use`); decision codes reclaim_cropland (with
    the water code), protected_area_no_cropland, slope_above_reclaim_limit, cropland_unsuitable,
    no_suitable_green_use. Writes initial_target, initial_use, green_use, decision, pv_mw."""
    reclaim = str(cfg["reclaim_target"])
    max_slope = float(cfg_suitability["preferred_reclaim_slope_deg"])
    prot = _protected(out)
    slope = _num(out, "slope_mean")
    if crop_suit is None:
        crop_suit = suitable(out, reclaim, ms)
    r_use, r_code = reclaim_use(out, cfg_water)
    with np.errstate(invalid="ignore"):
        slope_ok = slope <= max_slope
    crop_ok = crop_suit & slope_ok & ~prot & (r_use != "")
    green = best_green(out, list(cfg["regreen_targets"]), ms)
    why = np.select(
        [crop_ok, prot, ~slope_ok, ~crop_suit],
        [
            "reclaim_cropland",
            "protected_area_no_cropland",
            "slope_above_reclaim_limit",
            "cropland_unsuitable",
        ],
        "",
    )
    why = np.where(why == "", r_code, why)
    water = np.where(crop_ok, r_code, "")
    nat = np.where(~crop_ok & (green == NATURAL), "no_suitable_green_use", "")
    out["initial_target"] = np.where(crop_ok, reclaim, green)
    out["initial_use"] = np.where(crop_ok, r_use, green)
    out["green_use"] = green
    out["decision"] = _join(why, water, nat)
    out["pv_mw"] = 0.0
    _clear_not_eligible(out)
    return out


def decide_homestead(
    df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: Mapping, cfg_water: dict
) -> pd.DataFrame:
    cfg = cfg_pathways["homestead_greening"]
    ms = min_score(cfg_pathways, cfg_suitability)
    return reclaim_or_regreen(_base(df, ms, cfg_pathways), cfg, cfg_suitability, cfg_water, ms)


def _legacy(values) -> tuple[np.ndarray, np.ndarray]:
    """(legacy 1/0/NaN, funding public/operator/"") from the mine layer's legacy values."""
    yes = {"true", "1", "1.0", "yes", "y", "t"}
    no = {"false", "0", "0.0", "no", "n", "f"}
    leg = np.full(len(values), np.nan)
    for i, v in enumerate(pd.Series(values, dtype=object)):
        t = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().lower()
        leg[i] = 1.0 if t in yes else (0.0 if t in no else np.nan)
    fund = np.where(leg == 1, FUNDING[True], np.where(leg == 0, FUNDING[False], "")).astype(object)
    return leg, fund


def decide_mine(
    df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: Mapping, cfg_water: dict
) -> pd.DataFrame:
    cfg = cfg_pathways["mine_remediation"]
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms, cfg_pathways)
    max_reclaim = float(cfg_suitability["preferred_reclaim_slope_deg"])
    # a mine is regreened with homestead greening's green uses (mine_remediation has no list)
    regreen = list(cfg_pathways["homestead_greening"]["regreen_targets"])
    prot = _protected(out)
    slope = _num(out, "slope_mean")
    area = _num(out, "area_ha")
    status = out.get("status", pd.Series([""] * len(out))).fillna("").astype(str).to_numpy()
    planned = _num(out, "planned_share")
    planned = np.nan_to_num(planned, nan=0.0) if len(planned) else planned
    r_use, _ = reclaim_use(out, cfg_water)
    with np.errstate(invalid="ignore"):
        construction = ~prot & (planned >= float(cfg["construction_min_share"])) & (planned > 0)
        pv_grade = _num(out, "grade_solar_pv")
        pv_allowed = (
            np.isin(pv_grade, (1, 2, 3))
            if "grade_solar_pv" in out.columns
            else np.ones(len(out), dtype=bool)
        )
        pv = (
            ~prot
            & ~construction
            & (status == "closed")
            & pv_allowed
            & (slope <= float(cfg["pv_max_slope_deg"]))
            & (area >= float(cfg["pv_min_area_ha"]))
        )
        crop = (
            ~prot
            & ~construction
            & ~pv
            & suitable(out, "cropland", ms)
            & (slope <= max_reclaim)
            & (r_use != "")
        )
    green = best_green(out, regreen, ms)
    target = np.select(
        [prot, construction, pv, crop],
        ["ecological", "construction", "solar_pv", "cropland"],
        "ecological",
    )
    use = np.select([prot, construction, pv, crop], [green, "built", "solar_pv", r_use], green)
    why = np.select(
        [prot, construction, pv, crop],
        ["protected_area", "planned_construction", "pv_closed_mine", "cropland_suitable"],
        "ecological_best_green",
    )
    unknown = np.where(status == "unknown", "status_unknown_check_operating", "")
    nat = np.where((use == NATURAL), "no_suitable_green_use", "")
    out["initial_target"] = target
    out["initial_use"] = use
    out["green_use"] = green
    out["decision"] = _join(why, nat, unknown)
    out["pv_mw"] = np.where(use == "solar_pv", area * float(cfg["pv_mw_per_ha"]), 0.0)
    steep = (
        _num(out, "hazard_slope_max_deg")
        if "hazard_slope_max_deg" in out.columns
        else _num(out, "slope_max")
    )
    with np.errstate(invalid="ignore"):
        out["hazard_flag"] = (steep > float(cfg["hazard_slope_deg"])).astype(np.int64)
    out["legacy"], out["funding"] = _legacy(
        out["legacy"] if "legacy" in out.columns else [None] * len(out)
    )
    _clear_not_eligible(out)
    return out


def decide_sand(
    df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: Mapping, cfg_water: dict
) -> pd.DataFrame:
    cfg = cfg_pathways["sand_control"]
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms, cfg_pathways)
    water_use = cfg["water_use"]
    if "protected_share" not in out.columns:
        raise ValueError(
            "sand units need protected_share (attributes.sand_extras): the mode "
            "is decided by the share inside a protected area, never by touching"
        )
    share = np.nan_to_num(_num(out, "protected_share"), nan=0.0)
    prot = share >= float(cfg["closure_min_protected_share"])
    precip = _num(out, "precip_mean_mm")
    secured = np.nan_to_num(_num(out, "water_secured_share"), nan=0.0)
    d = _num(out, "threat_dist_m")
    T = float(cfg["threat_distance_m"])
    with np.errstate(invalid="ignore"):
        untreatable = ~prot & (secured < 0.5) & (precip < float(cfg["untreatable_precip_mm"]))
        closed = prot | untreatable
        public = ~closed & (d <= T)
        profit = ~closed & ~public
        sandy = np.nan_to_num(_num(out, "share_sandy"), nan=0.0)
        tourism = (
            profit
            & (sandy >= float(cfg["tourism_min_sandy_share"]))
            & (_num(out, "dist_settlements_min_m") <= float(cfg["tourism_max_access_m"]))
        )
        pv = (
            profit
            & ~tourism
            & (share <= 0)
            & suitable(out, "solar_pv", ms)
            & (_num(out, "slope_mean") <= float(cfg["pv_max_slope_deg"]))
            & (_num(out, "dist_roads_min_m") <= float(cfg["pv_max_road_m"]))
        )
    sub = np.select([pv, tourism, profit], ["pv", "tourism", "shrub"], "")
    target = np.select([closed, public], ["closed_protection", "public_benefit"], "for_profit")
    use = np.select(
        [closed, public, pv, tourism],
        ["none", water_use["public_benefit"], water_use["pv"], water_use["tourism"]],
        water_use["shrub"],
    )
    kind = out.get("threat_kind", pd.Series([""] * len(out))).fillna("").astype(str).to_numpy()
    why = np.select(
        [prot, untreatable, public],
        ["protected_area", "untreatable", np.char.add("threat_", kind.astype(str))],
        "no_threat",
    )
    out["initial_target"] = target
    out["initial_use"] = use
    out["sub_mode"] = sub
    out["decision"] = why
    out["sand_priority"] = sand_priority(out, cfg)
    out["pv_mw"] = np.where(
        use == "solar_pv", _num(out, "area_ha") * float(cfg["pv_mw_per_ha"]), 0.0
    )
    _clear_not_eligible(out)
    return out


def sand_priority(df: pd.DataFrame, cfg: dict) -> np.ndarray:
    w = cfg["priority_weights"]
    T = float(cfg["threat_distance_m"])
    d = np.nan_to_num(_num(df, "threat_dist_m"), nan=np.inf)
    threat = np.where(np.isfinite(d), T / (T + np.maximum(d, 0.0)), 0.0)
    area = 1.0 - np.exp(-np.nan_to_num(_num(df, "area_ha")) / float(cfg["priority_area_ref_ha"]))
    mob_w = cfg["mobility"]
    num = np.zeros(len(df))
    den = np.zeros(len(df))
    for c, wc in mob_w.items():
        s = np.nan_to_num(_num(df, f"share_{c}"))
        num += float(wc) * s
        den += s
    mobility = np.divide(num, den, out=np.zeros(len(df)), where=den > 0)
    expo = np.nan_to_num(_num(df, "wind_exposure"), nan=0.5)
    total = sum(float(v) for v in (w["threat"], w["area"], w["wind"])) or 1.0
    score = (
        100.0
        * (
            float(w["threat"]) * threat
            + float(w["area"]) * area
            + float(w["wind"]) * expo * mobility
        )
        / total
    )
    return np.round(score, 2)


def decide_wasteland(
    df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: Mapping, cfg_water: dict
) -> pd.DataFrame:
    """W. state-owned waste land (module docstring): the best suitable use decided by water."""
    cfg = cfg_pathways["state_wasteland"]
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms, cfg_pathways, own_classes=cfg["classes"])
    targets = [str(t) for t in cfg["targets"]]
    max_slope = float(cfg_suitability["preferred_reclaim_slope_deg"])
    prot = _protected(out)
    r_use, r_code = reclaim_use(out, cfg_water)
    with np.errstate(invalid="ignore"):
        slope_ok = _num(out, "slope_mean") <= max_slope
    crop_ok = ~prot & slope_ok & (r_use != "")
    cur = out.get("current_class", pd.Series([""] * len(out), index=out.index))
    cur = cur.fillna("").astype(str).to_numpy()
    best = np.full(len(out), NATURAL, dtype=object)
    best_score = np.full(len(out), -np.inf)
    green = np.full(len(out), NATURAL, dtype=object)
    green_score = np.full(len(out), -np.inf)
    same = np.zeros(len(out), dtype=bool)
    for t in targets:
        # never the class the land already is (其他草地 is grassland: no grass counted again)
        own = np.isin(cur, list(TARGET_CLASSES.get(t, ())))
        ok = suitable(out, t, ms)
        same |= ok & own
        ok &= ~own
        sc = np.nan_to_num(_num(out, f"score_{t}"), nan=-np.inf)
        if t not in CROPLAND_TARGETS:
            g_better = ok & (sc > green_score)
            green[g_better] = t
            green_score[g_better] = sc[g_better]
        else:
            ok = ok & crop_ok
        better = ok & (sc > best_score)
        best[better] = t
        best_score[better] = sc[better]
    crop = np.isin(best, CROPLAND_TARGETS)
    # the water fallback (allocation) takes its uses from suitable_uses: not the own class
    own_of = {c: t for t, cs in TARGET_CLASSES.items() for c in cs}
    out["suitable_uses"] = [
        ";".join(u for u in str(su).split(";") if u and own_of.get(c) != u)
        for su, c in zip(out["suitable_uses"], cur)
    ]
    use = np.where(crop, r_use, best).astype(object)
    why = np.where(best == NATURAL, "", np.char.add("best_use_", best.astype(str))).astype(object)
    water = np.where(crop, r_code, "")
    crop_listed = any(t in CROPLAND_TARGETS for t in targets)
    no_crop = np.where(
        prot & crop_listed & suitable(out, "cropland", ms), "protected_area_no_cropland", ""
    )
    nat = np.where((best == NATURAL) & ~same, "no_suitable_green_use", "")
    kept = np.where((best == NATURAL) & same, "already_suitable_class_closure", "")
    out["initial_target"] = best
    out["initial_use"] = use
    out["green_use"] = green
    out["decision"] = _join(why, water, no_crop, kept, nat)
    out["pv_mw"] = 0.0
    _clear_not_eligible(out)
    return out


def _clear_not_eligible(out: pd.DataFrame) -> None:
    bad = ~out["eligible"].to_numpy(dtype=bool)
    out.loc[bad, ["initial_target", "sub_mode", "green_use", "decision"]] = ""
    out.loc[bad, "initial_use"] = "none"
    if "pv_mw" in out.columns:
        out.loc[bad, "pv_mw"] = 0.0


# --------------------------------------------------------------------------------------------
# Final fields from a (possibly allocated) decision


def finalize(
    df: pd.DataFrame, allocated: bool = False, *, natural_counts_as_greening: bool = False
) -> pd.DataFrame:
    """Recommended target, labels, score/grade of the implementing use and the indicators
    (module docstring).

    Before allocation (`allocated` False) the indicators are the potential of the initial
    target of every eligible parcel; after, `df` must hold the allocation's ``allocated``,
    ``final_target`` and ``final_use`` and only allocated parcels count. ``pv_mw`` must hold the
    potential MW (set by the deciders). `natural_counts_as_greening`: config
    ``pathways.natural_recovery_counts_as_greening`` (never for no_suitable_green_use).
    """
    out = df.copy()
    if not allocated:
        out["final_target"] = out["initial_target"]
        out["final_use"] = out["initial_use"]
        real = out["eligible"].to_numpy(dtype=bool)
    else:
        real = out["allocated"].astype(bool).to_numpy()
        out.loc[~real, "final_target"] = out.loc[~real, "initial_target"]
        out.loc[~real, "final_use"] = out.loc[~real, "initial_use"]
    real = real & out["eligible"].astype(bool).to_numpy()
    out["recommended_target"] = out["final_target"].fillna("").astype(str)
    out["target_zh"] = [target_zh(t, s) for t, s in zip(out["recommended_target"], out["sub_mode"])]
    use = out["final_use"].fillna("none").astype(str).to_numpy()
    out["water_use"] = use
    score = np.full(len(out), np.nan)
    grade = np.full(len(out), 255, dtype=np.int64)
    for u in np.unique(use):
        if f"score_{u}" in out.columns and f"grade_{u}" in out.columns:
            sel = use == u
            score[sel] = pd.to_numeric(out.loc[sel, f"score_{u}"], errors="coerce")
            grade[sel] = pd.to_numeric(out.loc[sel, f"grade_{u}"], errors="coerce").fillna(255)
    out["score"] = np.round(score, 2)
    out["grade"] = grade
    area = out["area_ha"].to_numpy(dtype=float)
    pathway = out["pathway"].astype(str).to_numpy()
    target = out["recommended_target"].to_numpy()
    no_green = (
        out["decision"].fillna("").astype(str).str.contains("no_suitable_green_use").to_numpy()
    )
    natural = real & (use == NATURAL)
    green = np.isin(use, GREEN_USES) | (natural & bool(natural_counts_as_greening) & ~no_green)
    out["new_cultivated_ha"] = np.where(real & np.isin(use, CROPLAND_USES), area, 0.0)
    # 增减挂钩: a restored homestead frees its area; a land consolidation the construction
    # land it reclaims (quota_source_ha <= area_ha)
    quota = np.where(
        pathway == "homestead_greening",
        area,
        np.where(
            pathway == "land_consolidation",
            np.minimum(np.nan_to_num(_num(out, "quota_source_ha")), area),
            0.0,
        ),
    )
    out["freed_quota_ha"] = np.where(real, quota, 0.0)
    out["greening_increment_ha"] = np.where(real & green, area, 0.0)
    out["closure_ha"] = np.where(real & (target == "closed_protection"), area, 0.0)
    out["natural_recovery_ha"] = np.where(natural, area, 0.0)
    pv = np.nan_to_num(_num(out, "pv_mw"), nan=0.0)
    out["pv_mw"] = np.where(real & (use == "solar_pv"), pv, 0.0)
    return out

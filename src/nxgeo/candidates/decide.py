"""Decision per candidate parcel (DOMAIN.md §6); every threshold comes from config ``pathways``.

Shared rules
------------
- A target use is **suitable** for a parcel when its majority grade is 1 or 2 (suitable /
  moderately suitable) and its mean score is >= ``pathways.min_suitable_score`` (default: the
  ``suitability.grade_breaks.moderately_suitable`` break, 40).
- **Protected** = the parcel touches a protected area (any zone) or the ecological red line
  (attributes ``protected_any`` / ``ecological_redline``). Nothing protected gets cropland,
  PV or construction.
- **Best green use** = among ``homestead_greening.regreen_targets`` (forest, shrub, grass) the
  suitable one with the highest mean score (ties: list order); ``natural`` (natural restoration,
  no planting, no water) when none is suitable.
- Every parcel gets ``initial_target`` (the pathway-level recommendation), ``initial_use`` (the
  water-demand use that implements it: a row of the water-demand table, or ``none`` /
  ``natural`` = no water), ``decision`` (why this target; ";"-separated codes) and, when not
  eligible, ``reason``.

A. homestead_greening: reclaim (``reclaim_target``, cropland) where cropland is suitable, the
mean slope <= ``suitability.preferred_reclaim_slope_deg`` and not protected — the water
allocation then decides; otherwise regreen to the best green use (``ecological`` natural
restoration when no green use is suitable). Decision codes: reclaim_cropland,
protected_area_no_cropland, slope_above_reclaim_limit, cropland_unsuitable,
no_suitable_green_use.

B. mine_remediation (eligible mines only; operating mines are listed with reason
``operating`` and no target): protected -> ``ecological``; else planned construction covering
>= ``construction_min_share`` of the parcel -> ``construction`` (a statutory plan comes
first); else a closed mine with mean slope <= ``pv_max_slope_deg`` and area >=
``pv_min_area_ha`` and PV not excluded there by a hard constraint (majority solar_pv grade
1-3: e.g. never on basic farmland) -> ``solar_pv`` (MW = area x ``pv_mw_per_ha``); else cropland where
suitable and mean slope <= ``preferred_reclaim_slope_deg`` -> ``cropland``; else
``ecological`` planted with the best green use (``green_use``). ``hazard_flag`` = 1 where the
maximum slope > ``hazard_slope_deg`` (slope cutting and load reduction, 削坡减荷).

C. sand_control: protected -> ``closed_protection`` (封禁保护); untreatable (water_secured
share < 0.5 and mean precipitation < ``untreatable_precip_mm``) -> ``closed_protection``;
threat distance (minimum distance to farmland, water, roads or settlements) <=
``threat_distance_m`` -> ``public_benefit`` (公益性治沙, planting ``water_use.public_benefit``,
default shrub); else ``for_profit`` (营利性治沙) with sub-mode ``pv`` where PV is suitable and
its score >= the shrub score, else ``tourism`` where the sandy share >=
``tourism_min_sandy_share`` and a road or settlement is within ``tourism_max_access_m``, else
``shrub`` (sand-tolerant shrubs: Caragana 柠条, sand willow 沙柳).

Sand-fixation priority (0-100, C only): 100 x (w_threat·T/(T+d) + w_area·(1 − e^(−A/A_ref))
+ w_wind·exposure·mobility) / Σw, with d the threat distance, T ``threat_distance_m``, A the
area (ha), A_ref ``priority_area_ref_ha``, exposure the mean wind-exposure proxy and mobility
the share-weighted ``mobility`` of the parcel's classes (sandy 1, bare 0.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET_ZH = {
    "cropland": "耕地（复垦）", "forest": "林地", "shrub": "灌木林地", "grass": "草地",
    "wetland": "湿地", "solar_pv": "光伏", "ecological": "生态用地", "construction": "建设用地",
    "closed_protection": "封禁保护", "public_benefit": "公益性治沙", "for_profit": "营利性治沙",
}
SUB_MODE_ZH = {"pv": "光伏治沙", "shrub": "灌木固沙（柠条、沙柳）", "tourism": "沙漠旅游"}
GREEN_USES = ("forest", "shrub", "grass", "wetland", "natural")
NO_WATER_USES = ("none", "natural")
DEFAULT_SAND_WATER_USE = {"public_benefit": "shrub", "pv": "solar_pv", "shrub": "shrub",
                          "tourism": "none"}


def target_zh(target, sub_mode=None) -> str:
    if not target:
        return ""
    zh = TARGET_ZH.get(str(target), str(target))
    if sub_mode and str(sub_mode) in SUB_MODE_ZH:
        zh = f"{zh}·{SUB_MODE_ZH[str(sub_mode)]}"
    return zh


def min_score(cfg_pathways: dict, cfg_suitability: dict | None) -> float:
    if cfg_pathways.get("min_suitable_score") is not None:
        return float(cfg_pathways["min_suitable_score"])
    breaks = (cfg_suitability or {}).get("grade_breaks") or {}
    return float(breaks.get("moderately_suitable", 40.0))


def suitable(df: pd.DataFrame, target: str, min_sc: float) -> np.ndarray:
    g, s = f"grade_{target}", f"score_{target}"
    if g not in df.columns or s not in df.columns:
        return np.zeros(len(df), dtype=bool)
    grade = pd.to_numeric(df[g], errors="coerce").to_numpy()
    score = pd.to_numeric(df[s], errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        return np.isin(grade, (1, 2)) & (score >= min_sc)


def best_green(df: pd.DataFrame, targets: list[str], min_sc: float) -> np.ndarray:
    """Best suitable green use per parcel, 'natural' where none is suitable."""
    best = np.full(len(df), "natural", dtype=object)
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
    """";"-list of the targets suitable for each parcel (order of the grade_* columns)."""
    targets = [c[len("grade_"):] for c in df.columns if c.startswith("grade_")]
    flags = {t: suitable(df, t, min_sc) for t in targets}
    return np.array([";".join(t for t in targets if flags[t][i]) for i in range(len(df))],
                    dtype=object)


def _base(df: pd.DataFrame, min_sc: float) -> pd.DataFrame:
    out = df.copy()
    out["suitable_uses"] = suitable_uses(out, min_sc)
    for c, v in (("initial_target", ""), ("initial_use", "none"), ("green_use", ""),
                 ("sub_mode", ""), ("decision", ""), ("hazard_flag", 0),
                 ("sand_priority", np.nan)):
        out[c] = v
    if "eligible" not in out.columns:
        out["eligible"] = True
    if "reason" not in out.columns:
        out["reason"] = ""
    out["reason"] = out["reason"].fillna("").astype(str)
    out["eligible"] = out["eligible"].astype(bool)
    nodata = np.isnan(_num(out, "slope_mean")) | np.isnan(_num(out, "precip_mean_mm"))
    newly = nodata & out["eligible"].to_numpy()
    out.loc[newly, "reason"] = "no_data"
    out.loc[newly, "eligible"] = False
    return out


def decide_homestead(df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: dict) -> pd.DataFrame:
    cfg = cfg_pathways.get("homestead_greening") or {}
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms)
    reclaim = str(cfg.get("reclaim_target", "cropland"))
    max_slope = float((cfg_suitability or {}).get("preferred_reclaim_slope_deg", 15.0))
    prot = _protected(out)
    slope = _num(out, "slope_mean")
    crop_suit = suitable(out, reclaim, ms)
    with np.errstate(invalid="ignore"):
        slope_ok = slope <= max_slope
    crop_ok = crop_suit & slope_ok & ~prot
    green = best_green(out, list(cfg.get("regreen_targets", ["forest", "shrub", "grass"])), ms)
    target = np.where(crop_ok, reclaim, np.where(green == "natural", "ecological", green))
    use = np.where(crop_ok, reclaim, green)
    why = np.where(crop_ok, "reclaim_cropland",
                   np.where(prot, "protected_area_no_cropland",
                            np.where(~slope_ok, "slope_above_reclaim_limit", "cropland_unsuitable")))
    nat = np.where(~crop_ok & (green == "natural"), "no_suitable_green_use", "")
    out["initial_target"] = target
    out["initial_use"] = use
    out["green_use"] = green
    out["decision"] = _join(why, nat)
    out["pv_mw"] = 0.0
    _clear_not_eligible(out)
    return out


def decide_mine(df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: dict) -> pd.DataFrame:
    cfg = cfg_pathways.get("mine_remediation") or {}
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms)
    max_reclaim = float((cfg_suitability or {}).get("preferred_reclaim_slope_deg", 15.0))
    regreen = list((cfg_pathways.get("homestead_greening") or {}).get(
        "regreen_targets", ["forest", "shrub", "grass"]))
    regreen = list(cfg.get("regreen_targets", regreen))
    prot = _protected(out)
    slope = _num(out, "slope_mean")
    area = _num(out, "area_ha")
    status = out.get("status", pd.Series([""] * len(out))).fillna("").astype(str).to_numpy()
    planned = _num(out, "planned_share")
    planned = np.nan_to_num(planned, nan=0.0) if len(planned) else planned
    with np.errstate(invalid="ignore"):
        construction = ~prot & (planned >= float(cfg.get("construction_min_share", 0.5))) & \
            (planned > 0)
        pv_grade = _num(out, "grade_solar_pv")
        pv_allowed = np.isin(pv_grade, (1, 2, 3)) if "grade_solar_pv" in out.columns else \
            np.ones(len(out), dtype=bool)
        pv = ~prot & ~construction & (status == "closed") & pv_allowed & \
            (slope <= float(cfg.get("pv_max_slope_deg", 15.0))) & \
            (area >= float(cfg.get("pv_min_area_ha", 1.0)))
        crop = ~prot & ~construction & ~pv & suitable(out, "cropland", ms) & (slope <= max_reclaim)
    green = best_green(out, regreen, ms)
    target = np.select([prot, construction, pv, crop],
                       ["ecological", "construction", "solar_pv", "cropland"], "ecological")
    use = np.select([prot, construction, pv, crop], [green, "built", "solar_pv", "cropland"], green)
    why = np.select([prot, construction, pv, crop],
                    ["protected_area", "planned_construction", "pv_closed_mine", "cropland_suitable"],
                    "ecological_best_green")
    unknown = np.where(status == "unknown", "status_unknown_check_operating", "")
    nat = np.where((use == "natural"), "no_suitable_green_use", "")
    out["initial_target"] = target
    out["initial_use"] = use
    out["green_use"] = green
    out["decision"] = _join(why, nat, unknown)
    out["pv_mw"] = np.where(use == "solar_pv", area * float(cfg.get("pv_mw_per_ha", 0.5)), 0.0)
    with np.errstate(invalid="ignore"):
        out["hazard_flag"] = (_num(out, "slope_max") >
                              float(cfg.get("hazard_slope_deg", 35.0))).astype(np.int64)
    _clear_not_eligible(out)
    return out


def decide_sand(df: pd.DataFrame, cfg_pathways: dict, cfg_suitability: dict) -> pd.DataFrame:
    cfg = cfg_pathways.get("sand_control") or {}
    ms = min_score(cfg_pathways, cfg_suitability)
    out = _base(df, ms)
    water_use = {**DEFAULT_SAND_WATER_USE, **dict(cfg.get("water_use") or {})}
    prot = _protected(out)
    precip = _num(out, "precip_mean_mm")
    secured = np.nan_to_num(_num(out, "water_secured_share"), nan=0.0)
    d = _num(out, "threat_dist_m")
    T = float(cfg.get("threat_distance_m", 2000.0))
    with np.errstate(invalid="ignore"):
        untreatable = ~prot & (secured < 0.5) & (precip < float(cfg.get("untreatable_precip_mm", 200.0)))
        closed = prot | untreatable
        public = ~closed & (d <= T)
        profit = ~closed & ~public
        pv_score = _num(out, "score_solar_pv")
        shrub_score = np.nan_to_num(_num(out, "score_shrub"), nan=-np.inf)
        pv = profit & suitable(out, "solar_pv", ms) & (pv_score >= shrub_score)
        sandy = np.nan_to_num(_num(out, "share_sandy"), nan=0.0)
        access = np.fmin(_num(out, "dist_roads_min_m"), _num(out, "dist_settlements_min_m"))
        tourism = profit & ~pv & (sandy >= float(cfg.get("tourism_min_sandy_share", 0.5))) & \
            (access <= float(cfg.get("tourism_max_access_m", 5000.0)))
    sub = np.select([pv, tourism, profit], ["pv", "tourism", "shrub"], "")
    target = np.select([closed, public], ["closed_protection", "public_benefit"], "for_profit")
    use = np.select([closed, public, pv, tourism],
                    ["none", water_use["public_benefit"], water_use["pv"], water_use["tourism"]],
                    water_use["shrub"])
    kind = out.get("threat_kind", pd.Series([""] * len(out))).fillna("").astype(str).to_numpy()
    why = np.select([prot, untreatable, public], ["protected_area", "untreatable",
                    np.char.add("threat_", kind.astype(str))], "no_threat")
    out["initial_target"] = target
    out["initial_use"] = use
    out["sub_mode"] = sub
    out["decision"] = why
    out["sand_priority"] = sand_priority(out, cfg)
    out["pv_mw"] = np.where(use == "solar_pv",
                            _num(out, "area_ha") * float(cfg.get("pv_mw_per_ha", 0.5)), 0.0)
    _clear_not_eligible(out)
    return out


def sand_priority(df: pd.DataFrame, cfg: dict) -> np.ndarray:
    w = {"threat": 0.5, "area": 0.2, "wind": 0.3, **dict(cfg.get("priority_weights") or {})}
    T = float(cfg.get("threat_distance_m", 2000.0))
    d = np.nan_to_num(_num(df, "threat_dist_m"), nan=np.inf)
    threat = np.where(np.isfinite(d), T / (T + np.maximum(d, 0.0)), 0.0)
    area = 1.0 - np.exp(-np.nan_to_num(_num(df, "area_ha")) /
                        float(cfg.get("priority_area_ref_ha", 50.0)))
    mob_w = {"sandy": 1.0, "bare": 0.5, **dict(cfg.get("mobility") or {})}
    num = np.zeros(len(df))
    den = np.zeros(len(df))
    for c, wc in mob_w.items():
        s = np.nan_to_num(_num(df, f"share_{c}"))
        num += float(wc) * s
        den += s
    mobility = np.divide(num, den, out=np.zeros(len(df)), where=den > 0)
    expo = np.nan_to_num(_num(df, "wind_exposure"), nan=0.5)
    total = sum(float(v) for v in (w["threat"], w["area"], w["wind"])) or 1.0
    score = 100.0 * (float(w["threat"]) * threat + float(w["area"]) * area +
                     float(w["wind"]) * expo * mobility) / total
    return np.round(score, 2)


def _clear_not_eligible(out: pd.DataFrame) -> None:
    bad = ~out["eligible"].to_numpy(dtype=bool)
    out.loc[bad, ["initial_target", "sub_mode", "green_use", "decision"]] = ""
    out.loc[bad, "initial_use"] = "none"
    if "pv_mw" in out.columns:
        out.loc[bad, "pv_mw"] = 0.0


DECIDERS = {"homestead_greening": decide_homestead, "mine_remediation": decide_mine,
            "sand_control": decide_sand}


# --------------------------------------------------------------------------------------------
# Final fields from a (possibly allocated) decision


def finalize(df: pd.DataFrame, allocated: bool = False) -> pd.DataFrame:
    """Recommended target, labels, score/grade of the implementing use and the indicators.

    Before allocation (`allocated` False) the indicators are the potential of the initial
    target of every eligible parcel; after, `df` must hold the allocation's ``allocated``,
    ``final_target`` and ``final_use`` and only allocated parcels count. ``pv_mw`` must hold the
    potential MW (set by the deciders).
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
    out["new_cultivated_ha"] = np.where(real & (use == "cropland"), area, 0.0)
    out["freed_quota_ha"] = np.where(pathway == "homestead_greening", area, 0.0)
    out["greening_increment_ha"] = np.where(real & np.isin(use, GREEN_USES), area, 0.0)
    pv = np.nan_to_num(_num(out, "pv_mw"), nan=0.0)
    out["pv_mw"] = np.where(real & (use == "solar_pv"), pv, 0.0)
    return out

"""The field registry: every field of every output vector layer, in one place (issue #17).

For each field: a Chinese alias (what QGIS shows as the column title, with the English name),
its type (``text``, ``int``, ``real``, ``bool``), its unit, and for coded fields a value map
(code -> Chinese / English label) that QGIS shows instead of the raw code (a ``ValueMap``
editor widget in the layer's default style, see `nxgeo.candidates.styles`). ``codes`` says how a
value is built from the map: ``"one"`` (the value is one code), ``"list"`` (several codes joined
by ";", e.g. ``decision``) or ``"bits"`` (a bit field, e.g. ``reason_<target>``: the labels of
every bit set).

``applies`` lists the pathways a field means something for (empty = every pathway). A field
that does not apply to a layer is kept (the three layers share one schema, so a union or a join
works on all of them), documented here, hidden in that layer's attribute table, and then may be
empty or constant. ``constant_ok`` marks fields that may legitimately be constant in a layer
(the pathway, the year, a class share that is 0 everywhere).

Fields whose names are built from a prefix and a class, target or service (``share_<class>``,
``score_<target>``, ``grade_<target>``, ``reason_<target>``) come from `PREFIX_FIELDS`; the
service gains ``d_*`` are listed one by one.

To add a field to a candidates layer: add its `Field` to `CANDIDATE_FIELDS` (or a prefix to
`PREFIX_FIELDS`); ``tests/test_fields.py`` fails for every field of every layer without an
entry. Docs: docs/qgis.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .suitability.codes import GRADE_LEGEND, REASONS, TARGET_LABELS

TYPES = ("text", "int", "real", "bool")


@dataclass(frozen=True)
class Field:
    """One field of an output layer."""

    name: str
    zh: str  # Chinese alias
    en: str  # English name (the alias shows "zh en")
    type: str  # text | int | real | bool
    unit: str = ""
    values: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # code -> (zh, en)
    codes: str = "one"  # one | list (";"-joined) | bits (bit field)
    applies: tuple[str, ...] = ()  # pathways it applies to; () = all
    constant_ok: bool = False
    note: str = ""

    @property
    def alias(self) -> str:
        unit = f"（{self.unit}）" if self.unit else ""
        return f"{self.zh}{unit} {self.en}" if self.en != self.zh else f"{self.zh}{unit}"

    def label(self, value) -> str:
        """The label QGIS shows for one stored value ('' for no value)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if self.codes == "bits":
            v = int(value)
            if v == 0:
                return "无 None"
            parts = [
                self.values.get(str(1 << b), (str(1 << b), str(1 << b)))
                for b in range(16)
                if (v >> b) & 1
            ]
            return "；".join(zh for zh, _ in parts) + " | " + "; ".join(en for _, en in parts)
        s = (
            str(int(value))
            if self.type in ("int", "bool") and not isinstance(value, str)
            else str(value)
        )
        if s == "":
            return ""
        codes = s.split(";") if self.codes == "list" else [s]
        parts = [_code_label(self.values, c) for c in codes]
        return "；".join(zh for zh, _ in parts) + " " + "; ".join(en for _, en in parts)


def _code_label(values: Mapping[str, tuple[str, str]], code: str) -> tuple[str, str]:
    if code in values:
        return values[code]
    for prefix, (zh, en) in values.items():  # "water_fallback_from_*": prefix entries
        if prefix.endswith("*") and code.startswith(prefix[:-1]):
            rest = code[len(prefix) - 1 :]
            rzh, ren = USE_VALUES.get(rest, (rest, rest))
            return f"{zh}{rzh}", f"{en} {ren}"
    return code, code


# --- value maps ----------------------------------------------------------------------------
PATHWAY_VALUES = {
    "homestead_greening": ("闲置宅基地复垦复绿", "Abandoned homestead greening"),
    "mine_remediation": ("矿山生态修复", "Mine remediation"),
    "sand_control": ("防沙治沙", "Sand control"),
    "state_wasteland": ("国有荒地复绿", "State-owned waste land regreening"),
    "land_consolidation": ("土地综合整治", "Land consolidation"),
}
STATUS_VALUES = {
    "idle": ("闲置", "idle"),
    "occupied": ("在用", "occupied"),
    "demolished": ("已拆除", "demolished"),
    "abandoned": ("废弃", "abandoned"),
    "closed": ("关闭", "closed"),
    "operating": ("生产中", "operating"),
    "unknown": ("未知", "unknown"),
    "state_owned": ("国有（未确权使用权）", "state-owned, no assigned use right"),
}
#: status of a candidate parcel since the previous survey year (nxgeo.tracking, docs/tracking.md)
DIFF_STATUS_VALUES = {
    "restored": ("已修复", "restored"),
    "in_progress": ("修复中", "in progress"),
    "unchanged": ("未变", "unchanged"),
    "changed": ("有变化", "changed"),
    "new": ("新增", "new"),
    "dropped": ("退出", "dropped"),
}
TARGET_VALUES = {
    **{k: v for k, v in TARGET_LABELS.items()},
    "cropland": ("耕地（复垦）", "Cropland (reclaimed)"),
    "ecological": ("生态用地", "Ecological land"),
    "construction": ("建设用地", "Construction land"),
    "closed_protection": ("封禁保护", "Closed protection"),
    "public_benefit": ("公益性治沙", "Public-benefit sand control"),
    "for_profit": ("营利性治沙", "For-profit sand control"),
    "natural_recovery": ("自然恢复（封育）", "Natural recovery (closure)"),
}
USE_VALUES = {
    **TARGET_VALUES,
    "cropland_dry": ("旱地（雨养）", "Dry cropland (rain-fed)"),
    "none": ("无（不用水）", "none (no water)"),
}
SUB_MODE_VALUES = {
    "pv": ("光伏治沙", "PV sand control"),
    "shrub": ("灌木固沙（柠条、沙柳）", "Shrub fixation (Caragana, sand willow)"),
    "tourism": ("沙漠旅游", "Desert tourism"),
}
FUNDING_VALUES = {
    "public": ("财政资金", "public money (legacy mines, public-benefit works)"),
    "operator": ("矿权人·治理恢复基金", "operator's restoration fund"),
    "social_capital": ("社会资本", "social capital (for-profit modes)"),
}
#: what is done on a parcel (nxgeo.costs.parcel_measure): a row of the unit-cost table
MEASURE_VALUES = {
    **USE_VALUES,
    "for_profit_pv": ("营利性治沙·光伏治沙", "For-profit: PV sand control"),
    "for_profit_shrub": ("营利性治沙·灌木固沙", "For-profit: shrub fixation"),
    "for_profit_tourism": ("营利性治沙·沙漠旅游", "For-profit: desert tourism"),
}
THREAT_VALUES = {
    "farmland": ("农田", "farmland"),
    "water": ("水体", "water"),
    "roads": ("道路", "roads"),
    "settlements": ("居民点", "settlements"),
}
DECISION_VALUES = {
    "reclaim_cropland": ("复垦为耕地", "reclaim to cropland"),
    "reclaim_irrigated_secured_water": ("有保障水源，复垦水浇地", "irrigated: secured water"),
    "reclaim_dry_cropland": ("复垦旱地（雨养）", "rain-fed dry cropland"),
    "protected_area_no_cropland": ("位于保护地/红线，不复垦耕地", "protected: no cropland"),
    "slope_above_reclaim_limit": ("坡度超过复垦上限", "slope above reclamation limit"),
    "cropland_unsuitable": ("耕地不适宜", "cropland unsuitable"),
    "no_reclamation_without_secured_water": (
        "无保障水源，不复垦",
        "no secured water: no reclamation",
    ),
    "no_suitable_green_use": (
        "无适宜绿化用途，自然恢复",
        "no suitable green use: natural recovery",
    ),
    "protected_area": ("位于保护地/生态红线", "protected area or red line"),
    "planned_construction": ("规划建设用地", "planned construction"),
    "pv_closed_mine": ("关闭矿山建光伏", "PV on a closed mine"),
    "cropland_suitable": ("耕地适宜", "cropland suitable"),
    "ecological_best_green": ("生态修复，最适宜绿化用途", "ecological, best green use"),
    "untreatable": ("无水源且降水不足，封禁", "untreatable: closure"),
    "no_threat": ("无近距离威胁", "no nearby threat"),
    "threat_farmland": ("威胁农田", "threatens farmland"),
    "threat_water": ("威胁水体", "threatens water"),
    "threat_roads": ("威胁道路", "threatens roads"),
    "threat_settlements": ("威胁居民点", "threatens settlements"),
    "status_unknown_check_operating": ("状态未知，需核实是否生产", "status unknown: check"),
    "water_fallback_from_*": ("水量不足，改自", "water short, fell back from"),
    "best_use_*": ("以水定绿，最适宜用途", "best suitable use"),
    "already_suitable_class_closure": (
        "现状已是适宜地类，封育自然恢复",
        "already the suitable class: closure for natural recovery",
    ),
}
REASON_VALUES = {
    "operating": ("生产矿山（不符合条件）", "operating mine (not eligible)"),
    "no_data": ("无数据", "no data"),
    "already_restored": ("已是绿地或耕地", "already green or cropland"),
    "water_budget": ("县域水量不足（未配置）", "county water budget exhausted"),
    "status_unknown": ("状态未知", "status unknown"),
    "status_occupied": ("在用（不符合条件）", "occupied (not eligible)"),
    "status_active": ("在用（不符合条件）", "active (not eligible)"),
    "not_farming_village": (
        "耕地占比不足（非农业村）",
        "cropland share too low (not a farming village)",
    ),
    "not_fragmented": ("耕地不破碎", "cropland not fragmented"),
}
GRADE_VALUES = {str(code): (zh, en) for code, _key, zh, en in GRADE_LEGEND}
GRADE_VALUES["255"] = ("无等级", "no grade")
REASON_BIT_VALUES = {str(1 << bit): (zh, en) for bit, _c, zh, en, _d in REASONS}
YES_NO = {"1": ("是", "yes"), "0": ("否", "no")}
STABILITY_VALUES = {
    "robust": ("稳健（各情景结果一致）", "robust (same in >= 90 % of draws)"),
    "fragile": ("不稳健（随参数变化）", "fragile (flips with the parameters)"),
}
ID_ORIGIN_VALUES = {
    "source": ("源图层编号", "id of the source layer"),
    "carried": ("沿用上年编号", "carried from the previous year (overlap)"),
    "split": ("分割自上年地块", "split from a previous-year parcel"),
    "merged": ("合并自上年地块", "merged from previous-year parcels"),
    "new": ("新增地块", "new parcel"),
}
# the shipped canonical classes (config/landuse/classes.csv; tests/test_fields.py keeps them equal)
CLASS_VALUES = {
    "cropland_irrigated": ("水浇耕地", "Irrigated cropland"),
    "cropland_dry": ("旱地", "Dry cropland"),
    "orchard": ("园地", "Orchard"),
    "forest": ("林地", "Forest"),
    "shrub": ("灌木林地", "Shrubland"),
    "grassland": ("草地", "Grassland"),
    "wetland": ("湿地", "Wetland"),
    "water": ("水域", "Water"),
    "built": ("建设用地", "Built-up land"),
    "rural_homestead": ("农村宅基地", "Rural homestead"),
    "mining": ("采矿用地", "Mining land"),
    "sandy": ("沙地", "Sandy land"),
    "bare": ("裸地", "Bare land"),
}

A, B, C = "homestead_greening", "mine_remediation", "sand_control"
D = "land_consolidation"
W = "state_wasteland"


def _f(name, zh, en, type_, unit="", **kw) -> Field:
    if type_ not in TYPES:  # pragma: no cover - a typo in this file
        raise ValueError(f"field {name}: type {type_!r} not in {TYPES}")
    return Field(name, zh, en, type_, unit, **kw)


# --- the candidates layers (homestead_greening, mine_remediation, sand_control, ...) --------
_CANDIDATES = [
    _f("parcel_id", "地块编号", "Parcel id", "text"),
    _f(
        "pathway",
        "修复路径",
        "Pathway",
        "text",
        values=PATHWAY_VALUES,
        constant_ok=True,
        note="one pathway per layer",
    ),
    _f("year", "调查年度", "Survey year", "int", constant_ok=True, note="one year per file"),
    _f("adcode", "县区代码", "County code", "text"),
    _f("county_name", "县区", "County", "text"),
    _f("reach", "河段", "River reach", "text"),
    _f(
        "parent_ids",
        "上年度来源地块",
        "Parent parcels (previous year)",
        "text",
        note="ids of the previous year's parcels a split or merged parcel comes from (nxgeo.tracking)",
    ),
    _f("id_origin", "编号来源", "Id origin", "text", values=ID_ORIGIN_VALUES),
    _f(
        "source_id",
        "原图斑编号",
        "Source feature id",
        "text",
        applies=(A, B, D),
        note="sand units are built from the sand areas, they have no source feature",
    ),
    _f("status", "现状", "Status", "text", values=STATUS_VALUES, applies=(A, B, W)),
    _f("legacy", "历史遗留矿山", "Legacy mine", "bool", values=YES_NO, applies=(B,)),
    _f(
        "funding",
        "资金来源",
        "Funding",
        "text",
        values=FUNDING_VALUES,
        note="who pays (docs/programme.md): mines by their legacy field, others by measure",
    ),
    _f("area_ha", "面积", "Area", "real", "公顷 ha"),
    _f("area_mu", "面积", "Area", "real", "亩 mu"),
    _f("current_class", "现状地类", "Current land-use class", "text", values=CLASS_VALUES),
    _f("recommended_target", "推荐用途", "Recommended target", "text", values=TARGET_VALUES),
    _f("target_zh", "推荐用途（中文）", "Recommended target (Chinese)", "text"),
    _f(
        "sub_mode",
        "营利性治沙方式",
        "For-profit sub-mode",
        "text",
        values=SUB_MODE_VALUES,
        applies=(C,),
    ),
    _f(
        "green_use",
        "绿化用途",
        "Green use (planting)",
        "text",
        values=USE_VALUES,
        applies=(A, B, D, W),
    ),
    _f(
        "initial_target",
        "配水前推荐用途",
        "Target before water allocation",
        "text",
        values=TARGET_VALUES,
    ),
    _f("initial_use", "配水前用水用途", "Water use before allocation", "text", values=USE_VALUES),
    _f("water_use", "用水用途", "Water-demand use", "text", values=USE_VALUES),
    _f("score", "适宜性得分", "Suitability score", "real", "0–100"),
    _f("grade", "适宜性等级", "Suitability grade", "int", values=GRADE_VALUES),
    _f("decision", "决策依据", "Decision", "text", values=DECISION_VALUES, codes="list"),
    _f("eligible", "符合条件", "Eligible", "bool", values=YES_NO),
    _f(
        "reason",
        "未配置原因",
        "Reason not allocated / not eligible",
        "text",
        values=REASON_VALUES,
        codes="list",
        note="empty for every parcel that is eligible and allocated",
    ),
    _f(
        "measure",
        "修复措施",
        "Measure",
        "text",
        values=MEASURE_VALUES,
        note="the row of the unit-cost table (config/tables/unit_costs.csv)",
    ),
    _f(
        "unit_cost_cny_per_mu",
        "单位投资",
        "Unit cost",
        "real",
        "元/亩 CNY/mu",
        note="with slope cutting (削坡减荷) for hazard mines",
    ),
    _f("cost_cny", "投资估算", "Cost", "real", "元 CNY"),
    _f("cost_wan_cny", "投资估算", "Cost", "real", "万元 10^4 CNY"),
    _f("water_demand_m3", "需水量", "Water demand", "real", "立方米/年 m³/yr"),
    _f("allocated", "已配水", "Allocated", "bool", values=YES_NO),
    _f("rank_in_county", "县内排序", "Rank in county", "int"),
    _f(
        "p_selected",
        "入选概率",
        "Selection probability",
        "real",
        note="share of the Monte-Carlo draws of the uncertain parameters in which the parcel is "
        "allocated (nxgeo.stability)",
    ),
    _f("p_top_k", "县内前k名概率", "Probability of top-k in county", "real"),
    _f("rank_p05", "排序5%分位", "Rank, 5th percentile", "int"),
    _f("rank_p95", "排序95%分位", "Rank, 95th percentile", "int"),
    _f("selection_stability", "入选稳健性", "Selection stability", "text", values=STABILITY_VALUES),
    _f("new_cultivated_ha", "新增耕地", "New cultivated land", "real", "公顷 ha"),
    _f(
        "freed_quota_ha",
        "腾退建设用地指标",
        "Freed construction quota",
        "real",
        "公顷 ha",
        applies=(A, D),
    ),
    _f("greening_increment_ha", "绿化增量", "Greening increment", "real", "公顷 ha"),
    _f("closure_ha", "封禁保护面积", "Closed protection", "real", "公顷 ha", applies=(C,)),
    _f("natural_recovery_ha", "自然恢复面积", "Natural recovery", "real", "公顷 ha"),
    _f("pv_mw", "光伏装机", "PV capacity", "real", "兆瓦 MW", applies=(B, C)),
    _f("sand_priority", "治沙优先度", "Sand-control priority", "real", "0–100", applies=(C,)),
    _f("hazard_flag", "需削坡减荷", "Slope hazard works", "bool", values=YES_NO, applies=(B,)),
    # D land consolidation: the village (nxgeo.candidates.consolidation)
    _f(
        "village_id",
        "村庄编号",
        "Village id",
        "text",
        applies=(D,),
        note="the settlement the village unit is built around",
    ),
    _f("village_name", "村庄名称", "Village name", "text", applies=(D,)),
    _f("village_area_ha", "村庄单元面积", "Village unit area", "real", "公顷 ha", applies=(D,)),
    _f("cropland_ha", "村内耕地面积", "Cropland in the village", "real", "公顷 ha", applies=(D,)),
    _f(
        "cropland_share",
        "村内耕地占比",
        "Cropland share of the village",
        "real",
        "0–1",
        applies=(D,),
    ),
    _f("cropland_patches", "耕地斑块数", "Cropland patches", "int", applies=(D,)),
    _f(
        "mean_patch_ha",
        "耕地平均斑块面积",
        "Mean cropland patch",
        "real",
        "公顷 ha",
        applies=(D,),
        note="the fragmentation measure (FRAGSTATS MPS)",
    ),
    _f(
        "ridge_ha",
        "田坎面积",
        "Field ridges",
        "real",
        "公顷 ha",
        applies=(D,),
        note="三调 1203 on flat land; 0 in schemes without ridges",
    ),
    _f(
        "scattered_built_ha",
        "零星建设用地面积",
        "Scattered construction land",
        "real",
        "公顷 ha",
        applies=(D,),
    ),
    _f("homestead_ha", "闲置宅基地面积", "Idle homesteads", "real", "公顷 ha", applies=(D,)),
    _f(
        "quota_source_ha",
        "可腾退建设用地面积",
        "Construction land reclaimed",
        "real",
        "公顷 ha",
        applies=(D,),
        note="freed_quota_ha when allocated",
    ),
    _f("slope_mean", "平均坡度", "Mean slope", "real", "度 deg"),
    _f("slope_min", "最小坡度", "Minimum slope", "real", "度 deg"),
    _f("slope_max", "最大坡度", "Maximum slope", "real", "度 deg"),
    _f("precip_mean_mm", "平均降水量", "Mean precipitation", "real", "毫米/年 mm/yr"),
    _f("elev_mean_m", "平均高程", "Mean elevation", "real", "米 m"),
    _f("dist_water_m", "距水体平均距离", "Mean distance to water", "real", "米 m"),
    _f("dist_roads_m", "距道路平均距离", "Mean distance to roads", "real", "米 m"),
    _f("dist_settlements_m", "距居民点平均距离", "Mean distance to settlements", "real", "米 m"),
    _f("dist_water_min_m", "距水体最近距离", "Nearest distance to water", "real", "米 m"),
    _f("dist_roads_min_m", "距道路最近距离", "Nearest distance to roads", "real", "米 m"),
    _f(
        "dist_settlements_min_m",
        "距居民点最近距离",
        "Nearest distance to settlements",
        "real",
        "米 m",
    ),
    _f(
        "dist_farmland_m",
        "距农田最近距离",
        "Nearest distance to farmland",
        "real",
        "米 m",
        applies=(C,),
    ),
    _f("threat_dist_m", "威胁距离", "Threat distance", "real", "米 m", applies=(C,)),
    _f(
        "threat_kind", "受威胁对象", "Threatened object", "text", values=THREAT_VALUES, applies=(C,)
    ),
    _f("wind_exposure", "风蚀暴露度", "Wind exposure", "real", "0–1", applies=(C,)),
    _f("protected_share", "保护地/红线占比", "Share protected", "real", "0–1", applies=(C,)),
    _f(
        "hazard_slope_max_deg",
        "最大坡度（精细DEM）",
        "Maximum slope (finest DEM)",
        "real",
        "度 deg",
        applies=(B,),
        note="empty where the finest DEM gives no slope inside the mine (coarse test grids)",
    ),
    _f("protected_core", "涉及保护地核心区", "Touches a core zone", "bool", values=YES_NO),
    _f("protected_any", "涉及自然保护地", "Touches a protected area", "bool", values=YES_NO),
    _f("ecological_redline", "涉及生态红线", "Touches the red line", "bool", values=YES_NO),
    _f("basic_farmland_share", "永久基本农田占比", "Share basic farmland", "real", "0–1"),
    _f("water_secured_share", "有保障水源占比", "Share with secured water", "real", "0–1"),
    _f(
        "planned_share",
        "规划建设用地占比",
        "Share planned construction",
        "real",
        "0–1",
        applies=(B,),
        note="0 everywhere when no planned-construction layer is configured",
    ),
    _f("best_use", "最适宜用途", "Best use", "text", values=USE_VALUES),
    _f("suitable_uses", "适宜用途", "Suitable uses", "text", values=USE_VALUES, codes="list"),
    # service gains of the recommended target (docs/gep.md; nxgeo.services.parcels)
    _f("d_carbon_t", "碳储量变化", "Change of carbon stock", "real", "吨碳 t C"),
    _f("d_carbon_t_co2", "碳储量变化", "Change of carbon stock", "real", "吨CO₂ t CO2"),
    _f(
        "d_carbon_stock_value_cny",
        "碳储量变化价值",
        "Value of the carbon-stock change",
        "real",
        "元 CNY",
    ),
    _f(
        "d_carbon_seq_t_co2_per_yr",
        "年固碳量增量",
        "Gain of yearly sequestration",
        "real",
        "吨CO₂/年 t CO2/yr",
    ),
    _f("d_soil_t", "土壤保持增量", "Gain of soil retention", "real", "吨/年 t/yr"),
    _f("d_nutrient_t", "保肥增量", "Gain of nutrient retention", "real", "吨/年 t/yr"),
    _f("d_sand_t", "防风固沙增量", "Gain of sand fixation", "real", "吨/年 t/yr"),
    _f("d_water_m3", "水源涵养增量", "Gain of water conservation", "real", "立方米/年 m³/yr"),
    _f("d_flood_m3", "洪水调蓄增量", "Gain of flood regulation", "real", "立方米/年 m³/yr"),
    _f("d_climate_kwh", "气候调节增量", "Gain of climate regulation", "real", "千瓦时/年 kWh/yr"),
    _f("d_air_kg", "空气净化增量", "Gain of air purification", "real", "千克/年 kg/yr"),
    _f("d_water_purif_kg", "水质净化增量", "Gain of water purification", "real", "千克/年 kg/yr"),
    _f("d_gep_cny", "GEP增量", "GEP gain", "real", "元/年 CNY/yr"),
    _f("d_gep_wan_cny", "GEP增量", "GEP gain", "real", "万元/年 10^4 CNY/yr"),
]
_SERVICE_VALUE_NAMES = {
    "water_conservation": "水源涵养",
    "soil_retention": "土壤保持（减淤）",
    "nutrient_retention": "土壤保持（保肥）",
    "sand_fixation": "防风固沙",
    "flood_regulation": "洪水调蓄",
    "air_purification": "空气净化",
    "water_purification": "水质净化",
    "carbon_sequestration": "固碳",
    "oxygen_release": "释氧",
    "climate_regulation": "气候调节",
}
_CANDIDATES += [
    _f(
        f"d_{s}_value_cny",
        f"{zh}价值增量",
        f"Gain of {s.replace('_', ' ')} value",
        "real",
        "元/年 CNY/yr",
        note=("empty unless services.include_oxygen" if s == "oxygen_release" else ""),
    )
    for s, zh in _SERVICE_VALUE_NAMES.items()
]
# --- the programme layer (programme.gpkg, nxgeo.programme): candidate fields plus these
_PROGRAMME = [
    _f("rank", "计划排序", "Programme rank", "int", note="1 = best value per 万元"),
    _f("water_m3", "配置水量", "Water allocated", "real", "立方米/年 m³/yr"),
    _f(
        "objective_value",
        "目标值",
        "Objective value",
        "real",
        note="GEP gain (CNY/yr) or the weighted indicators (programme.objective)",
    ),
    _f(
        "value_per_wan_cny",
        "每万元目标值",
        "Objective per 10^4 CNY",
        "real",
        note="empty for a parcel that costs nothing",
    ),
    _f("in_greedy", "贪心法亦选", "Also chosen by greedy", "bool", values=YES_NO),
]
CANDIDATE_FIELDS: dict[str, Field] = {f.name: f for f in _CANDIDATES}
PROGRAMME_FIELDS: dict[str, Field] = {f.name: f for f in _PROGRAMME}

# prefix -> (zh, en, type, unit, values, codes, constant_ok); the rest of the name is a class
# (share_) or a target (score_, grade_, reason_)
PREFIX_FIELDS: dict[str, tuple] = {
    "share_": ("占比", "share", "real", "0–1", {}, "one", True),
    "score_": ("适宜性得分", "suitability score", "real", "0–100", {}, "one", False),
    "grade_": ("适宜性等级", "suitability grade", "int", "", GRADE_VALUES, "one", False),
    "reason_": ("排除原因", "exclusion reasons", "int", "", REASON_BIT_VALUES, "bits", False),
}

#: layers of candidates.gpkg that use CANDIDATE_FIELDS
CANDIDATE_LAYERS = tuple(PATHWAY_VALUES)


def lookup(
    name: str, layer: str = "candidates", class_names: Mapping[str, tuple[str, str]] | None = None
) -> Field:
    """The registry entry of field `name` of `layer`; KeyError (naming the field, the layer and
    where to add it) when there is none. `class_names`: canonical class -> (zh, en), for the
    ``share_<class>`` fields (from the classes table)."""
    if name in CANDIDATE_FIELDS:
        return CANDIDATE_FIELDS[name]
    if layer == "programme" and name in PROGRAMME_FIELDS:
        return PROGRAMME_FIELDS[name]
    for prefix, (zh, en, type_, unit, values, codes, const) in PREFIX_FIELDS.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            key = name[len(prefix) :]
            names = {**USE_VALUES, **CLASS_VALUES, **(class_names or {})}
            kzh, ken = names.get(key, (key, key.replace("_", " ")))
            return Field(
                name,
                f"{kzh}{zh}",
                f"{ken} {en}".capitalize(),
                type_,
                unit,
                values=values,
                codes=codes,
                constant_ok=const,
            )
    raise KeyError(
        f"field {name!r} of layer {layer!r} has no entry in the field registry: add a "
        f"Field to nxgeo.fields.CANDIDATE_FIELDS (Chinese alias, English name, type, "
        f"value map for codes)"
    )


def class_names_from_table(classes) -> dict[str, tuple[str, str]]:
    """canonical -> (name_zh, name_en) from the classes table (a DataFrame)."""
    return {str(r.canonical): (str(r.name_zh), str(r.name_en)) for r in classes.itertuples()}


def applies(f: Field, layer: str) -> bool:
    """Whether field `f` means something in `layer` (a pathway; any other name: yes)."""
    return not f.applies or layer not in PATHWAY_VALUES or layer in f.applies


def bool_fields() -> set[str]:
    return {n for n, f in CANDIDATE_FIELDS.items() if f.type == "bool"}

"""The data contract: one declaration per input item / 数据约定：每项输入只在此声明一次.

Every input the pipeline reads is declared here once — its kind (raster / vector / table /
land use), geometry type, required fields and their allowed values, unit and ranges, whether it
is optional, and a description in Chinese and English. From these declarations come:

- the checks (:mod:`.rasters`, :mod:`.vectors`, :mod:`.tables` read the items, not constants of
  their own) and the wording of their messages (``Item.what``, the geometry words, the hints);
- the list of contract files a rule declares as input (:func:`contract_files`, used by
  ``nxgeo.paths.contract_files``);
- the README's data-contract table: ``python -m nxgeo.validate.contract --markdown`` prints it
  and tests/test_contract.py fails when the README's copy differs.

Allowed coded values come from the one vocabulary validation and processing share
(``nxgeo.keys.VOCABULARY``); the config schema's ``required`` lists under ``inputs`` must agree
with ``optional`` here (tested). The idea is InVEST's MODEL_SPEC, without its size.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..keys import BOOLEAN_ROLES, VOCABULARY

LANDUSE, RASTER, VECTOR, TABLE = "landuse", "raster", "vector", "table"
POLYGON, LINE, POINT = "polygon", "line", "point"
#: how a geometry type is named in messages
GEOMETRY_WORDS = {POLYGON: "polygons (areas)", LINE: "lines", POINT: "points"}
GEOMETRY_ZH = {POLYGON: "面", LINE: "线", POINT: "点"}


@dataclass(frozen=True)
class Field:
    """A field of a vector layer, named by its role (the key under ``fields:`` in the config)."""

    role: str
    default: str  # the field name of the shipped config (shown in hints)
    required: bool = False  # the role must be configured (and the field present)
    zh: str = ""
    values: tuple[str, ...] = ()  # allowed values (coded field); nxgeo.keys recodes synonyms
    boolean: bool = False  # a yes/no flag


@dataclass(frozen=True)
class Column:
    """A column of a CSV table (one cell per row checked against it)."""

    name: str
    type: str  # "integer" | "number" | "string"
    required: bool = True  # the column must be present and every cell filled
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None  # regular expression a text cell must match
    min_length: int | None = None
    unit: str = ""

    def schema(self) -> dict:
        """The JSON-Schema-like row schema entry the table checks read."""
        out: dict = {"type": self.type if self.required else [self.type, "null"]}
        for k, v in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("pattern", self.pattern),
            ("minLength", self.min_length),
        ):
            if v is not None:
                out[k] = v
        return out


@dataclass(frozen=True)
class Item:
    """One input of the data contract."""

    name: str  # key under inputs.<section>
    kind: str  # LANDUSE | RASTER | VECTOR | TABLE
    zh: str  # 中文说明
    en: str  # English description
    optional: bool = False
    # pathways that cannot run without this optional input: it is required while one of them
    # is configured under `pathways:` (the parcels are located inside it)
    needed_by: tuple[str, ...] = ()
    what: str = ""  # how messages name it ("elevation (DEM)"); default: the name, spaced
    # rasters
    unit: str = ""
    hard: tuple[float | None, float | None] = (None, None)  # error outside
    plausible: tuple[float | None, float | None] = (None, None)  # warning outside
    hint: str = ""  # what to do when the values are out of range
    # vectors
    geometry: str | None = None
    fields: tuple[Field, ...] = ()
    no_overlap: bool = False  # polygons must not overlap (counted twice otherwise)
    # tables
    columns: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()  # columns unique together
    covers: tuple[str, ...] = ()  # ("counties", "years"): a row per county x configured year

    @property
    def section(self) -> str:
        return {LANDUSE: "landuse", RASTER: "rasters", VECTOR: "vectors", TABLE: "tables"}[
            self.kind
        ]

    @property
    def config_key(self) -> str:
        """Where the config names it (``inputs.rasters.dem``; per year for land use)."""
        if self.kind == LANDUSE:
            return f"inputs.landuse.{self.name}.<year>"
        return f"inputs.{self.section}.{self.name}"

    @property
    def label(self) -> str:
        return self.what or self.name.replace("_", " ")

    @property
    def required_fields(self) -> dict[str, str]:
        """{role: default field name} of the roles that must be configured."""
        return {f.role: f.default for f in self.fields if f.required}

    def row_schema(self) -> dict:
        """The row schema of a table (required columns, cells, key, coverage)."""
        out: dict = {
            "title": self.en,
            "required": [c.name for c in self.columns if c.required],
            "properties": {c.name: c.schema() for c in self.columns},
        }
        if self.key:
            out["x-key"] = list(self.key)
        if self.covers:
            out["x-covers"] = list(self.covers)
        return out


def _coded(item: str, role: str, default: str, zh: str, required: bool = True) -> Field:
    return Field(role, default, required, zh, values=VOCABULARY[(item, role)])


def _flag(item: str, role: str, default: str, zh: str) -> Field:
    assert (item, role) in BOOLEAN_ROLES
    return Field(role, default, False, zh, boolean=True)


ID, NAME = "id", "name"
ADCODE = r"^[0-9]{6}$"
YES_NO = "^(yes|no)$"


def _adcode() -> Column:
    return Column("adcode", "string", pattern=ADCODE)


def _note(name: str = "note") -> Column:
    return Column(name, "string", required=False)


# The order is the order of `inputs:` in config/config.yaml (and of the README table).
ITEMS: tuple[Item, ...] = (
    # ---- land use -------------------------------------------------------------------------
    Item(
        "files",
        LANDUSE,
        "土地利用（每个调查年份）：三调/变更调查地类图斑（DLTB），或按地类编码方案的整数 GeoTIFF",
        "land use per survey year: the survey's DLTB polygons, or an integer GeoTIFF of the "
        "codes of `inputs.landuse.scheme` (gbt21010 三调 | clcd | cnlucc), nodata declared; "
        "an unknown code is an error",
        what="land use",
        fields=(
            Field("code", "DLBM", True, "地类编码"),
            Field("ownership", "QSXZ", True, "权属性质"),
        ),
    ),
    Item(
        "ownership",
        LANDUSE,
        "土地权属栅格（每年，栅格格式时）：1 国有、2 集体、0 未知",
        "land ownership raster per year (format raster): 1 state, 2 collective, 0 unknown",
        optional=True,
        what="ownership",
    ),
    # ---- rasters --------------------------------------------------------------------------
    Item(
        "dem",
        RASTER,
        "数字高程模型（米）",
        "digital elevation model",
        what="elevation (DEM)",
        unit="m",
        hard=(-500.0, 9000.0),
        plausible=(-500.0, 9000.0),
        hint="the DEM must be in metres (is it in decimetres or centimetres?)",
    ),
    Item(
        "precipitation",
        RASTER,
        "多年平均年降水量",
        "mean annual precipitation",
        what="annual precipitation",
        unit="mm/yr",
        hard=(0.0, None),
        plausible=(10.0, 5000.0),
        hint=(
            "precipitation must be mm per year (0.1 mm units must be divided by 10; "
            "metres multiplied by 1000)"
        ),
    ),
    Item(
        "fvc",
        RASTER,
        "植被覆盖度（缺省时按地类取值）",
        "fractional vegetation cover (absent: a value per land-use class)",
        optional=True,
        what="fractional vegetation cover",
        unit="0-1",
        hard=(0.0, 1.0),
        plausible=(0.0, 1.0),
        hint=(
            "vegetation cover must be a fraction 0-1 (percent values must be divided by 100, "
            'e.g. gdal_calc.py --calc="A/100")'
        ),
    ),
    Item(
        "soil_k",
        RASTER,
        "土壤可蚀性因子 K（缺省时按地类取值）",
        "soil erodibility K (absent: a value per land-use class)",
        optional=True,
        what="soil erodibility K",
        unit="t·ha·h/(ha·MJ·mm)",
        hard=(0.0, None),
        plausible=(0.0, 1.0),
        hint="K in SI units is usually 0-0.1 (US customary K must be multiplied by 0.1317)",
    ),
    Item(
        "sand_fraction",
        RASTER,
        "土壤砂粒含量（缺省时用区域常数）",
        "soil sand fraction (absent: the regional constant)",
        optional=True,
        what="sand fraction",
        unit="0-1",
        hard=(0.0, 1.0),
        plausible=(0.0, 1.0),
        hint="sand fraction must be 0-1 (percent values must be divided by 100)",
    ),
    Item(
        "wind_factor",
        RASTER,
        "RWEQ 气象因子 WF（缺省时用区域常数）",
        "RWEQ weather factor WF (absent: the regional constant)",
        optional=True,
        what="RWEQ weather factor",
        unit="kg/m",
        hard=(0.0, None),
        plausible=(0.0, None),
    ),
    Item(
        "nep",
        RASTER,
        "净生态系统生产力，替代未变化土地的按地类固碳速率",
        "net ecosystem production: replaces the class sequestration rate on unchanged land",
        optional=True,
        what="nep",
        unit="t C/ha/yr",
    ),
    Item(
        "official_ecology",
        RASTER,
        "双评价：生态保护重要性（分级栅格；或用同名面图层）",
        "the department's 双评价 ecological importance classes (or the polygons of the same name)",
        optional=True,
        what="official ecology",
    ),
    Item(
        "official_agriculture",
        RASTER,
        "双评价：农业生产适宜性（分级栅格；或用同名面图层）",
        "the department's 双评价 agricultural suitability classes (or the polygons)",
        optional=True,
        what="official agriculture",
    ),
    Item(
        "official_construction",
        RASTER,
        "双评价：城镇建设适宜性（分级栅格；或用同名面图层）",
        "the department's 双评价 urban construction suitability classes (or the polygons)",
        optional=True,
        what="official construction",
    ),
    # ---- vectors --------------------------------------------------------------------------
    Item(
        "counties",
        VECTOR,
        "县级行政区：定义研究区和各表格的县",
        "counties: define the region and the counties of every table",
        geometry=POLYGON,
        fields=(
            Field(ID, "adcode", True, "行政区划代码（6 位）"),
            Field(NAME, "name_zh", True, "县名"),
        ),
        no_overlap=True,
    ),
    Item(
        "reaches",
        VECTOR,
        "河段（分区单元，每个河段一个作业）",
        "river reaches (the unit of work: one job each)",
        geometry=POLYGON,
        fields=(Field(ID, "reach_id", True, "河段编号"), Field(NAME, "name", zh="名称")),
    ),
    Item(
        "protected_areas",
        VECTOR,
        "自然保护地及其功能分区",
        "protected areas and their zones",
        geometry=POLYGON,
        fields=(
            Field(NAME, "name", zh="名称"),
            _coded("protected_areas", "zone", "zone", "功能分区"),
        ),
    ),
    Item(
        "ecological_redline",
        VECTOR,
        "生态保护红线",
        "ecological protection red line",
        geometry=POLYGON,
        fields=(Field(ID, "redline_id", zh="编号"),),
    ),
    Item(
        "basic_farmland",
        VECTOR,
        "永久基本农田",
        "permanent basic farmland",
        geometry=POLYGON,
        fields=(Field(ID, "farmland_id", zh="编号"),),
    ),
    Item(
        "emigration_areas",
        VECTOR,
        "生态移民迁出区",
        "ecological emigration areas",
        geometry=POLYGON,
        fields=(Field(ID, "area_id", zh="编号"), Field(NAME, "name", zh="名称")),
    ),
    Item(
        "mining_areas",
        VECTOR,
        "矿区范围",
        "mining areas",
        optional=True,
        needed_by=("mine_remediation",),
        geometry=POLYGON,
        fields=(Field(NAME, "name", zh="名称"),),
    ),
    Item(
        "sand_areas",
        VECTOR,
        "沙化土地范围",
        "sandy (desertified) land",
        optional=True,
        needed_by=("sand_control",),
        geometry=POLYGON,
        fields=(Field(NAME, "name", zh="名称"),),
    ),
    Item(
        "homesteads",
        VECTOR,
        "农村宅基地图斑",
        "rural homestead parcels",
        geometry=POLYGON,
        fields=(
            Field(ID, "parcel_id", True, "图斑编号"),
            _coded("homesteads", "status", "status", "使用状态"),
        ),
        no_overlap=True,
    ),
    Item(
        "mines",
        VECTOR,
        "矿山图斑",
        "mine parcels",
        geometry=POLYGON,
        fields=(
            Field(ID, "mine_id", True, "矿山编号"),
            _coded("mines", "status", "status", "生产状态"),
            _flag("mines", "legacy", "legacy", "是否历史遗留"),
        ),
        no_overlap=True,
    ),
    Item(
        "rivers",
        VECTOR,
        "河流",
        "rivers",
        geometry=LINE,
        fields=(Field(ID, "river_id", zh="编号"), Field(NAME, "name", zh="名称")),
    ),
    Item(
        "canals",
        VECTOR,
        "灌溉渠道",
        "irrigation canals",
        optional=True,
        geometry=LINE,
        fields=(Field(ID, "canal_id", zh="编号"), Field(NAME, "name", zh="名称")),
    ),
    Item(
        "settlements",
        VECTOR,
        "居民点",
        "settlements",
        geometry=POINT,
        fields=(Field(ID, "settlement_id", zh="编号"), Field(NAME, "name", zh="名称")),
    ),
    Item(
        "roads",
        VECTOR,
        "道路",
        "roads",
        geometry=LINE,
        fields=(Field(ID, "road_id", zh="编号"), Field("kind", "kind", zh="等级")),
    ),
    Item(
        "planned_construction",
        VECTOR,
        "规划建设用地",
        "planned construction land",
        optional=True,
        geometry=POLYGON,
    ),
    *(
        Item(
            f"official_{kind}",
            VECTOR,
            f"双评价：{zh}（分级面图层；或用同名栅格）",
            f"the department's 双评价 {en} classes as polygons (or the raster)",
            optional=True,
            geometry=POLYGON,
            fields=(Field("class", "class", True, "评价分级"),),
        )
        for kind, zh, en in (
            ("ecology", "生态保护重要性", "ecological importance"),
            ("agriculture", "农业生产适宜性", "agricultural suitability"),
            ("construction", "城镇建设适宜性", "urban construction suitability"),
        )
    ),
    # ---- tables ---------------------------------------------------------------------------
    Item(
        "water_budgets",
        TABLE,
        "各县各年用水总量控制指标：分配量、用水量、预留量（余量 = 分配 − 用水 − 预留）",
        "county water budgets per year (headroom = allocation - consumption - reserve)",
        columns=(
            _adcode(),
            Column("year", "integer"),
            Column("allocation_m3", "number", minimum=0, unit="m³"),
            Column("consumption_m3", "number", minimum=0, unit="m³"),
            Column("reserve_m3", "number", minimum=0, unit="m³"),
        ),
        key=("adcode", "year"),
        covers=("counties", "years"),
    ),
    Item(
        "greening_targets",
        TABLE,
        "各县各年增绿目标",
        "greening-increment targets per county and year",
        columns=(_adcode(), Column("year", "integer"), Column("target_ha", "number", minimum=0)),
        key=("adcode", "year"),
        covers=("counties", "years"),
    ),
    Item(
        "county_emissions",
        TABLE,
        "各县各年温室气体排放量",
        "county greenhouse-gas emissions per year",
        columns=(
            _adcode(),
            Column("year", "integer"),
            Column("emission_t_co2", "number", minimum=0, unit="t CO₂"),
        ),
        key=("adcode", "year"),
        covers=("counties", "years"),
    ),
    Item(
        "water_demand",
        TABLE,
        "各目标用途需水定额",
        "water demand per target use",
        columns=(
            Column("use", "string", min_length=1),
            Column("demand_m3_per_ha", "number", minimum=0, unit="m³/ha/yr"),
            _note(),
        ),
        key=("use",),
    ),
    Item(
        "carbon_pools",
        TABLE,
        "各地类碳密度（InVEST 碳储量表格式）",
        "carbon pools per canonical class (InVEST carbon biophysical table)",
        columns=(
            Column("lucode", "integer", minimum=1),
            Column("LULC_Name", "string", min_length=1),
            Column("C_above", "number", minimum=0, unit="t C/ha"),
            Column("C_below", "number", minimum=0, unit="t C/ha"),
            Column("C_soil", "number", minimum=0, unit="t C/ha"),
            Column("C_dead", "number", minimum=0, unit="t C/ha"),
            _note(),
        ),
        key=("lucode",),
    ),
    Item(
        "prices",
        TABLE,
        "价格与单价",
        "prices and unit values",
        columns=(
            Column("item", "string", min_length=1),
            Column("value", "number", minimum=0),
            Column("unit", "string"),
            _note("source"),
            Column("placeholder", "string", required=False, pattern=YES_NO),
            _note(),
        ),
        key=("item",),
    ),
    Item(
        "gep_coefficients",
        TABLE,
        "GEP 核算系数（按服务、参数和地类）",
        "GEP service coefficients (per service, parameter and class)",
        columns=(
            Column("service", "string", min_length=1),
            Column("parameter", "string", min_length=1),
            _note("class"),
            Column("value", "number", minimum=0),
            Column("unit", "string"),
            Column("source", "string"),
            Column("placeholder", "string", pattern=YES_NO),
        ),
        key=("service", "parameter", "class"),
    ),
    Item(
        "unit_costs",
        TABLE,
        "修复措施单价（元/亩），含出资方",
        "unit costs of the restoration measures (CNY per 亩), with who pays",
        columns=(
            Column("pathway", "string", min_length=1),
            Column("measure", "string", min_length=1),
            Column("unit_cost_cny_per_mu", "number", minimum=0, unit="元/亩"),
            # public (government), operator (the mine's restoration fund), social_capital (社会
            # 资本), legacy (mines: public when legacy 历史遗留, else operator)
            Column("funding", "string", pattern="^(public|operator|social_capital|legacy)$"),
            Column("source", "string", min_length=1),
            Column("placeholder", "string", pattern=YES_NO),
            _note(),
        ),
        key=("pathway", "measure"),
    ),
    Item(
        "county_names",
        TABLE,
        "县名（中文、拼音、英文），用于图题和报告",
        "county names (Chinese, pinyin, English) for map subtitles and the report",
        optional=True,
        columns=(
            _adcode(),
            Column("name_zh", "string", min_length=1),
            Column("name_pinyin", "string", min_length=1, pattern="^[A-Za-z' -]+$"),
            Column("name_en", "string", min_length=1),
            _note("source"),
        ),
        key=("adcode",),
    ),
)

_BY_KEY = {(i.kind, i.name): i for i in ITEMS}


def item(kind: str, name: str) -> Item | None:
    """The declaration of one input (None for a key the contract does not declare)."""
    return _BY_KEY.get((kind, name))


def items(kind: str) -> list[Item]:
    return [i for i in ITEMS if i.kind == kind]


def geometry(name: str) -> str | None:
    """The geometry type of a declared vector layer (None for an undeclared one)."""
    declared = item(VECTOR, name)
    return declared.geometry if declared else None


# ------------------------------------------------------------------------------------------
# the contract files a config names


def contract_files(cfg: dict, year: int | str | None = None) -> dict[str, str]:
    """Every input file the config names (optionally only one year's land use), by file key:
    ``landuse_<year>``, ``ownership_<year>`` (raster format), ``<raster>``, ``vector_<layer>``,
    ``table_<table>``. Declared items in the order of the contract, then any other key the
    config adds under ``inputs.vectors`` / ``inputs.rasters`` / ``inputs.tables``."""
    inputs = cfg["inputs"]
    out: dict[str, str] = {}
    for y, p in inputs["landuse"]["files"].items():
        if year is None or str(y) == str(year):
            out[f"landuse_{y}"] = str(p)
    if inputs["landuse"]["format"] == "raster":
        for y, p in (inputs["landuse"]["ownership"] or {}).items():
            if p and (year is None or str(y) == str(year)):
                out[f"ownership_{y}"] = str(p)
    for kind, prefix, path_of in (
        (RASTER, "", lambda v: v),
        (VECTOR, "vector_", lambda v: v["path"]),
        (TABLE, "table_", lambda v: v),
    ):
        given = inputs[_SECTIONS[kind]]
        declared = [i.name for i in items(kind)]
        for name in declared + [k for k in given if k not in declared]:
            v = given.get(name)
            if v:
                out[f"{prefix}{name}"] = str(path_of(v))
    return out


_SECTIONS = {RASTER: "rasters", VECTOR: "vectors", TABLE: "tables"}


# ------------------------------------------------------------------------------------------
# the README table


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def _range(lo, hi) -> str:
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"≥ {lo:g}"
    if lo is None:
        return f"≤ {hi:g}"
    return f"{lo:g} … {hi:g}"


def _requirements(i: Item) -> str:
    """What the item must hold: fields with allowed values, or columns with ranges/units."""
    if i.kind == TABLE:
        parts = []
        for c in i.columns:
            txt = f"`{c.name}`"
            extra = [c.unit] if c.unit else []
            if c.minimum is not None or c.maximum is not None:
                extra.append(_range(c.minimum, c.maximum))
            if c.pattern == ADCODE:
                extra.append("adcode")
            elif c.pattern and c.pattern.startswith("^(") and c.pattern.endswith(")$"):
                extra.append(c.pattern[2:-2].replace("|", " / "))
            if extra:
                txt += f" ({', '.join(extra)})"
            parts.append(txt if c.required else f"[{txt}]")
        key = f"; unique: {', '.join(i.key)}" if i.key else ""
        covers = "; a row per county × year" if i.covers else ""
        return ", ".join(parts) + key + covers
    parts = []
    for f in i.fields:
        txt = f"{f.role} `{f.default}`"
        if f.values:
            txt += f" ({' / '.join(f.values)})"
        if f.boolean:
            txt += " (yes/no 是/否)"
        parts.append(txt if f.required else f"[{txt}]")
    if i.kind == RASTER:
        rng, warn = _range(*i.hard), _range(*i.plausible)
        return "; ".join(
            x
            for x in (
                i.unit and f"unit {i.unit}",
                rng and f"range {rng}",
                warn != rng and warn and f"warning outside {warn}",
            )
            if x
        )
    return ", ".join(parts)


def _kind_text(i: Item) -> str:
    if i.kind == VECTOR and i.geometry is not None:
        return f"vector, {i.geometry}s {GEOMETRY_ZH[i.geometry]}"
    if i.kind == LANDUSE:
        return "raster or DLTB polygons" if i.name == "files" else "raster"
    return {RASTER: "raster 栅格", TABLE: "table 表格 (CSV UTF-8)"}[i.kind]


def _required_text(i: Item) -> str:
    if not i.optional:
        return "required 必需"
    if i.needed_by:
        return f"required by {', '.join(i.needed_by)} / 配置该路径时必需"
    return "optional 可选"


def markdown_table() -> str:
    """The data-contract table of the README (generated; do not edit the README's copy)."""
    lines = [
        "| input / 输入 | kind / 类型 | fields, columns, values, units / 字段、列、取值、单位 "
        "([…]: optional 可选) | required / 必需 | description / 说明 |",
        "|---|---|---|---|---|",
    ]
    for i in ITEMS:
        lines.append(
            "| "
            + " | ".join(
                _md(x)
                for x in (
                    f"`{i.config_key}`",
                    _kind_text(i),
                    _requirements(i),
                    _required_text(i),
                    f"{i.zh} / {i.en}",
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- data contract: generated by `python -m nxgeo.validate.contract --markdown` -->"
README_END = "<!-- end of the generated data contract -->"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--markdown"]:
        print("usage: python -m nxgeo.validate.contract --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

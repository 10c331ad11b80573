"""QGIS styles stored inside a GeoPackage (the ``layer_styles`` table QGIS itself uses), so the
candidates open in QGIS already coloured by recommended target.

Renderer: categorized on the expression
``CASE WHEN "allocated" = 1 THEN "recommended_target" ELSE 'not_allocated' END`` — every
allocated parcel in the colour of its target, every parcel not allocated (or not eligible)
hatched grey. Field aliases give the Chinese / English names of the main fields.

`add_layer_styles` writes the table with sqlite3 (QGIS's own column set: id, f_table_catalog,
f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault,
description, owner, ui, update_time) and registers it in ``gpkg_contents`` as an attributes
table, one default style per layer, with a fixed update_time (byte-reproducible files).
"""

from __future__ import annotations

import sqlite3
from html import escape
from pathlib import Path

from ..vector_io import FIXED_DATE
from .decide import TARGET_ZH

FIXED_UPDATE_TIME = "2000-01-01T00:00:00"
NOT_ALLOCATED = "not_allocated"

# (value, colour, fill style)
CATEGORIES = [
    ("cropland", "#f5e37a", "solid"),
    ("forest", "#2e7d32", "solid"),
    ("shrub", "#7cb342", "solid"),
    ("grass", "#b5d77a", "solid"),
    ("wetland", "#4fb3bf", "solid"),
    ("solar_pv", "#6a3d9a", "solid"),
    ("ecological", "#1b9e77", "solid"),
    ("construction", "#d64541", "solid"),
    ("closed_protection", "#bdb6a8", "solid"),
    ("public_benefit", "#e6ab02", "solid"),
    ("for_profit", "#a6761d", "solid"),
    ("natural_recovery", "#a6d96a", "solid"),
    (NOT_ALLOCATED, "#9e9e9e", "b_diagonal"),
]
LABEL_EN = {"cropland": "Cropland (reclaimed)", "forest": "Forest", "shrub": "Shrubland",
            "grass": "Grassland", "wetland": "Wetland", "solar_pv": "Solar PV",
            "ecological": "Ecological land", "construction": "Construction land",
            "closed_protection": "Closed protection", "public_benefit": "Public-benefit sand control",
            "for_profit": "For-profit sand control",
            "natural_recovery": "Natural recovery (closure for regeneration)",
            NOT_ALLOCATED: "Not allocated / not eligible"}
LABEL_ZH = {**TARGET_ZH, NOT_ALLOCATED: "未配置水量或不符合条件"}
CLASS_EXPRESSION = ("CASE WHEN \"allocated\" = 1 THEN \"recommended_target\" "
                    "ELSE 'not_allocated' END")
ALIASES = {
    "parcel_id": "地块编号 Parcel id", "pathway": "路径 Pathway", "adcode": "县区代码 County code",
    "county_name": "县区 County", "reach": "河段 Reach", "area_ha": "面积（公顷）Area (ha)",
    "area_mu": "面积（亩）Area (mu)", "current_class": "现状地类 Current class",
    "recommended_target": "推荐用途 Recommended target", "target_zh": "推荐用途（中文）",
    "score": "适宜性得分 Score", "grade": "适宜性等级 Grade",
    "water_demand_m3": "需水量（立方米/年）Water demand (m3/yr)",
    "allocated": "已配水 Allocated", "rank_in_county": "县内排序 Rank in county",
    "reason": "原因 Reason", "new_cultivated_ha": "新增耕地（公顷）New cultivated (ha)",
    "freed_quota_ha": "腾退建设用地指标（公顷）Freed quota (ha)",
    "greening_increment_ha": "绿化增量（公顷）Greening increment (ha)",
    "pv_mw": "光伏装机（兆瓦）PV (MW)", "sand_priority": "治沙优先度 Sand priority",
    "hazard_flag": "削坡减荷 Hazard works",
    "closure_ha": "封禁保护（公顷）Closure (ha)",
    "natural_recovery_ha": "自然恢复（公顷）Natural recovery (ha)",
    "legacy": "历史遗留矿山 Legacy mine", "funding": "资金来源 Funding (public/operator)",
}


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _symbol(name: str, colour: str, style: str) -> str:
    fill = _rgb(colour)
    outline = "35,35,35,255" if style == "solid" else _rgb(colour)
    props = {"color": fill, "style": style, "outline_color": outline, "outline_style": "solid",
             "outline_width": "0.26", "outline_width_unit": "MM", "joinstyle": "bevel",
             "offset": "0,0", "offset_unit": "MM", "border_width_unit": "MM"}
    opts = "\n".join(f'            <Option type="QString" name="{k}" value="{v}"/>'
                     for k, v in props.items())
    legacy = "\n".join(f'          <prop k="{k}" v="{v}"/>' for k, v in props.items())
    return f'''      <symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
{opts}
          </Option>
{legacy}
        </layer>
      </symbol>'''


def qml(layer_title: str = "") -> str:
    """The QML document (categorized renderer, aliases) for a candidates layer."""
    cats, syms = [], []
    for i, (value, colour, style) in enumerate(CATEGORIES):
        label = escape(f"{LABEL_ZH.get(value, value)} {LABEL_EN.get(value, value)}", quote=True)
        cats.append(f'      <category value="{value}" symbol="{i}" label="{label}" '
                    f'render="true" type="string"/>')
        syms.append(_symbol(str(i), colour, style))
    aliases = "\n".join(f'    <alias field="{f}" name="{escape(a, quote=True)}"/>'
                        for f, a in ALIASES.items())
    attr = escape(CLASS_EXPRESSION, quote=True)
    return f'''<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0-Firenze" styleCategories="Symbology|Fields">
  <renderer-v2 type="categorizedSymbol" attr="{attr}" symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1">
    <categories>
{chr(10).join(cats)}
    </categories>
    <symbols>
{chr(10).join(syms)}
    </symbols>
    <source-symbol>
{_symbol("0", "#9e9e9e", "solid")}
    </source-symbol>
    <rotation/>
    <sizescale/>
  </renderer-v2>
  <aliases>
{aliases}
  </aliases>
  <layerGeometryType>2</layerGeometryType>
</qgis>
'''


def sld(layer_name: str) -> str:
    """An SLD 1.1 equivalent (one rule per category) for other clients."""
    rules = []
    for value, colour, style in CATEGORIES:
        if value == NOT_ALLOCATED:
            flt = ("<ogc:PropertyIsNotEqualTo><ogc:PropertyName>allocated</ogc:PropertyName>"
                   "<ogc:Literal>1</ogc:Literal></ogc:PropertyIsNotEqualTo>")
            fill = (f'<se:Fill><se:GraphicFill><se:Graphic><se:Mark>'
                    f'<se:WellKnownName>horline</se:WellKnownName><se:Stroke>'
                    f'<se:SvgParameter name="stroke">{colour}</se:SvgParameter></se:Stroke>'
                    f'</se:Mark><se:Size>6</se:Size><se:Rotation>45</se:Rotation></se:Graphic>'
                    f'</se:GraphicFill></se:Fill>')
        else:
            flt = (f"<ogc:And><ogc:PropertyIsEqualTo><ogc:PropertyName>allocated</ogc:PropertyName>"
                   f"<ogc:Literal>1</ogc:Literal></ogc:PropertyIsEqualTo><ogc:PropertyIsEqualTo>"
                   f"<ogc:PropertyName>recommended_target</ogc:PropertyName><ogc:Literal>{value}"
                   f"</ogc:Literal></ogc:PropertyIsEqualTo></ogc:And>")
            fill = f'<se:Fill><se:SvgParameter name="fill">{colour}</se:SvgParameter></se:Fill>'
        title = escape(f"{LABEL_ZH.get(value, value)} {LABEL_EN.get(value, value)}")
        rules.append(f'''      <se:Rule>
        <se:Name>{value}</se:Name>
        <se:Description><se:Title>{title}</se:Title></se:Description>
        <ogc:Filter xmlns:ogc="http://www.opengis.net/ogc">{flt}</ogc:Filter>
        <se:PolygonSymbolizer>{fill}<se:Stroke><se:SvgParameter name="stroke">#232323</se:SvgParameter><se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke></se:PolygonSymbolizer>
      </se:Rule>''')
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <se:Name>{escape(layer_name)}</se:Name>
    <UserStyle>
      <se:Name>{escape(layer_name)}</se:Name>
      <se:FeatureTypeStyle>
{chr(10).join(rules)}
      </se:FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
'''


LAYER_STYLES_DDL = """CREATE TABLE layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  f_table_catalog TEXT(256),
  f_table_schema TEXT(256),
  f_table_name TEXT(256),
  f_geometry_column TEXT(256),
  styleName TEXT(30),
  styleQML TEXT,
  styleSLD TEXT,
  useAsDefault BOOLEAN,
  description TEXT,
  owner TEXT(30),
  ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


def add_layer_styles(gpkg_path: str | Path, layers: list[str],
                     style_name: str = "nxgeo candidates") -> None:
    """Add (or replace) the ``layer_styles`` table with one default style per layer."""
    con = sqlite3.connect(str(gpkg_path))
    try:
        cur = con.cursor()
        geom_cols = dict(cur.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        cur.execute("DROP TABLE IF EXISTS layer_styles")
        cur.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
        cur.execute(LAYER_STYLES_DDL)
        for name in layers:
            cur.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("", "", name, geom_cols.get(name, "geom"), style_name, qml(name), sld(name), 1,
                 "Candidate parcels by recommended target; not allocated: hatched grey (nxgeo)",
                 "nxgeo", "", FIXED_UPDATE_TIME))
        cur.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                    "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)",
                    (FIXED_DATE,))
        has_ogr = cur.execute("SELECT count(*) FROM sqlite_master WHERE name = "
                              "'gpkg_ogr_contents'").fetchone()[0]
        if has_ogr:
            cur.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'")
            cur.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, ?)",
                        ("layer_styles", len(layers)))
        con.commit()
    finally:
        con.close()

"""QGIS styles stored inside a GeoPackage (the ``layer_styles`` table QGIS itself uses), so the
candidates open in QGIS already coloured by recommended target.

Renderer: categorized on the expression
``CASE WHEN "allocated" = 1 THEN "recommended_target" ELSE 'not_allocated' END`` — every
allocated parcel in the colour of its target, every parcel not allocated (or not eligible)
hatched grey; the legend lists only the categories the layer has. Every field has its alias
(Chinese and English), every coded field a value map, from the field registry `nxgeo.fields`;
fields that do not apply to the layer's pathway are hidden in the attribute table. Homesteads
(tiny parcels) also get a centroid dot at small scales.

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

# (value, fill style); colours: nxgeo.maps.style.TARGET_COLORS, the one source shared with the
# maps and the raster styles (nxgeo.qgis)
CATEGORIES = [
    ("cropland", "solid"),
    ("forest", "solid"),
    ("shrub", "solid"),
    ("grass", "solid"),
    ("wetland", "solid"),
    ("solar_pv", "solid"),
    ("ecological", "solid"),
    ("construction", "solid"),
    ("closed_protection", "solid"),
    ("public_benefit", "solid"),
    ("for_profit", "solid"),
    ("natural_recovery", "solid"),
    (NOT_ALLOCATED, "b_diagonal"),
]
LABEL_EN = {
    "cropland": "Cropland (reclaimed)",
    "forest": "Forest",
    "shrub": "Shrubland",
    "grass": "Grassland",
    "wetland": "Wetland",
    "solar_pv": "Solar PV",
    "ecological": "Ecological land",
    "construction": "Construction land",
    "closed_protection": "Closed protection",
    "public_benefit": "Public-benefit sand control",
    "for_profit": "For-profit sand control",
    "natural_recovery": "Natural recovery (closure for regeneration)",
    NOT_ALLOCATED: "Not allocated / not eligible",
}
LABEL_ZH = {**TARGET_ZH, NOT_ALLOCATED: "未配置水量或不符合条件"}
CLASS_EXPRESSION = 'CASE WHEN "allocated" THEN "recommended_target" ELSE \'not_allocated\' END'
CLASS_SQL = "CASE WHEN allocated THEN recommended_target ELSE 'not_allocated' END"
# Small parcels (homesteads, ~0.04 ha) also get a dot of MARKER_MM at their centroid when the
# map scale is smaller than 1:MARKER_MIN_SCALE, so they show in their class colour at the
# county scale instead of as black specks.
MARKER_LAYERS = ("homestead_greening",)
MARKER_MM = 1.6
MARKER_MIN_SCALE = 25000


def category_colour(value: str) -> str:
    from ..maps.style import target_color

    return target_color(value)


def _rgb(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _darker(hex_colour: str, f: float = 0.6) -> str:
    h = hex_colour.lstrip("#")
    return "#" + "".join(f"{int(int(h[i : i + 2], 16) * f):02x}" for i in (0, 2, 4))


def _opts(props: dict, indent: int = 12) -> str:
    pad = " " * indent
    return "\n".join(
        f'{pad}<Option type="QString" name="{k}" value="{v}"/>' for k, v in props.items()
    )


def _props(props: dict, indent: int = 10) -> str:
    pad = " " * indent
    return "\n".join(f'{pad}<prop k="{k}" v="{v}"/>' for k, v in props.items())


def _enabled_when(expression: str) -> str:
    """Data-defined 'enabled' of a symbol layer."""
    return f'''          <data_defined_properties>
            <Option type="Map">
              <Option type="QString" name="name" value=""/>
              <Option type="Map" name="properties">
                <Option type="Map" name="enabled">
                  <Option type="bool" name="active" value="true"/>
                  <Option type="QString" name="expression" value="{escape(expression, quote=True)}"/>
                  <Option type="int" name="type" value="3"/>
                </Option>
              </Option>
              <Option type="QString" name="type" value="collection"/>
            </Option>
          </data_defined_properties>'''


def _symbol(name: str, colour: str, style: str, marker: bool = False) -> str:
    """A fill symbol: the class colour, outlined in a darker shade of it (hatched for not
    allocated); with `marker`, a centroid dot of MARKER_MM at small scales."""
    fill = _rgb(colour)
    outline = _rgb(_darker(colour)) if style == "solid" else _rgb(colour)
    props = {
        "color": fill,
        "style": style,
        "outline_color": outline,
        "outline_style": "solid",
        "outline_width": "0.3" if marker else "0.2",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
        "border_width_unit": "MM",
    }
    parts = [
        f"""        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
{_opts(props)}
          </Option>
{_props(props)}
        </layer>"""
    ]
    if marker:
        mprops = {
            "name": "circle",
            "color": fill,
            "outline_color": outline,
            "outline_width": "0.2",
            "outline_width_unit": "MM",
            "size": str(MARKER_MM),
            "size_unit": "MM",
            "angle": "0",
            "offset": "0,0",
            "offset_unit": "MM",
            "scale_method": "diameter",
            "joinstyle": "bevel",
            "outline_style": "solid",
        }
        parts.append(f"""        <layer class="CentroidFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="point_on_all_parts" value="0"/>
            <Option type="QString" name="point_on_surface" value="1"/>
            <Option type="QString" name="clip_points" value="0"/>
          </Option>
          <prop k="point_on_all_parts" v="0"/>
          <prop k="point_on_surface" v="1"/>
{_enabled_when(f"@map_scale > {MARKER_MIN_SCALE}")}
          <symbol type="marker" name="@{name}@1" alpha="1" clip_to_extent="1" force_rhr="0">
            <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
              <Option type="Map">
{_opts(mprops, 16)}
              </Option>
{_props(mprops, 14)}
            </layer>
          </symbol>
        </layer>""")
    body = "\n".join(parts)
    return f'''      <symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">
{body}
      </symbol>'''


def _stored(f, v) -> str:
    return str(int(v)) if f.type in ("int", "bool") and not isinstance(v, str) else str(v)


def _value_map(f, values) -> str:
    """A ValueMap editor widget: each stored value -> its bilingual label."""
    entries = []
    for v in values:
        label = f.label(v)
        if not label:
            continue
        entries.append(
            '              <Option type="Map">\n                <Option type="QString" '
            f'name="{escape(label, quote=True)}" '
            f'value="{escape(_stored(f, v), quote=True)}"/>\n              </Option>'
        )
    if not entries:
        return ""
    return f'''    <field name="{escape(f.name, quote=True)}" configurationFlags="None">
      <editWidget type="ValueMap">
        <config>
          <Option type="Map">
            <Option type="List" name="map">
{chr(10).join(entries)}
            </Option>
          </Option>
        </config>
      </editWidget>
    </field>'''


def _entry(name: str, layer: str, class_names: dict | None):
    from ..fields import Field, lookup

    try:
        return lookup(name, layer, class_names)
    except KeyError as exc:
        import logging

        logging.getLogger(__name__).warning("%s; its alias is its name", exc.args[0])
        return Field(name, name, name, "text")


def qml(
    layer_title: str = "",
    fields: list[str] | None = None,
    present: list[str] | None = None,
    values: dict | None = None,
    class_names: dict | None = None,
) -> str:
    """The QML document of a candidates layer `layer_title`.

    Categorized renderer on `CLASS_EXPRESSION`, with only the categories in `present` (all when
    None or empty: the legend lists the classes the layer has); aliases from the field registry
    (`nxgeo.fields`) for every field of `fields`; a value map for every coded field (labels of
    the stored values `values[field]`, by default the registry's codes); the fields that do not
    apply to the layer's pathway hidden in the attribute table. A field without a registry
    entry gets its name as alias and a warning (tests/test_fields.py fails for it), so a new
    field never stops a run."""
    from ..fields import applies

    present_set = set(present or [])
    cats: list[str] = []
    syms: list[str] = []
    for value, style in CATEGORIES:
        if present_set and value not in present_set:
            continue
        label = escape(f"{LABEL_ZH.get(value, value)} {LABEL_EN.get(value, value)}", quote=True)
        i = len(cats)
        cats.append(
            f'      <category value="{value}" symbol="{i}" label="{label}" '
            f'render="true" type="string"/>'
        )
        syms.append(
            _symbol(str(i), category_colour(value), style, marker=layer_title in MARKER_LAYERS)
        )
    entries = [_entry(n, layer_title or "candidates", class_names) for n in (fields or [])]
    aliases = "\n".join(
        f'    <alias field="{escape(f.name, quote=True)}" index="{i}" '
        f'name="{escape(f.alias, quote=True)}"/>'
        for i, f in enumerate(entries)
    )
    widgets = []
    for f in entries:
        if f.values and f.type != "bool":
            vals = (values or {}).get(f.name)
            if vals is None:
                vals = [k for k in f.values if not k.endswith("*")]
            w = _value_map(f, vals)
            if w:
                widgets.append(w)
    columns = "\n".join(
        f'      <column type="field" name="{escape(f.name, quote=True)}" '
        f'hidden="{0 if applies(f, layer_title) else 1}" width="-1"/>'
        for f in entries
    )
    attr = escape(CLASS_EXPRESSION, quote=True)
    return f'''<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="AllStyleCategories">
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
  <fieldConfiguration>
{chr(10).join(widgets)}
  </fieldConfiguration>
  <aliases>
{aliases}
  </aliases>
  <attributetableconfig sortExpression="" sortOrder="0" actionWidgetStyle="dropDown">
    <columns>
{columns}
      <column type="actions" hidden="1" width="-1"/>
    </columns>
  </attributetableconfig>
  <layerGeometryType>2</layerGeometryType>
</qgis>
'''


def sld(layer_name: str, present: list[str] | None = None) -> str:
    """An SLD 1.1 equivalent (one rule per category present) for other clients."""
    rules = []
    present_set = set(present or [])
    for value, _style in CATEGORIES:
        if present_set and value not in present_set:
            continue
        colour = category_colour(value)
        if value == NOT_ALLOCATED:
            flt = (
                "<ogc:PropertyIsNotEqualTo><ogc:PropertyName>allocated</ogc:PropertyName>"
                "<ogc:Literal>1</ogc:Literal></ogc:PropertyIsNotEqualTo>"
            )
            fill = (
                f"<se:Fill><se:GraphicFill><se:Graphic><se:Mark>"
                f"<se:WellKnownName>horline</se:WellKnownName><se:Stroke>"
                f'<se:SvgParameter name="stroke">{colour}</se:SvgParameter></se:Stroke>'
                f"</se:Mark><se:Size>6</se:Size><se:Rotation>45</se:Rotation></se:Graphic>"
                f"</se:GraphicFill></se:Fill>"
            )
        else:
            flt = (
                f"<ogc:And><ogc:PropertyIsEqualTo><ogc:PropertyName>allocated</ogc:PropertyName>"
                f"<ogc:Literal>1</ogc:Literal></ogc:PropertyIsEqualTo><ogc:PropertyIsEqualTo>"
                f"<ogc:PropertyName>recommended_target</ogc:PropertyName><ogc:Literal>{value}"
                f"</ogc:Literal></ogc:PropertyIsEqualTo></ogc:And>"
            )
            fill = f'<se:Fill><se:SvgParameter name="fill">{colour}</se:SvgParameter></se:Fill>'
        title = escape(f"{LABEL_ZH.get(value, value)} {LABEL_EN.get(value, value)}")
        rules.append(f"""      <se:Rule>
        <se:Name>{value}</se:Name>
        <se:Description><se:Title>{title}</se:Title></se:Description>
        <ogc:Filter xmlns:ogc="http://www.opengis.net/ogc">{flt}</ogc:Filter>
        <se:PolygonSymbolizer>{fill}<se:Stroke><se:SvgParameter name="stroke">#232323</se:SvgParameter><se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke></se:PolygonSymbolizer>
      </se:Rule>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
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
"""


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


def layer_content(con: sqlite3.Connection, name: str, geom_col: str = "geom") -> dict:
    """What the style of layer `name` needs from the file: its fields (in order, without fid
    and geometry), the categories present, and the distinct stored values of every coded field
    (for the value maps)."""
    from ..fields import lookup

    q = f'"{name}"'
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({q})")]
    fields = [c for c in cols if c not in ("fid", geom_col)]
    present = []
    if "allocated" in fields and "recommended_target" in fields:
        present = sorted(
            {
                r[0]
                for r in con.execute(f"SELECT DISTINCT {CLASS_SQL} FROM {q}")
                if r[0] not in (None, "")
            }
        )
    values = {}
    for f in fields:
        try:
            entry = lookup(f, name)
        except KeyError:
            continue
        if entry.values and entry.type != "bool":
            values[f] = sorted(
                {
                    r[0]
                    for r in con.execute(f'SELECT DISTINCT "{f}" FROM {q} WHERE "{f}" IS NOT NULL')
                },
                key=str,
            )
    return {"fields": fields, "present": present, "values": values}


def add_layer_styles(
    gpkg_path: str | Path,
    layers: list[str],
    style_name: str = "nxgeo candidates",
    class_names: dict | None = None,
) -> None:
    """Add (or replace) the ``layer_styles`` table with one default style per layer (legend:
    the categories present; aliases, value maps and hidden fields from `nxgeo.fields`)."""
    con = sqlite3.connect(str(gpkg_path))
    try:
        cur = con.cursor()
        geom_cols = dict(cur.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        cur.execute("DROP TABLE IF EXISTS layer_styles")
        cur.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
        cur.execute(LAYER_STYLES_DDL)
        for name in layers:
            c = layer_content(con, name, geom_cols.get(name, "geom"))
            cur.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    "",
                    "",
                    name,
                    geom_cols.get(name, "geom"),
                    style_name,
                    qml(name, c["fields"], c["present"], c["values"], class_names),
                    sld(name, c["present"]),
                    1,
                    "Candidate parcels by recommended target; not allocated: hatched grey (nxgeo)",
                    "nxgeo",
                    "",
                    FIXED_UPDATE_TIME,
                ),
            )
        cur.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)",
            (FIXED_DATE,),
        )
        has_ogr = cur.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'gpkg_ogr_contents'"
        ).fetchone()[0]
        if has_ogr:
            cur.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'")
            cur.execute(
                "INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, ?)",
                ("layer_styles", len(layers)),
            )
        con.commit()
    finally:
        con.close()

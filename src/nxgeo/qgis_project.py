"""A year's QGIS project, ``results/{year}/nxgeo_{year}.qgz``, written as XML (no QGIS needed).

Opening it shows every layer of the year styled with the same styles as the sidecar files
(`nxgeo.gis_styles`, and for the candidates the default style stored in candidates.gpkg),
grouped from top to bottom:

- 候选地块 Candidates: the layers of candidates.gpkg (visible);
- 管控边界 Context: counties, reaches, protected areas, red line, emigration, mining and sand
  areas as outlines (from ../common/vectors.gpkg; counties and reaches visible);
- 适宜性评价 Suitability: best use (visible), runner-up, best-use score, and per target use the
  grade, score and reason bits;
- 生态系统服务 Services: the service rasters;
- 变化 Change: the land-use change raster of each comparison ending in this year;
- 输入 Inputs: land use (canonical and source codes), precipitation, terrain, distances, zone
  masks, and the input vector layers;
- 底图 Base: the hillshade of the DEM (visible) beneath everything, and the DEM itself.

Rasters of the reaches are shown as one layer per kind: a GDAL VRT mosaic of the reach rasters
in ``results/{year}/qgis/{name}.vrt`` (paths relative to the VRT, colour table and category
names inside). Every path in the project is relative, so the results folder can be moved or
copied as a whole. Same inputs -> same bytes (fixed zip timestamps, sorted content).
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from os.path import relpath
from pathlib import Path

import rasterio

from .atomic import atomic_path, write_text
from .gis_styles import (
    QGIS_VERSION,
    Ramp,
    RasterStyle,
    StyleContext,
    hillshade_pipe,
    paletted_pipe,
    pam_document,
    raster_kind,
    style_for,
)

GDAL_TYPES = {
    "uint8": "Byte",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
    "float32": "Float32",
    "float64": "Float64",
}

CONTEXT_LAYERS = {  # vectors.gpkg layer -> (zh, en, outline colour, width mm, visible)
    "counties": ("县界", "Counties", "#4d4d4d", 0.4, True),
    "reaches": ("河段", "River reaches", "#c51b7d", 0.6, True),
    "protected_areas": ("自然保护地", "Protected areas", "#1b7837", 0.5, False),
    "ecological_redline": ("生态保护红线", "Ecological red line", "#b2182b", 0.5, False),
    "emigration_areas": ("移民迁出区", "Emigration areas", "#7570b3", 0.4, False),
    "mining_areas": ("矿区", "Mining areas", "#7d5a50", 0.4, False),
    "sand_areas": ("沙区", "Sand areas", "#d8b365", 0.4, False),
}
INPUT_LAYERS = {
    "basic_farmland": ("永久基本农田", "Permanent basic farmland", "#fdb863", 0.3),
    "homesteads": ("宅基地", "Homesteads", "#f08a6c", 0.3),
    "mines": ("矿山", "Mines", "#7d5a50", 0.3),
    "rivers": ("河流", "Rivers", "#2b8cbe", 0.5),
    "canals": ("渠道", "Canals", "#6baed6", 0.4),
    "roads": ("道路", "Roads", "#636363", 0.3),
    "settlements": ("居民点", "Settlements", "#252525", 0.3),
}
RASTER_TITLES = {
    "landuse": ("土地利用（标准类）", "Land use (canonical classes)"),
    "landuse_code": ("土地利用（原始编码）", "Land use (source codes)"),
    "ownership": ("土地权属", "Land ownership"),
    "best_use": ("最适宜用途", "Best use"),
    "best_use_runner_up": ("次适宜用途", "Runner-up use"),
    "best_use_score": ("最适宜用途得分", "Score of the best use"),
    "dem": ("高程", "Elevation"),
    "precipitation": ("降水量", "Precipitation"),
    "slope": ("坡度", "Slope"),
    "aspect": ("坡向", "Aspect"),
    "ls": ("LS因子", "LS factor"),
    "distance_water": ("距水体距离", "Distance to water"),
    "distance_roads": ("距道路距离", "Distance to roads"),
    "distance_settlements": ("距居民点距离", "Distance to settlements"),
    "zone_county": ("县区", "Counties (raster)"),
    "zone_protected_core": ("自然保护地核心区", "Protected-area core zone"),
    "zone_protected_any": ("自然保护地", "Protected areas"),
    "zone_ecological_redline": ("生态保护红线", "Ecological red line"),
    "zone_basic_farmland": ("永久基本农田", "Basic farmland"),
    "zone_water_secured": ("有保障水源", "Secured water"),
    "zone_water_quota_modulus": ("用水定额模数", "Water-quota modulus"),
    "zone_planned_construction": ("规划建设用地", "Planned construction"),
    "carbon_stock_t": ("碳储量", "Carbon stock"),
    "carbon_sequestration_t": ("年固碳量", "Carbon sequestration"),
    "soil_retention_t": ("土壤保持", "Soil retention"),
    "sand_fixation_t": ("防风固沙", "Sand fixation"),
    "water_conservation_m3": ("水源涵养", "Water conservation"),
    "flood_regulation_m3": ("洪水调蓄", "Flood regulation"),
    "climate_regulation_kwh": ("气候调节", "Climate regulation"),
    "change": ("土地利用变化", "Land-use change"),
}
GRADE_PART = {
    "grade": ("等级", "grade"),
    "score": ("得分", "score"),
    "reason": ("排除原因", "exclusion reasons"),
}


def raster_title(stem: str, target_names: Mapping[str, tuple[str, str]] | None = None) -> str:
    if stem in RASTER_TITLES:
        zh, en = RASTER_TITLES[stem]
        return f"{zh} {en}"
    if stem.startswith("suit_"):
        target, _, part = stem[5:].rpartition("_")
        tzh, ten = (target_names or {}).get(target, (target, target))
        pzh, pen = GRADE_PART.get(part, (part, part))
        return f"{tzh}{pzh} {ten} {pen}"
    return stem


# --- VRT mosaics ------------------------------------------------------------------------------
def mosaic_vrt(
    paths: Sequence[str | Path], vrt_path: str | Path, style: RasterStyle | None = None
) -> Path:
    """A VRT of single-band rasters on one grid (the reach rasters of one kind), each placed at
    its offset, nodata pixels not covering others; with a categorical `style`, its colour table
    and category names. Source paths relative to the VRT. Atomic."""
    vrt_path = Path(vrt_path)
    infos = []
    for p in paths:
        with rasterio.open(p) as ds:
            infos.append(
                (Path(p), ds.transform, ds.width, ds.height, ds.dtypes[0], ds.nodata, ds.crs)
            )
    t0 = infos[0][1]
    res_x, res_y = t0.a, t0.e
    x0 = min(t.c for _, t, *_ in infos)
    y0 = max(t.f for _, t, *_ in infos)
    x1 = max(t.c + w * res_x for _, t, w, *_ in infos)
    y1 = min(t.f + h * res_y for _, t, _w, h, *_ in infos)
    width, height = round((x1 - x0) / res_x), round((y1 - y0) / res_y)
    dtype, nodata, crs = infos[0][4], infos[0][5], infos[0][6]
    sources = []
    for p, t, w, h, _dt, nd, _crs in infos:
        dx, dy = round((t.c - x0) / res_x), round((t.f - y0) / res_y)
        rel = relpath(p.resolve(), vrt_path.parent.resolve())
        nd_xml = f"\n      <NODATA>{_num(nd)}</NODATA>" if nd is not None else ""
        sources.append(f'''    <ComplexSource>
      <SourceFilename relativeToVRT="1">{escape(rel)}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>
      <DstRect xOff="{dx}" yOff="{dy}" xSize="{w}" ySize="{h}"/>{nd_xml}
    </ComplexSource>''')
    band_meta = ""
    if style is not None and style.categories is not None:
        pam = pam_document(style.categories, dtype)
        if pam:
            inner = pam.split('<PAMRasterBand band="1">\n', 1)[1].rsplit("  </PAMRasterBand>", 1)[0]
            band_meta = inner.replace("\n    ", "\n    ")
    nd_band = f"    <NoDataValue>{_num(nodata)}</NoDataValue>\n" if nodata is not None else ""
    text = (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">\n'
        f'  <SRS dataAxisToSRSAxisMapping="1,2">{escape(crs.to_wkt())}</SRS>\n'
        f"  <GeoTransform>{_num(x0)}, {_num(res_x)}, 0, {_num(y0)}, 0, {_num(res_y)}"
        f"</GeoTransform>\n"
        f'  <VRTRasterBand dataType="{GDAL_TYPES[dtype]}" band="1">\n{nd_band}{band_meta}'
        + "\n".join(sources)
        + "\n  </VRTRasterBand>\n</VRTDataset>\n"
    )
    return write_text(vrt_path, text)


def _num(v) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


# --- project XML --------------------------------------------------------------------------------
@dataclass
class Layer:
    id: str
    name: str
    source: str  # relative to the project
    provider: str  # gdal | ogr
    kind: str  # raster | vector
    style_xml: str  # <pipe>…</pipe> (raster) or the QML document (vector)
    visible: bool = False
    geometry: str = "Polygon"


@dataclass
class Group:
    name: str
    items: list = field(default_factory=list)  # Layer | Group
    visible: bool = True
    expanded: bool = True


def _srs_xml(crs) -> str:
    from pyproj import CRS as PCRS

    c = PCRS.from_user_input(crs)
    epsg = c.to_epsg()
    auth = f"EPSG:{epsg}" if epsg else ""
    return (
        f'<spatialrefsys nativeFormat="Wkt"><wkt>{escape(c.to_wkt())}</wkt>'
        f"<proj4>{escape(c.to_proj4())}</proj4><srsid>0</srsid><srid>{epsg or 0}</srid>"
        f"<authid>{auth}</authid><description>{escape(c.name)}</description>"
        f"<projectionacronym></projectionacronym><ellipsoidacronym></ellipsoidacronym>"
        f"<geographicflag>{'true' if c.is_geographic else 'false'}</geographicflag>"
        f"</spatialrefsys>"
    )


def _tree_xml(group: Group, indent: int = 2) -> str:
    pad = " " * indent
    out = []
    for item in group.items:
        chk = "Qt::Checked" if item.visible else "Qt::Unchecked"
        if isinstance(item, Group):
            out.append(
                f'{pad}<layer-tree-group name="{escape(item.name, quote=True)}" '
                f'checked="{chk}" expanded="{int(item.expanded)}">\n{pad}  '
                f"<customproperties/>\n{_tree_xml(item, indent + 2)}{pad}"
                f"</layer-tree-group>\n"
            )
        else:
            out.append(
                f'{pad}<layer-tree-layer id="{_layer_id(item.id)}" name="{escape(item.name, quote=True)}" '
                f'source="{escape(item.source, quote=True)}" providerKey="{item.provider}" '
                f'checked="{chk}" expanded="0">\n{pad}  <customproperties/>\n'
                f"{pad}</layer-tree-layer>\n"
            )
    return "".join(out)


def _layers(group: Group) -> list[Layer]:
    out: list[Layer] = []
    for item in group.items:
        out.extend(_layers(item) if isinstance(item, Group) else [item])
    return out


def _style_body(layer: Layer) -> str:
    """The renderer (and for vectors fields, aliases, attribute table) of a layer's style."""
    if layer.kind == "raster":
        return layer.style_xml
    text = layer.style_xml
    if text.startswith("<!DOCTYPE"):
        text = text.split("\n", 1)[1]
    root = ET.fromstring(text)
    keep = (
        "renderer-v2",
        "fieldConfiguration",
        "aliases",
        "attributetableconfig",
        "labeling",
        "blendMode",
        "featureBlendMode",
        "layerOpacity",
    )
    return "\n".join(
        "  " + ET.tostring(el, encoding="unicode").strip() for el in root if el.tag in keep
    )


def _layer_id(short: str) -> str:
    """A layer id QGIS keeps (it replaces ids of 10 characters or fewer by new random ones,
    which would break the layer tree and the bytes)."""
    return f"nxgeo_layer_{short}"


def _maplayer_xml(layer: Layer, srs: str) -> str:
    if layer.kind == "raster":
        head = '<maplayer type="raster" hasScaleBasedVisibilityFlag="0" refreshOnNotifyEnabled="0" autoRefreshEnabled="0" styleCategories="AllStyleCategories">'
        provider = "<provider>gdal</provider>"
    else:
        head = (
            f'<maplayer type="vector" geometry="{layer.geometry}" '
            f'hasScaleBasedVisibilityFlag="0" refreshOnNotifyEnabled="0" '
            f'autoRefreshEnabled="0" readOnly="0" styleCategories="AllStyleCategories">'
        )
        provider = '<provider encoding="UTF-8">ogr</provider>'
    return (
        f"    {head}\n      <id>{_layer_id(layer.id)}</id>\n"
        f"      <datasource>{escape(layer.source)}</datasource>\n"
        f"      <layername>{escape(layer.name)}</layername>\n"
        f"      <srs>{srs}</srs>\n      {provider}\n"
        f"{_style_body(layer)}\n    </maplayer>\n"
    )


def project_xml(title: str, root: Group, crs, extent: tuple[float, float, float, float]) -> str:
    """The .qgs document: layer tree, map canvas on `extent` (xmin, ymin, xmax, ymax) in `crs`,
    every layer with its style, relative paths."""
    srs = _srs_xml(crs)
    layers = _layers(root)
    xmin, ymin, xmax, ymax = extent
    order = "".join(f'    <layer id="{_layer_id(lyr.id)}"/>\n' for lyr in layers)
    return (
        f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis projectname="{escape(title, quote=True)}" version="{QGIS_VERSION}">\n'
        f'  <homePath path=""/>\n  <title>{escape(title)}</title>\n'
        f"  <projectCrs>{srs}</projectCrs>\n"
        f"  <layer-tree-group>\n    <customproperties/>\n{_tree_xml(root, 4)}"
        f'    <custom-order enabled="0"/>\n  </layer-tree-group>\n'
        f'  <mapcanvas name="theMapCanvas" annotationsVisible="1">\n    <units>meters</units>\n'
        f"    <extent><xmin>{_num(xmin)}</xmin><ymin>{_num(ymin)}</ymin>"
        f"<xmax>{_num(xmax)}</xmax><ymax>{_num(ymax)}</ymax></extent>\n"
        f"    <rotation>0</rotation>\n    <destinationsrs>{srs}</destinationsrs>\n"
        f"    <rendermaptile>0</rendermaptile>\n  </mapcanvas>\n"
        f"  <projectlayers>\n{''.join(_maplayer_xml(lyr, srs) for lyr in layers)}"
        f"  </projectlayers>\n  <layerorder>\n{order}  </layerorder>\n"
        f'  <properties>\n    <Paths>\n      <Absolute type="bool">false</Absolute>\n'
        f"    </Paths>\n  </properties>\n</qgis>\n"
    )


def write_qgz(qgz_path: str | Path, qgs_text: str) -> Path:
    """Zip the project (``<stem>.qgs`` inside) with a fixed timestamp: same text, same bytes."""
    qgz_path = Path(qgz_path)
    info = zipfile.ZipInfo(f"{qgz_path.stem}.qgs", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with atomic_path(qgz_path) as tmp, zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, qgs_text.encode("utf-8"))
    return qgz_path


def read_project(qgz_path: str | Path) -> str:
    with zipfile.ZipFile(qgz_path) as z:
        return z.read(f"{Path(qgz_path).stem}.qgs").decode("utf-8")


# --- vector styles ------------------------------------------------------------------------------
def outline_qml(
    colour: str, width_mm: float, geometry: str = "Polygon", fill_alpha: int = 0
) -> str:
    """A single-symbol style: polygons outlined (fill `fill_alpha`), lines, or points."""
    h = colour.lstrip("#")
    rgb = ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4))
    if geometry == "Point":
        sym = (
            f'<symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
            f'<prop k="name" v="circle"/><prop k="color" v="{rgb},255"/>'
            f'<prop k="outline_color" v="255,255,255,255"/><prop k="size" v="1.8"/>'
            f'<prop k="size_unit" v="MM"/><prop k="outline_width" v="0.2"/></layer></symbol>'
        )
    elif geometry == "Line":
        sym = (
            f'<symbol type="line" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleLine" enabled="1" locked="0" pass="0">'
            f'<prop k="line_color" v="{rgb},255"/><prop k="line_width" v="{width_mm}"/>'
            f'<prop k="line_width_unit" v="MM"/><prop k="line_style" v="solid"/>'
            f'<prop k="capstyle" v="round"/><prop k="joinstyle" v="round"/></layer></symbol>'
        )
    else:
        sym = (
            f'<symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<prop k="color" v="{rgb},{fill_alpha}"/>'
            f'<prop k="style" v="{"solid" if fill_alpha else "no"}"/>'
            f'<prop k="outline_color" v="{rgb},255"/><prop k="outline_style" v="solid"/>'
            f'<prop k="outline_width" v="{width_mm}"/><prop k="outline_width_unit" v="MM"/>'
            f'<prop k="joinstyle" v="bevel"/></layer></symbol>'
        )
    return (
        f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n'
        f'  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
        f'forceraster="0" referencescale="-1">\n    <symbols>\n      {sym}\n    </symbols>\n'
        f"  </renderer-v2>\n</qgis>\n"
    )


def gpkg_layers(path: str | Path) -> list[tuple[str, str]]:
    """(layer, geometry kind Polygon|Line|Point) of the feature layers of a GeoPackage."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT c.table_name, g.geometry_type_name FROM gpkg_contents c "
            "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.rowid"
        ).fetchall()
    finally:
        con.close()
    kind = {
        "POINT": "Point",
        "MULTIPOINT": "Point",
        "LINESTRING": "Line",
        "MULTILINESTRING": "Line",
    }
    return [(n, kind.get(str(g).upper(), "Polygon")) for n, g in rows]


def gpkg_default_styles(path: str | Path) -> dict[str, str]:
    """layer -> the default QML stored in the GeoPackage's layer_styles table."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        has = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'layer_styles'"
        ).fetchone()[0]
        if not has:
            return {}
        return dict(
            con.execute(
                "SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault ORDER BY id"
            )
        )
    finally:
        con.close()


# --- the year ------------------------------------------------------------------------------------
def _present(style: RasterStyle) -> list[int] | None:
    return None if style.categories is None else [c.value for c in style.categories]


def year_project(
    year: int,
    year_dir: str | Path,
    out_qgz: str | Path,
    ctx: StyleContext,
    reach_rasters: Mapping[str, Sequence[str | Path]],
    grid_rasters: Mapping[str, str | Path],
    dem: str | Path | None,
    candidates_gpkg: str | Path,
    vectors_gpkg: str | Path,
    change_rasters: Sequence[str | Path] = (),
    targets: Sequence[str] = (),
    target_names: Mapping[str, tuple[str, str]] | None = None,
    styles: Mapping[str, RasterStyle] | None = None,
    region: str = "",
) -> dict[str, Path]:
    """Write the VRT mosaics of `reach_rasters` (stem -> the reach rasters of that kind) in
    ``{year_dir}/qgis/`` and the project `out_qgz`. `styles`: already computed styles by raster
    path (the sidecars), reused for the union of the classes present. Returns {name: path} of
    everything written."""
    year_dir, out_qgz = Path(year_dir), Path(out_qgz)
    home = out_qgz.parent
    styles = dict(styles or {})
    written: dict[str, Path] = {}

    def rel(p) -> str:
        r = relpath(Path(p).resolve(), home.resolve())
        return r if r.startswith("..") else f"./{r}"

    def raster_layer(lid, stem, path, style, visible=False) -> Layer:
        return Layer(
            lid, raster_title(stem, target_names), rel(path), "gdal", "raster", style.pipe, visible
        )

    mosaic: dict[str, Layer] = {}
    for stem, given in reach_rasters.items():
        paths = [Path(p) for p in given]
        if not paths:
            continue
        present, ramp = None, None
        known = [s for p in paths if (s := styles.get(str(p))) is not None]
        if len(known) == len(paths):  # all known: the union of what the reach rasters hold
            if known[0].categories is not None:
                # one stem, one kind: every style of the stem has categories
                present = sorted({v for k in known for v in _present(k) or ()})
            elif raster_kind(paths[0]) != "score" and paths[0].stem != "aspect":
                ramps = [k.ramp for k in known if k.ramp is not None]
                assert len(ramps) == len(known), "style_for gives a ramp when no categories"
                r0 = ramps[0]
                ramp = Ramp(
                    min(r.vmin for r in ramps),
                    max(r.vmax for r in ramps),
                    r0.colours,
                    r0.title,
                )
        st = style_for(paths, ctx, present, ramp)
        vrt = year_dir / "qgis" / f"{stem}.vrt"
        mosaic_vrt(paths, vrt, st)
        written[f"vrt_{stem}"] = vrt
        mosaic[stem] = raster_layer(f"r_{stem}", stem, vrt, st, visible=stem == "best_use")
        if stem == "best_use":  # on open: 80 % opaque, so the hillshade beneath shows the relief
            assert st.categories is not None  # best_use is categorical
            mosaic[stem].style_xml = paletted_pipe(st.categories, 0.8)

    def take(stems) -> list[Layer]:
        return [mosaic.pop(s) for s in stems if s in mosaic]

    # candidates
    cand_styles = gpkg_default_styles(candidates_gpkg)
    from .fields import PATHWAY_VALUES

    cand = Group("候选地块 Candidate parcels")
    for name, geom in gpkg_layers(candidates_gpkg):
        zh, en = PATHWAY_VALUES.get(name, (name, name))
        cand.items.append(
            Layer(
                f"c_{name}",
                f"{zh} {en}",
                f"{rel(candidates_gpkg)}|layername={name}",
                "ogr",
                "vector",
                cand_styles.get(name) or outline_qml("#333333", 0.3),
                True,
                geom,
            )
        )
    vec = dict(gpkg_layers(vectors_gpkg))
    ctxg = Group("管控边界 Context (outlines)")
    for name, (zh, en, col, w, vis) in CONTEXT_LAYERS.items():
        if name in vec:
            ctxg.items.append(
                Layer(
                    f"v_{name}",
                    f"{zh} {en}",
                    f"{rel(vectors_gpkg)}|layername={name}",
                    "ogr",
                    "vector",
                    outline_qml(col, w, vec[name]),
                    vis,
                    vec[name],
                )
            )
    suit = Group("适宜性评价 Suitability (双评价)")
    suit.items += take(["best_use", "best_use_runner_up", "best_use_score"])
    for t in targets:
        zh, en = (target_names or {}).get(t, (t, t))
        sub = Group(
            f"{zh} {en}",
            take([f"suit_{t}_grade", f"suit_{t}_score", f"suit_{t}_reason"]),
            visible=True,
            expanded=False,
        )
        if sub.items:
            suit.items.append(sub)
    for stem in sorted(s for s in mosaic if s.startswith("suit_")):
        suit.items.append(mosaic.pop(stem))
    serv = Group("生态系统服务 Ecosystem services", visible=True, expanded=False)
    serv.items += take(
        sorted(s for s in mosaic if s in RASTER_TITLES and s.endswith(("_t", "_m3", "_kwh")))
    )
    groups = [cand, ctxg, suit, serv]
    if change_rasters:
        ch = Group("变化 Change")
        for p in change_rasters:
            st = styles.get(str(p)) or style_for([p], ctx)
            pair = Path(p).parent.name.replace("_", "→")
            layer = raster_layer(f"g_change_{Path(p).parent.name}", "change", p, st)
            layer.name = f"{layer.name} {pair}"
            ch.items.append(layer)
        groups.append(ch)
    inputs = Group("输入 Inputs", visible=True, expanded=False)
    for stem, p in grid_rasters.items():
        st = styles.get(str(p)) or style_for([p], ctx)
        inputs.items.append(raster_layer(f"g_{stem}", stem, p, st))
    inputs.items += take(
        [
            "landuse",
            "landuse_code",
            "ownership",
            "precipitation",
            "slope",
            "aspect",
            "ls",
            "distance_water",
            "distance_roads",
            "distance_settlements",
        ]
    )
    inputs.items += take(sorted(s for s in mosaic if s.startswith("zone_")))
    inputs.items += [mosaic.pop(s) for s in sorted(mosaic) if s != "dem"]
    for name, (zh, en, col, w) in INPUT_LAYERS.items():
        if name in vec:
            inputs.items.append(
                Layer(
                    f"v_{name}",
                    f"{zh} {en}",
                    f"{rel(vectors_gpkg)}|layername={name}",
                    "ogr",
                    "vector",
                    outline_qml(col, w, vec[name], 60),
                    False,
                    vec[name],
                )
            )
    groups.append(inputs)
    base = Group("底图 Base")
    if dem is not None:
        base.items.append(
            Layer(
                "b_hillshade",
                "地形晕渲 Hillshade",
                rel(dem),
                "gdal",
                "raster",
                hillshade_pipe(0.6),
                True,
            )
        )
        dst = style_for([dem], ctx)
        base.items.append(raster_layer("b_dem", "dem", dem, dst))
    mosaic.pop("dem", None)
    groups.append(base)
    root = Group("", groups)

    ref = grid_rasters.get("landuse") or dem or next(iter(reach_rasters.values()))[0]
    with rasterio.open(ref) as ds:
        extent, crs = tuple(ds.bounds), ds.crs
    title = f"nxgeo {region} {year}".replace("  ", " ")
    write_qgz(out_qgz, project_xml(title, root, crs.to_wkt(), extent))
    written["qgz"] = out_qgz
    return written


def mosaic_stems(reach_rasters: Sequence[str | Path], grid_stems: Sequence[str]) -> list[str]:
    """The names of the VRT mosaics `qgis_year` writes (in ``{year}/qgis/``): one per kind of
    reach raster without a region-wide raster in ``{year}/grid/``."""
    return sorted({Path(r).stem for r in reach_rasters} - set(grid_stems))


def qgis_year(
    year: int,
    year_dir: str | Path,
    rasters: Sequence[str | Path],
    csvs: Sequence[str | Path],
    classes_table: str | Path,
    scheme_table: str | Path | None,
    vectors_gpkg: str | Path,
    candidates_gpkg: str | Path,
    dem: str | Path | None,
    out_qgz: str | Path,
    targets: Sequence[str] = (),
    target_cfg: Mapping | None = None,
    region: str = "",
    expected: Sequence[str | Path] = (),
    change_rasters: Sequence[str | Path] = (),
) -> dict[str, Path]:
    """The GIS step of a year (rule ``qgis_project``): the ``.qml`` / ``.aux.xml`` sidecars of
    every raster in `rasters`, a ``.csvt`` beside every CSV in `csvs`, the VRT mosaics of the
    reach rasters and the project `out_qgz`. `change_rasters`: the change rasters of the
    comparisons ending in this year (styled by rule ``gis_compare``; shown, not restyled).
    `expected`: the files the workflow declares; one not written is an error (the declared
    outputs and this function must agree)."""
    import pandas as pd

    from .gis_styles import write_csvt, write_sidecars
    from .suitability.codes import target_label
    from .vector_io import read_vector

    year_dir = Path(year_dir)
    classes = pd.read_csv(classes_table)
    scheme = pd.read_csv(scheme_table, dtype={"source_code": str}) if scheme_table else None
    names = {}
    if "counties" in dict(gpkg_layers(vectors_gpkg)):
        c = read_vector(vectors_gpkg, "counties")
        if "id" in c.columns and "name" in c.columns:
            names = dict(zip(c["id"].astype(str), c["name"].astype(str)))
    ctx = StyleContext(classes, scheme, names)
    written: dict[str, Path] = {}
    styles: dict[str, RasterStyle] = {}
    for r in rasters:
        styles[str(Path(r))] = write_sidecars(r, ctx)
    for c in csvs:
        written[f"csvt_{Path(c).stem}"] = write_csvt(c)
    reach_dir = year_dir / "reaches"
    by_stem: dict[str, list[Path]] = {}
    grid: dict[str, Path] = {}
    change = [Path(c) for c in change_rasters]
    for r in map(Path, rasters):
        if reach_dir in r.parents:
            by_stem.setdefault(r.stem, []).append(r)
        elif r.parent == year_dir / "grid":
            grid[r.stem] = r
        elif r.stem == "change":
            change.append(r)
    for stem in grid:  # a region-wide raster exists: no mosaic of its reach copies
        by_stem.pop(stem, None)
    tnames = {t: target_label(t, (target_cfg or {}).get(t)) for t in targets}
    written.update(
        year_project(
            year,
            year_dir,
            out_qgz,
            ctx,
            by_stem,
            grid,
            dem,
            candidates_gpkg,
            vectors_gpkg,
            change,
            targets,
            tnames,
            styles,
            region,
        )
    )
    _check_written(expected)
    return written


def _check_written(expected: Sequence[str | Path]) -> None:
    missing = [str(p) for p in expected if not Path(p).exists()]
    if missing:
        raise RuntimeError(
            f"declared GIS output(s) not written: {', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}"
        )


def gis_files(
    rasters: Sequence[str | Path],
    csvs: Sequence[str | Path],
    classes_table: str | Path,
    expected: Sequence[str | Path] = (),
) -> None:
    """Sidecars of `rasters` and ``.csvt`` of `csvs` (rule ``gis_compare``)."""
    import pandas as pd

    from .gis_styles import write_csvt, write_sidecars

    ctx = StyleContext(pd.read_csv(classes_table))
    for r in rasters:
        write_sidecars(r, ctx)
    for c in csvs:
        write_csvt(c)
    _check_written(expected)

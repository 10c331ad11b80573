"""Read and check a 地类图斑 (DLTB) layer: fields, text encoding, codes, ownership, areas.

`load_dltb` returns the layer in a standard form with every problem found (errors and
warnings, each naming file, layer, field and value); `read_dltb` raises on the errors. The
standard columns (whatever the source field names are, `inputs.landuse.polygons.fields`):

    dlbm      地类编码 as text, 4 digits ("0103"; a trailing K of 三调's 可调整地类 removed)
    code      the scheme's integer code of dlbm (the raster code: 0103 -> 103)
    dlmc      地类名称 (or the scheme's name when the field is not configured)
    tbmj      图斑面积 m² (NaN when not configured)
    kcmj      扣除地类面积 m² (0 when not configured or empty)
    kc_code   the scheme's integer code of the deduction's class (1203 田坎 by default)
    area_m2   图斑地类面积: TBDLMJ where present, else the ellipsoidal area of the polygon
              minus kcmj (docs/survey.md)
    area_src  "TBDLMJ" or "ellipsoidal"
    qsxz      权属性质 as text; owner 1 = state-owned, 2 = collective, 0 = unknown
    county    the first 6 digits of ZLDWDM (county_from: zldwdm), else ""
    zldwdm, qsdwdm   the unit codes as text ("" when not configured)
"""

from __future__ import annotations

import codecs
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from ..nodata import OWNERSHIP_NODATA as OWNER_NODATA  # noqa: F401 - the ownership nodata, by its survey name

OWNER_UNKNOWN, OWNER_STATE, OWNER_COLLECTIVE = 0, 1, 2
OWNER_LABELS = {
    OWNER_STATE: ("state", "国有"),
    OWNER_COLLECTIVE: ("collective", "集体"),
    OWNER_UNKNOWN: ("unknown", "未知"),
}

#: CGCS2000 ellipsoid (GB/T 2019 / 国家大地坐标系): a = 6378137 m, 1/f = 298.257222101
CGCS2000_A, CGCS2000_RF = 6378137.0, 298.257222101

#: the fields of `inputs.landuse.polygons.fields` that must be configured and present
REQUIRED_ROLES = ("code", "ownership")


@dataclass
class Found:
    """Problems found while reading one DLTB layer (messages already name file and layer)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def raise_errors(self) -> None:
        if self.errors:
            raise InputError("\n".join(self.errors))


# --------------------------------------------------------------------------------------------
# text encoding of a Shapefile


def _codec(name: str) -> str | None:
    name = name.strip().strip("\x00").strip()
    if not name:
        return None
    if name.isdigit():  # ArcGIS writes code pages as numbers: 936, 65001
        name = {"65001": "utf-8"}.get(name, f"cp{name}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _dbf_text_fields(dbf: Path):
    """(field names, offsets, lengths of the character fields, record length, n records,
    header length) of a dBASE file, read from its header (no dependency on OGR's decoding)."""
    with open(dbf, "rb") as f:
        head = f.read(32)
        n_rec, head_len, rec_len = struct.unpack("<IHH", head[4:12])
        desc = f.read(head_len - 32)
    fields, offset = [], 1  # byte 0 of a record is the deletion flag
    for i in range(0, len(desc) - 31, 32):
        d = desc[i : i + 32]
        if d[0] == 0x0D:
            break
        name = d[:11].split(b"\x00")[0]
        ftype, flen = chr(d[11]), d[16]
        if ftype == "C":
            flen += d[17] * 256  # character fields may use the decimal byte as high length
            fields.append((name, offset, flen))
        offset += flen
    return fields, rec_len, n_rec, head_len


def dbf_undecodable(dbf: str | Path, encoding: str, limit: int = 1) -> list[tuple[str, int, bytes]]:
    """The first `limit` text values of a .dbf that `encoding` cannot decode, as (field name,
    record number from 1, raw bytes); [] when all decode. Field names themselves are tried
    in the same encoding (shown as hex when they do not decode)."""
    dbf = Path(dbf)
    fields, rec_len, n_rec, head_len = _dbf_text_fields(dbf)
    bad: list[tuple[str, int, bytes]] = []
    if not fields:
        return bad
    with open(dbf, "rb") as f:
        f.seek(head_len)
        chunk = 4096
        for start in range(0, n_rec, chunk):
            data = f.read(rec_len * min(chunk, n_rec - start))
            for r in range(len(data) // rec_len):
                rec = data[r * rec_len : (r + 1) * rec_len]
                for name, off, flen in fields:
                    raw = rec[off : off + flen].rstrip(b" \x00")
                    if not raw or raw.isascii():
                        continue
                    try:
                        raw.decode(encoding)
                    except UnicodeDecodeError:
                        try:
                            fname = name.decode(encoding)
                        except UnicodeDecodeError:
                            fname = name.hex()
                        bad.append((fname, start + r + 1, raw))
                        if len(bad) >= limit:
                            return bad
    return bad


def shapefile_encoding(shp: str | Path, configured: str | None) -> tuple[str, str]:
    """(Python codec, how it was chosen) for a Shapefile's attribute text.

    Order: the configured `encoding`; else the `.cpg` beside the file; else UTF-8 when every
    text value decodes as UTF-8, else GBK (the code page of Chinese Windows, in which most
    三调 Shapefiles without .cpg are written). An encoding that does not decode every value is
    an error naming the file, field, record and bytes.
    """
    shp = Path(shp)
    dbf = shp.with_suffix(".dbf")
    if not dbf.exists():
        dbf = shp.with_suffix(".DBF")
    if not dbf.exists():
        raise InputError(
            f"{shp}: the Shapefile's attribute file {shp.with_suffix('.dbf').name} "
            "is missing; copy all its files (.shp, .shx, .dbf, .prj, .cpg)"
        )
    cpg = next((p for p in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")) if p.exists()), None)
    if configured:
        enc = _codec(configured)
        if enc is None:
            raise InputError(
                f"inputs.landuse.polygons.encoding: {configured!r} is not a text "
                "encoding Python knows; use e.g. GBK, GB18030 or UTF-8"
            )
        candidates, how = [enc], f"configured (inputs.landuse.polygons.encoding: {configured})"
    elif cpg is not None:
        text = cpg.read_bytes().decode("ascii", "replace")
        enc = _codec(text)
        if enc is None:
            raise InputError(
                f"{cpg}: names the encoding {text.strip()!r}, which is not one Python "
                "knows; write UTF-8 or GBK into it, or set "
                "inputs.landuse.polygons.encoding"
            )
        candidates, how = [enc], f"from {cpg.name}"
    else:
        candidates, how = ["utf-8", "gbk"], f"detected (no {shp.with_suffix('.cpg').name})"
    first: tuple[str, tuple[str, int, bytes]] | None = None
    for enc in candidates:
        bad = dbf_undecodable(dbf, enc)
        if not bad:
            return enc, how
        first = first or (enc, bad[0])
    assert first is not None  # candidates is not empty and none decoded
    enc, (fname, rec, raw) = first
    tried = " or ".join(c.upper() for c in candidates)
    raise InputError(
        f"{shp} (layer {shp.stem!r}): field {fname!r}, record {rec}: the text {raw!r} does not "
        f"decode as {tried} ({how}); save the layer with a .cpg naming its encoding, or set "
        "inputs.landuse.polygons.encoding (e.g. GB18030)"
    )


# --------------------------------------------------------------------------------------------
# reading


def layer_name(path: Path, layer: str | None) -> str | None:
    """The layer to read: a Shapefile has one (its name), otherwise the configured one."""
    if path.suffix.lower() == ".shp":
        return None
    return layer


def _where(path: Path, layer: str | None) -> str:
    return f"{path} (layer {layer!r})" if layer else str(path)


def read_raw(
    path: str | Path, layer: str | None, encoding: str | None = None
) -> tuple[gpd.GeoDataFrame, str, str]:
    """(the layer as read, the layer name, a note on the text encoding). Errors name the file,
    the layer and the layers the file does have (a File Geodatabase is a folder .gdb)."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{path}: file not found (inputs.landuse.files); a File Geodatabase is "
            "the whole .gdb folder"
        )
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise InputError(
            f"{path}: not a vector dataset GDAL/OGR can open ({str(exc).splitlines()[0]}); "
            "the DLTB must be a GeoPackage, Shapefile or File Geodatabase"
        ) from exc
    lyr = layer_name(path, layer)
    if lyr is None:
        lyr = layers[0] if len(layers) == 1 or path.suffix.lower() == ".shp" else None
        if lyr is None:
            raise InputError(
                f"{path}: holds layers {', '.join(layers)}; set "
                "inputs.landuse.polygons.layer to the DLTB layer"
            )
    elif lyr not in layers:
        close = [n for n in layers if n.lower() == lyr.lower()]
        hint = f" (did you mean {close[0]!r}? layer names are case-sensitive)" if close else ""
        raise InputError(
            f"{path}: layer {lyr!r} (inputs.landuse.polygons.layer) not found{hint}; "
            f"the file has layer(s): {', '.join(layers) or 'none'}"
        )
    note = ""
    kwargs = {}
    if path.suffix.lower() == ".shp":
        enc, how = shapefile_encoding(path, encoding)
        kwargs["encoding"] = enc
        note = f"text encoding {enc.upper()} ({how})"
    try:
        gdf = gpd.read_file(path, layer=lyr, engine="pyogrio", **kwargs)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{_where(path, lyr)}: text does not decode ({exc}); set "
            "inputs.landuse.polygons.encoding"
        ) from exc
    except Exception as exc:
        raise InputError(
            f"{_where(path, lyr)}: could not be read ({str(exc).splitlines()[0]})"
        ) from exc
    return gdf, lyr, note


def _text(series: pd.Series) -> pd.Series:
    """Codes as text: 103 / 103.0 / '0103 ' -> '103' / '103' / '0103' (None -> '')."""

    def one(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (float, np.floating)):
            return str(int(v)) if float(v).is_integer() else str(v)
        return str(v).strip()

    return series.map(one).astype(object)


def _number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype(float)


def ellipsoidal_area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Area of each polygon on the CGCS2000 ellipsoid (m²; pyproj.Geod, Karney's algorithm),
    the surface area the survey rules take for 图斑面积 (TD/T 1055-2019: 椭球面积)."""
    from pyproj import Geod

    geod = Geod(a=CGCS2000_A, rf=CGCS2000_RF)
    geo = (
        geoms.to_crs("EPSG:4490")
        if geoms.crs is not None and not geoms.crs.is_geographic
        else geoms
    )
    return np.array(
        [
            abs(geod.geometry_area_perimeter(g)[0]) if g is not None and not g.is_empty else 0.0
            for g in geo
        ],
        dtype=float,
    )


def _fmt_values(counts: pd.Series, limit: int = 10) -> str:
    items = [f"{v!r} ({n} polygon{'s' if n != 1 else ''})" for v, n in counts.head(limit).items()]
    more = f" and {len(counts) - limit} more" if len(counts) > limit else ""
    return ", ".join(items) + more


def _code_lookup(scheme) -> dict[str, int]:
    """dlbm text -> scheme code (by source_code, and its integer form)."""
    out = {}
    for code, src in zip(scheme.table["code"], scheme.table["source_code"]):
        out[str(src).strip()] = int(code)
        out[str(int(code))] = int(code)
    return out


def normalise_dlbm(text: pd.Series, scheme) -> tuple[pd.Series, pd.Series]:
    """(dlbm text, scheme code or -1): 4-digit zero-padded when numeric, trailing K removed."""
    t = text.str.upper().str.replace(r"K$", "", regex=True)
    if scheme.name == "gbt21010":
        t = t.where(~t.str.fullmatch(r"\d{1,3}"), t.str.zfill(4))
    lut = _code_lookup(scheme)
    return t, t.map(lambda s: lut.get(s, -1)).astype(np.int64)


def load_dltb(
    path: str | Path,
    spec: dict,
    scheme,
    counties: set[str] | None = None,
    layer_override: str | None = None,
) -> tuple[gpd.GeoDataFrame | None, Found]:
    """Read and check a DLTB layer (see the module docstring for the standard columns).

    `spec` is `inputs.landuse.polygons`; `counties`: the 6-digit codes of the counties layer,
    when known (ZLDWDM prefixes outside it are an error). Returns (layer or None, problems).
    """
    path = Path(path)
    found = Found()
    try:
        raw, lyr, note = read_raw(path, layer_override or spec.get("layer"), spec.get("encoding"))
    except InputError as exc:
        found.errors.append(str(exc))
        return None, found
    where = _where(path, lyr if path.suffix.lower() != ".shp" else path.stem)
    fields = spec["fields"]
    present = [c for c in raw.columns if c != raw.geometry.name]
    # field names are matched exactly, else case-insensitively (Shapefiles upper-case them)
    lower = {c.lower(): c for c in present}
    cols: dict[str, str | None] = {}
    for role, name in fields.items():
        if not name:
            cols[role] = None
            continue
        match = name if name in present else lower.get(str(name).lower())
        if match is None:
            found.errors.append(
                f"{where}: field {name!r} (inputs.landuse.polygons.fields.{role}) not found; "
                f"fields present: {', '.join(present)}. Fix the field name in the config "
                f"(or set it to null when the layer has no such field"
                f"{'' if role not in REQUIRED_ROLES else '; this one is required'})."
            )
        cols[role] = match
    if spec["county_from"] == "zldwdm" and not fields.get("located_in"):
        found.errors.append(
            f"{where}: inputs.landuse.polygons.county_from is zldwdm but "
            "fields.located_in is null; name the ZLDWDM field or use overlay"
        )
    if found.errors:
        return None, found
    if raw.crs is None:
        found.errors.append(
            f"{where}: has no CRS (.prj); assign the CGCS2000 CRS it is in "
            "(e.g. EPSG:4523 for a 3-degree zone with zone number) and retry"
        )
        return None, found
    n = len(raw)
    if n == 0:
        found.errors.append(f"{where}: holds no polygon")
        return None, found

    def col(role):
        return raw[cols[role]] if cols.get(role) else None

    out = pd.DataFrame(index=raw.index)
    dlbm, code = normalise_dlbm(_text(col("code")), scheme)
    out["dlbm"], out["code"] = dlbm, code
    empty = dlbm == ""
    if empty.any():
        found.errors.append(
            f"{where}: field {cols['code']!r}: {int(empty.sum())} polygon(s) have "
            f"no class code (e.g. feature {int(np.flatnonzero(empty)[0]) + 1}); "
            "fill them in"
        )
    unknown = (code < 0) & ~empty
    if unknown.any():
        counts = dlbm[unknown].value_counts()
        table = f"config/landuse/{scheme.name}.csv"
        found.errors.append(
            f"{where}: field {cols['code']!r}: code(s) not in scheme {scheme.name} ({table}): "
            f"{_fmt_values(counts)}; {int(unknown.sum())} polygon(s) in all. Recode them, add "
            f"them to {table}, or check inputs.landuse.scheme."
        )
    names = dict(zip(scheme.table["code"].astype(int), scheme.table["name_zh"]))
    out["dlmc"] = _text(col("name")) if cols.get("name") else code.map(names).fillna("")

    geoms = raw.geometry
    bad_geom = geoms.isna() | geoms.is_empty
    if bad_geom.any():
        found.errors.append(
            f"{where}: {int(bad_geom.sum())} polygon(s) have no geometry (e.g. "
            f"feature {int(np.flatnonzero(bad_geom)[0]) + 1}); delete or redraw them"
        )
    kinds = set(geoms[~bad_geom].geom_type)
    if kinds - {"Polygon", "MultiPolygon"}:
        found.errors.append(
            f"{where}: geometries must be polygons, found "
            f"{', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))}"
        )
    ell = np.where(bad_geom, np.nan, ellipsoidal_area_m2(geoms.where(~bad_geom)))

    for role, label in (
        ("parcel_area", "图斑面积"),
        ("deduction", "扣除地类面积"),
        ("area", "图斑地类面积"),
    ):
        if not cols.get(role):
            out[role] = np.nan
            continue
        s = col(role)
        num = _number(s)
        notnum = num.isna() & s.notna() & (_text(s) != "")
        if notnum.any():
            found.errors.append(
                f"{where}: field {cols[role]!r} ({label}, m²): value(s) "
                f"{_fmt_values(_text(s)[notnum].value_counts())} are not numbers"
            )
        neg = num < 0
        if neg.any():
            found.errors.append(
                f"{where}: field {cols[role]!r} ({label}): "
                f"{int(neg.sum())} negative value(s), e.g. {num[neg].iloc[0]:g}"
            )
        out[role] = num
    out["tbmj"] = out.pop("parcel_area")
    out["kcmj"] = out.pop("deduction").fillna(0.0)
    area = out.pop("area")
    has_area = area.notna()
    out["area_m2"] = np.where(has_area, area, ell - out["kcmj"].to_numpy())
    out["area_src"] = np.where(has_area, "TBDLMJ", "ellipsoidal")
    if (~has_area).any() and cols.get("area"):
        found.warnings.append(
            f"{where}: field {cols['area']!r} is empty for {int((~has_area).sum())} "
            "polygon(s); their ellipsoidal area minus the deduction is used"
        )
    # consistency: TBDLMJ = TBMJ - KCMJ, and TBMJ ~ the ellipsoidal area (units)
    if cols.get("parcel_area") and cols.get("area"):
        diff = (out["tbmj"] - out["kcmj"] - out["area_m2"]).abs()
        off = has_area & out["tbmj"].notna() & (diff > 0.011)
        if off.any():
            i = int(np.flatnonzero(off)[0])
            found.warnings.append(
                f"{where}: {int(off.sum())} polygon(s) where {cols['area']} != {cols['parcel_area']}"
                f" - {cols.get('deduction') or 'KCMJ'} (e.g. feature {i + 1}: "
                f"{out['area_m2'].iloc[i]:.2f} vs {out['tbmj'].iloc[i]:.2f} - "
                f"{out['kcmj'].iloc[i]:.2f}); the inventory uses {cols['area']}"
            )
    gross = out["tbmj"].where(out["tbmj"].notna(), out["area_m2"] + out["kcmj"])
    ok = np.isfinite(gross) & np.isfinite(ell) & (ell > 0)
    if ok.sum() >= 1:
        ratio = float(np.median(gross[ok] / ell[ok]))
        if not 0.9 <= ratio <= 1.1:
            unit = (
                "亩 (mu)"
                if 0.0012 < ratio < 0.0018
                else "hectares"
                if 5e-5 < ratio < 2e-4
                else "another unit"
            )
            found.errors.append(
                f"{where}: the areas ({cols.get('parcel_area') or cols.get('area')}) are "
                f"{ratio:.4g} times the polygons' ellipsoidal areas, so they look like {unit}, "
                "not square metres; convert them to m² (survey areas are m²) or check the CRS"
            )
    kcode = scheme.table.set_index("source_code")["code"].astype(int).to_dict()
    default_kc = str(spec["deduction_default_code"]).strip()
    kc_default = kcode.get(default_kc, kcode.get(default_kc.zfill(4), -1))
    if kc_default < 0:
        found.errors.append(
            f"inputs.landuse.polygons.deduction_default_code: {default_kc!r} is "
            f"not a code of scheme {scheme.name}"
        )
    if cols.get("deduction_code"):
        kt, kc = normalise_dlbm(_text(col("deduction_code")), scheme)
        kc = kc.where(kt != "", kc_default)
        badk = (kc < 0) & (out["kcmj"] > 0)
        if badk.any():
            found.errors.append(
                f"{where}: field {cols['deduction_code']!r}: code(s) not in scheme "
                f"{scheme.name}: {_fmt_values(kt[badk].value_counts())}"
            )
        out["kc_code"] = kc.to_numpy()
    else:
        out["kc_code"] = kc_default

    q = _text(col("ownership"))
    state = {str(c).strip() for c in spec["state_codes"]}
    coll = {str(c).strip() for c in spec["collective_codes"]}
    out["qsxz"] = q
    out["owner"] = np.where(
        q.isin(state), OWNER_STATE, np.where(q.isin(coll), OWNER_COLLECTIVE, OWNER_UNKNOWN)
    ).astype(np.uint8)
    unk = out["owner"] == OWNER_UNKNOWN
    if unk.any():
        found.warnings.append(
            f"{where}: field {cols['ownership']!r} (权属性质): value(s) "
            f"{_fmt_values(q[unk].value_counts())} are neither state ({', '.join(sorted(state))}) "
            f"nor collective ({', '.join(sorted(coll))}) (inputs.landuse.polygons.state_codes / "
            "collective_codes); their ownership is unknown (0)"
        )
    out["zldwdm"] = _text(col("located_in")) if cols.get("located_in") else ""
    out["qsdwdm"] = _text(col("owner_unit")) if cols.get("owner_unit") else ""
    if spec["county_from"] == "zldwdm":
        z = out["zldwdm"]
        county = z.str[:6]
        badz = ~county.str.fullmatch(r"\d{6}")
        if badz.any():
            found.errors.append(
                f"{where}: field {cols['located_in']!r} (坐落单位代码): value(s) "
                f"{_fmt_values(z[badz].value_counts())} do not start with a 6-digit county code; "
                "fix them, or set inputs.landuse.polygons.county_from: overlay"
            )
        elif counties is not None:
            outside = ~county.isin(counties)
            if outside.any():
                found.errors.append(
                    f"{where}: field {cols['located_in']!r}: county code(s) "
                    f"{_fmt_values(county[outside].value_counts())} are not in the counties "
                    f"layer (which has {', '.join(sorted(counties))}); fix the codes or the "
                    "counties layer, or set county_from: overlay"
                )
        out["county"] = county.where(~badz, "")
    else:
        out["county"] = ""
    gdf = gpd.GeoDataFrame(out, geometry=geoms.to_numpy(), crs=raw.crs)
    if note:
        gdf.attrs["encoding"] = note
    gdf.attrs["layer"] = lyr
    return gdf, found


def read_dltb(path, spec: dict, scheme, counties: set[str] | None = None) -> gpd.GeoDataFrame:
    """`load_dltb`, raising InputError listing every error (warnings are logged)."""
    import logging

    gdf, found = load_dltb(path, spec, scheme, counties)
    for w in found.warnings:
        logging.getLogger("nxgeo.survey").warning("%s", w)
    found.raise_errors()
    return gdf

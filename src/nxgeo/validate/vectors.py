"""Validation of the vector inputs (counties, reaches, zones, homesteads, mines, water, roads...)."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd

from .. import keys
from ..keys import CHINESE_SYNONYMS
from .contract import GEOMETRY_WORDS, LINE, POINT, POLYGON, VECTOR, geometry, items
from .contract import item as contract_item
from .core import Context, Region, crs_label, suggest_crs
from .report import examples, fmt_int, plural

# shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4 MultiPoint,
# 5 MultiLineString, 6 MultiPolygon, 7 GeometryCollection
KIND_TYPE_IDS = {POINT: {0, 4}, LINE: {1, 2, 5}, POLYGON: {3, 6}}
TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}

#: roles a layer must have configured, with the field name of the shipped config (the hint)
REQUIRED_ROLES = {i.name: i.required_fields for i in items(VECTOR) if i.required_fields}
#: allowed values and yes/no roles: the contract's fields (values from nxgeo.keys.VOCABULARY)
ALLOWED_VALUES = {(i.name, f.role): f.values for i in items(VECTOR) for f in i.fields if f.values}
BOOLEAN_ROLES = {(i.name, f.role) for i in items(VECTOR) for f in i.fields if f.boolean}
CHINESE_VALUES = CHINESE_SYNONYMS
ADCODE_RE = keys.ADCODE_RE


def _label(key: str) -> str:
    """How messages name a layer (the contract's label; an undeclared key spaced out)."""
    declared = contract_item(VECTOR, key)
    return declared.label if declared else key.replace("_", " ")


def norm_code(v) -> str | None:
    """A feature id as text, as the prepared layers hold it (`nxgeo.keys.id_text`)."""
    return keys.id_text(v)


def _is_null(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _value_counts_text(values: list, n: int = 6) -> str:
    counts = Counter(values)
    parts = [
        f"{'<empty>' if v is None else repr(v)} ({plural(c, 'feature')})"
        for v, c in counts.most_common(n)
    ]
    more = f" … ({len(counts) - n} more values)" if len(counts) > n else ""
    return ", ".join(parts) + more


def _read(ctx: Context, item: str, rel: str, path, layer: str | None, label: str):
    import pyogrio

    from ..vector_io import list_layers

    try:
        layers = list_layers(path)
    except Exception as exc:
        reason = str(exc).split("\n")[0]
        ctx.error(
            item,
            path,
            f"{rel}: is not a vector file GDAL/OGR can open ({reason}); "
            f"{item} must be a GeoPackage, Shapefile, GeoJSON or other OGR format.",
        )
        return None
    if layer is not None and layer not in layers:
        ctx.error(
            item,
            path,
            f"{rel}: layer {layer!r} not found; the file has layer(s): "
            f"{', '.join(repr(x) for x in layers) or 'none'}. Set `{item}.layer` to one of "
            "them (or rename the layer in your data).",
            layers=layers,
        )
        return None
    if layer is None and len(layers) > 1:
        ctx.warning(
            item,
            path,
            f"{rel}: has {len(layers)} layers ({', '.join(repr(x) for x in layers)}) and "
            f"no layer is configured, so the first, {layers[0]!r}, is used; set "
            f"`{item}.layer` to be explicit.",
            layers=layers,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        ctx.error(
            item,
            path,
            f"{label}: could not be read ({exc}); open it in QGIS and re-save it as a GeoPackage.",
        )
        return None


def _check_fields(ctx: Context, item: str, key: str, path, label: str, gdf, fields: dict) -> dict:
    """Configured fields that exist: {role: field name}."""
    present = [c for c in gdf.columns if c != gdf.geometry.name]
    found = {}
    for role, default in REQUIRED_ROLES.get(key, {}).items():
        if role not in fields:
            ctx.error(
                item,
                path,
                f"`{item}.fields.{role}` is not set in the config; add it "
                f"(e.g. `{role}: {default}`) naming the field of {label} that holds the {role}.",
            )
    for role, fname in fields.items():
        if fname in present:
            found[role] = fname
            continue
        near = [c for c in present if c.lower() == str(fname).lower()]
        hint = f" Did you mean {near[0]!r}?" if near else ""
        ctx.error(
            item,
            path,
            f"{label}: field {fname!r} (`{item}.fields.{role}`) not found; the layer has fields: "
            f"{', '.join(repr(c) for c in present) or 'none'}.{hint} Rename the field in your "
            f"data or set `{item}.fields.{role}` to the right name.",
            field=fname,
            fields_present=present,
        )
    return found


def _feature_ids(gdf, found: dict) -> list:
    if "id" in found:
        return [norm_code(v) for v in gdf[found["id"]].tolist()]
    return [f"#{i + 1}" for i in range(len(gdf))]


def _check_geometries(ctx: Context, item: str, key: str, path, label: str, gdf, ids: list):
    """Null/empty, type and validity; returns the repaired usable geometries (or None)."""
    import shapely

    geoms = np.asarray(gdf.geometry.array, dtype=object)
    n = len(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    n_missing = int(missing.sum())
    if n_missing == n:
        ctx.error(
            item,
            path,
            f"{label}: all {plural(n, 'feature')} have no geometry (null or "
            "empty); re-export the layer with its geometries.",
        )
        return None
    if n_missing:
        ex = examples([ids[i] for i in np.flatnonzero(missing)], 3)
        ctx.warning(
            item,
            path,
            f"{label}: {plural(n_missing, 'feature')} of {fmt_int(n)} have no "
            f"geometry (null or empty; e.g. id {ex}); they are ignored.",
            count=n_missing,
        )
    idx = np.flatnonzero(~missing)
    good = geoms[idx]
    kind = geometry(key)  # the contract's geometry type
    type_ids = shapely.get_type_id(good)
    if kind is not None:
        wrong = ~np.isin(type_ids, list(KIND_TYPE_IDS[kind]))
        if wrong.any():
            found = Counter(TYPE_NAMES.get(int(t), str(t)) for t in type_ids[wrong])
            ctx.error(
                item,
                path,
                f"{label}: {key} must be {GEOMETRY_WORDS[kind]}, but "
                f"{plural(int(wrong.sum()), 'feature')} of {fmt_int(n)} are "
                f"{', '.join(f'{t} ({c})' for t, c in found.most_common())} (e.g. id "
                f"{examples([ids[i] for i in idx[wrong]], 3)}). Point `{item}` to the right "
                "layer, or convert the geometries in your GIS.",
                geometry_types=dict(found),
            )
    valid = shapely.is_valid(good)
    n_invalid = int((~valid).sum())
    if n_invalid:
        bad = np.flatnonzero(~valid)
        samples = [(ids[idx[i]], shapely.is_valid_reason(good[i])) for i in bad[:3]]
        ex = "; ".join(f"id {fid!r}: {reason}" for fid, reason in samples)
        repaired = shapely.make_valid(good[bad])
        still = int((~shapely.is_valid(repaired)).sum())
        good = good.copy()
        good[bad] = repaired
        ctx.warning(
            item,
            path,
            f"{label}: {plural(n_invalid, 'invalid geometry', 'invalid geometries')} "
            f"(e.g. {ex}) repaired with make_valid; check the repaired shapes, or fix them "
            "in your GIS (QGIS: Vector ▸ Geometry Tools ▸ Fix Geometries).",
            invalid=n_invalid,
            examples=[{"id": f, "reason": r} for f, r in samples],
        )
        if still:
            ctx.error(
                item,
                path,
                f"{label}: {plural(still, 'geometry', 'geometries')} stay invalid "
                "after make_valid; fix them in your GIS.",
            )
    return good


def _check_ids(ctx: Context, item: str, path, label: str, fname: str, ids: list) -> None:
    nulls = sum(v is None or v == "" for v in ids)
    if nulls:
        ctx.error(
            item,
            path,
            f"{label}: {plural(nulls, 'feature')} have an empty id in field "
            f"{fname!r}; give every feature a unique id.",
            count=nulls,
        )
    counts = Counter(v for v in ids if v not in (None, ""))
    dups = [(v, c) for v, c in counts.most_common() if c > 1]
    if dups:
        shown = ", ".join(f"{v!r} ({c}×)" for v, c in dups[:5])
        more = f" … ({len(dups) - 5} more)" if len(dups) > 5 else ""
        ctx.error(
            item,
            path,
            f"{label}: duplicate ids in field {fname!r}: {shown}{more}; "
            f"{plural(len(dups), 'id')} used more than once. Every feature needs a unique id "
            "(ids stay stable between years, so do not just renumber: dissolve or split the "
            "duplicates).",
            duplicates={str(v): c for v, c in dups[:50]},
        )


def _check_values(ctx: Context, item: str, key: str, path, label: str, gdf, found: dict) -> None:
    """Coded values through the normaliser processing uses (`nxgeo.keys`): case, blanks and
    known Chinese terms are recoded (a warning lists the recodings), anything else is an error."""
    for role, fname in found.items():
        allowed = ALLOWED_VALUES.get((key, role))
        col = gdf[fname].tolist()
        if allowed:
            bad = [None if _is_null(v) else v for v in col if keys.coded_value(v, allowed) is None]
            if bad:
                known = ", ".join(k for k, v in CHINESE_VALUES.items() if v in allowed)
                ctx.error(
                    item,
                    path,
                    f"{label}: field {fname!r} ({role}) has values that are not allowed: "
                    f"{_value_counts_text(bad)}; use one of {', '.join(allowed)}. "
                    "Recode them in your GIS (field calculator). Letter case and blanks "
                    f"around a value do not matter, and the Chinese terms {known} are "
                    "read as their English value.",
                    allowed=list(allowed),
                    bad_count=len(bad),
                )
            recoded = keys.recodings(col, allowed)
            if recoded:
                shown = ", ".join(f"{k!r} → {v}" for k, v in list(recoded.items())[:8])
                more = f" … ({len(recoded) - 8} more)" if len(recoded) > 8 else ""
                ctx.warning(
                    item,
                    path,
                    f"{label}: field {fname!r} ({role}) values read as {shown}{more}; "
                    "the run uses the recoded values. Recode the layer to these values "
                    "to silence this warning.",
                    recoded=recoded,
                )
        if (key, role) in BOOLEAN_ROLES:
            bad = [v for v in col if not _is_null(v) and keys.flag_value(v) is None]
            if bad:
                ctx.error(
                    item,
                    path,
                    f"{label}: field {fname!r} ({role}) must be yes/no (true/false, 1/0, "
                    f"是/否); found {_value_counts_text(bad)}.",
                )


def _check_axis_order(ctx: Context, item: str, path, label: str, gdf) -> None:
    from .core import crs_mismatch_hint, looks_swapped, to_pyproj

    c = to_pyproj(gdf.crs)
    if c is None or not c.is_geographic or gdf.empty:
        return
    bounds = tuple(gdf.total_bounds)
    if looks_swapped(bounds):
        ctx.error(item, path, f"{label}: axis order swapped." + crs_mismatch_hint(bounds, gdf.crs))


def _check_counties(ctx: Context, item: str, path, label: str, gdf, found: dict, ids: list):
    if "id" in found:
        raw = gdf[found["id"]].tolist()
        bad = keys.invalid_adcodes(raw)
        ids = [keys.adcode_or_none(v) for v in raw]
        if bad:
            ctx.error(
                item,
                path,
                f"{label}: field {found['id']!r} must hold 6-digit county codes (adcode, e.g. "
                f"640104); found {_value_counts_text(bad)}. Fix the codes (if a spreadsheet "
                "turned them into numbers, store them as text).",
            )
    names = gdf[found["name"]].tolist() if "name" in found else [None] * len(ids)
    if "name" in found:
        n_empty = sum(_is_null(v) or str(v).strip() == "" for v in names)
        if n_empty:
            ctx.warning(
                item,
                path,
                f"{label}: {plural(n_empty, 'county', 'counties')} have no name "
                f"in field {found['name']!r}; reports will show the adcode only.",
            )
    ctx.counties = {
        a: ("" if _is_null(nm) else str(nm))
        for a, nm in zip(ids, names)
        if a and ADCODE_RE.match(a)
    }


def _check_reaches(ctx: Context, item: str, path, label: str, found: dict, ids: list) -> None:
    configured = [str(r) for r in ctx.cfg.get("reaches") or []]
    if "id" not in found or not configured:
        return
    present = {v for v in ids if v}
    missing = [r for r in configured if r not in present]
    if missing:
        ctx.error(
            item,
            path,
            f"{label}: reach(es) {', '.join(repr(r) for r in missing)} listed in the config "
            f"`reaches` are not in field {found['id']!r} (ids present: "
            f"{examples(sorted(present), 10)}); add them to the layer or remove them from "
            "`reaches`.",
            missing=missing,
        )
    extra = sorted(present - set(configured))
    if extra:
        ctx.warning(
            item,
            path,
            f"{label}: reach(es) {examples(extra, 10)} are in the layer but not in the "
            "config `reaches`, so they will not be processed; add them to `reaches` if "
            "they should be.",
            extra=extra,
        )


def check_vector(ctx: Context, key: str, spec: dict) -> None:
    item = f"inputs.vectors.{key}"
    rel = spec["path"]
    layer = spec.get("layer")
    fields = spec.get("fields") or {}
    label = f"{rel} (layer {layer!r})" if layer else rel
    entry = {"item": item, "kind": "vector", "path": rel, "layer": layer}
    path = ctx.resolve(rel)
    try:
        if not path.exists():
            ctx.missing_file(item, rel, path, f"{_label(key)} layer")
            return
        gdf = _read(ctx, item, rel, path, layer, label)
        if gdf is None:
            return
        if "geometry" not in getattr(gdf, "columns", []):
            ctx.error(
                item,
                path,
                f"{label}: has no geometry column (it is an attribute table, "
                f"not a map layer); point `{item}` to the layer with the {key} shapes.",
            )
            return
        entry.update(
            features=len(gdf),
            crs=crs_label(gdf.crs) if gdf.crs else None,
            fields=[c for c in gdf.columns if c != gdf.geometry.name],
        )
        found = _check_fields(ctx, item, key, path, label, gdf, fields)
        if len(gdf) == 0:
            ctx.error(
                item,
                path,
                f"{label}: the layer is empty (0 features); export the "
                f"{_label(key)} into it, or point `{item}` to the right file/layer.",
            )
            return
        ids = _feature_ids(gdf, found)
        if gdf.crs is None:
            b = gdf.total_bounds
            ctx.error(
                item,
                path,
                f"{label}: has no CRS (no .prj / no CRS in the file); assign the CRS its "
                f"coordinates are in, e.g. ogr2ogr -a_srs {suggest_crs(b)} out.gpkg {rel} "
                "(QGIS: Layer ▸ Set CRS, then export). CGCS2000 is expected: EPSG:4490 for "
                "longitude/latitude, EPSG:4507 for Gauss-Kruger CM 105E.",
            )
        if gdf.crs is not None:
            from .rasters import check_crs_datum

            check_crs_datum(ctx, item, path, label, gdf.crs)
        geoms = _check_geometries(ctx, item, key, path, label, gdf, ids)
        _check_axis_order(ctx, item, path, label, gdf)
        _check_values(ctx, item, key, path, label, gdf, found)
        if "id" in found:
            _check_ids(ctx, item, path, label, found["id"], ids)
        if key == "counties":
            _check_counties(ctx, item, path, label, gdf, found, ids)
        elif key == "reaches":
            _check_reaches(ctx, item, path, label, found, ids)
        if geoms is not None and len(geoms) and key in NO_OVERLAP and gdf.crs is not None:
            present = np.flatnonzero(~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
            _check_overlaps(ctx, item, key, path, label, geoms, gdf.crs, [ids[i] for i in present])
        if geoms is not None and len(geoms):
            import shapely

            bounds = tuple(float(v) for v in shapely.total_bounds(geoms))
            entry["bounds"] = list(bounds)
            entry["geometry_types"] = dict(
                Counter(TYPE_NAMES.get(int(t), str(t)) for t in shapely.get_type_id(geoms))
            )
            if key == "counties":
                from .core import looks_swapped

                if gdf.crs is not None and not looks_swapped(bounds):
                    ctx.region = Region(geoms, gdf.crs, label)
            else:
                ctx.check_overlap(item, path, label, bounds, gdf.crs)
    finally:
        ctx.checked(entry)


#: layers whose polygons must not overlap (an overlap is counted twice: areas, parcels, water)
NO_OVERLAP = tuple(i.name for i in items(VECTOR) if i.no_overlap)
# Below these an overlap is digitising noise, not a duplicate or a misplaced boundary: 0.01 ha,
# or 1 % of the smaller polygon (real county layers share boundaries with slivers of a few ha,
# ~0.005 % of a county; a boundary shifted by 1 km is ~4 %, a duplicated mine 100 %).
MIN_OVERLAP_M2 = 100.0
MIN_OVERLAP_SHARE = 0.01


def _check_overlaps(
    ctx: Context, item: str, key: str, path, label: str, geoms, crs, ids: list
) -> None:
    """Warn about overlapping polygons (ids and overlap area, ha) in a layer that should have
    none; areas in the analysis CRS (the layer's own when projected). Slivers (below
    `MIN_OVERLAP_M2`, or `MIN_OVERLAP_SHARE` of the smaller polygon) are not reported."""
    import geopandas as gpd
    import shapely

    from .core import to_pyproj

    c = to_pyproj(crs)
    if c is None or len(geoms) < 2:
        return
    g = gpd.GeoSeries(list(geoms), crs=crs)
    if not c.is_projected:
        g = g.to_crs((ctx.cfg.get("grid") or {}).get("crs") or "EPSG:4507")
    arr = np.asarray(g.array, dtype=object)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not left.size:
        return
    area = shapely.area(shapely.intersection(arr[left], arr[right]))
    smaller = np.minimum(shapely.area(arr[left]), shapely.area(arr[right]))
    big = (area >= MIN_OVERLAP_M2) & (area >= MIN_OVERLAP_SHARE * smaller)
    if not big.any():
        return
    left, right, area = left[big], right[big], area[big]
    order = np.argsort(-area, kind="stable")
    pairs = [(ids[i], ids[j], a / 1e4) for i, j, a in zip(left[order], right[order], area[order])]
    shown = "; ".join(f"{a!r} and {b!r} ({ha:,.2f} ha)" for a, b, ha in pairs[:5])
    more = f" … ({len(pairs) - 5} more pairs)" if len(pairs) > 5 else ""
    ctx.warning(
        item,
        path,
        f"{label}: {plural(len(pairs), 'pair')} of features overlap "
        f"({float(area.sum()) / 1e4:,.2f} ha in all): id {shown}{more}. {key} must not "
        "overlap: the shared area is counted twice (areas, candidate parcels, water "
        "demand). Fix the boundaries in your GIS (QGIS: Vector ▸ Geometry Tools ▸ Check "
        "Validity / the Topology Checker) or merge duplicated features.",
        overlaps=[{"ids": [a, b], "ha": ha} for a, b, ha in pairs[:50]],
        overlap_ha=float(area.sum()) / 1e4,
    )


def check_pathway_counties(ctx: Context) -> None:
    """Counties named in the config (pathways, trading group) should exist in the counties layer."""
    if not ctx.counties:
        return
    lists = [
        (f"pathways.{name}.counties", (spec or {}).get("counties"))
        for name, spec in (ctx.cfg.get("pathways") or {}).items()
        if isinstance(spec, dict)
    ]
    lists.append(
        (
            "ledgers.greening_trading_group",
            (ctx.cfg.get("ledgers") or {}).get("greening_trading_group"),
        )
    )
    rel = ctx.cfg["inputs"]["vectors"]["counties"]["path"]
    for key, codes in lists:
        if not isinstance(codes, list):
            continue
        missing = [str(c) for c in codes if keys.adcode_or_none(c) not in ctx.counties]
        if missing:
            ctx.warning(
                key,
                None,
                f"`{key}` lists adcode(s) {', '.join(missing)} that are not in the counties "
                f"layer {rel}; nothing will be found there. Fix the codes or the layer.",
                missing=missing,
            )


def check_pathway_layers(ctx: Context) -> None:
    """An optional layer a configured pathway cannot run without (``Item.needed_by``): the
    mine parcels are located inside the mining areas, the sand units inside the sand areas.
    Without it the candidates step would stop after everything before it has run."""
    from .contract import ITEMS, VECTOR

    vectors = ctx.cfg["inputs"]["vectors"]
    configured = set(ctx.cfg.get("pathways") or {})
    for it in ITEMS:
        if it.kind != VECTOR or not it.needed_by:
            continue
        spec = vectors.get(it.name)
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            continue
        need = [p for p in it.needed_by if p in configured]
        if need:
            ctx.error(
                it.config_key,
                None,
                f"`{it.config_key}` is not set, but the pathway {', '.join(need)} is configured "
                f"and its parcels are located inside the {it.en} ({it.zh}): set its path and "
                f"layer, or remove `pathways.{need[0]}` from the config.",
                pathways=need,
            )


def check_vectors(ctx: Context) -> None:
    vectors = ctx.cfg["inputs"]["vectors"]
    if not isinstance(vectors.get("counties"), dict):
        ctx.error(
            "inputs.vectors.counties",
            None,
            "`inputs.vectors.counties` is not set: the counties layer is required (it defines "
            "the region and the counties of every table); set its path and fields "
            "{id: <adcode field>, name: <name field>}.",
        )
    check_pathway_layers(ctx)
    order = sorted(vectors, key=lambda k: k != "counties")  # counties first: they define the region
    for key in order:
        spec = vectors[key]
        if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            continue  # null = optional layer absent
        ctx.guard(
            f"inputs.vectors.{key}", spec["path"], lambda k=key, s=spec: check_vector(ctx, k, s)
        )
        if key == "counties":
            ctx.guard("inputs.vectors.counties", None, lambda: check_pathway_counties(ctx))

"""Parcels from one survey year to the next (docs/tracking.md): ids carried by overlap, the
candidate diff with its reasons, and the cumulative progress since the first survey year.

Ids carried by overlap
----------------------
Parcels whose id is a place label (clumped parcels and project units: ``C-640323-512.3-4123.4``,
see `nxgeo.candidates.ids`) would get a new label whenever their centroid crosses a snapping
midpoint or the year's change reshapes them. Year B's parcel therefore takes the id of the
year-A parcel of the same pathway it overlaps most:

1. overlap matrix O[a, b] = area of intersection (m²) of every pair of parcels of year A and
   year B of one pathway (an STRtree finds the pairs that meet);
2. one-to-one matching that maximises the total overlap: ``scipy.optimize.linear_sum_assignment``
   on each connected group of overlapping parcels (groups are independent, so this is the
   optimum of the whole matrix);
3. a matched pair keeps the id only when the two parcels are mostly the same land:
   O[a, b] ≥ ``min_share`` × area(a) **and** ≥ ``min_share`` × area(b) (``tracking.min_share``,
   default 0.6);
4. every other B parcel keeps its own label, made unique against all ids of year A (a label of a
   vanished A parcel is never reused: ``-<6 hex>`` of its geometry is appended), and names its
   parents: the A parcels covering at least ``parent_share`` of its area or giving it at least
   ``parent_share`` of theirs. ``id_origin`` is ``carried``, ``split`` (one parent), ``merged``
   (two or more) or ``new`` (none); parcels named after their source feature (``A-HS-…``,
   ``B-MN-…``, ``D-LC-<village>``) keep that id (``id_origin`` ``source``).

Candidate diff
--------------
Every parcel of year A or B of a pathway gets one status (per parcel, with county and pathway):

- ``restored``: the year-B land use over the year-A parcel is its target class on at least
  ``restored_share`` of the area, or the year-B decision of the parcel is ``already_restored``
  (its own class is now a restored class: a parcel smaller than a pixel shows it only there) (targets map to classes by ``services.parcel_targets``: the
  class the target converts to; ``cropland`` counts either cropland class; targets that keep the
  current class, e.g. closed protection, cannot be seen in land use and are never ``restored``);
- ``in_progress``: the target class's share grew by at least ``progress_min_share`` but is below
  ``restored_share``;
- ``dropped``: allocated (selected) in year A and not in year B, with the reason: ``water`` (still
  eligible, no water headroom), ``no_longer_eligible`` (the year-B decision, e.g.
  ``already_restored``), ``not_a_candidate`` (no year-B parcel: its land no longer qualifies —
  the majority class in year B is given);
- ``changed``: present in both years with another target or allocation (both values given);
- ``new``: a year-B parcel without a year-A parcel of the same id (its parents are named);
- ``unchanged``: the rest.

A parcel not allocated in year A that is not in year B either is ``dropped`` with reason
``not_a_candidate`` only when it was eligible; other vanished non-candidates are left out (they
were never proposed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .candidates.ids import geometry_hash
from .errors import ConfigError
from .fields import DIFF_STATUS_VALUES

log = logging.getLogger("nxgeo.tracking")

SOURCE_ID = re.compile(r"^[A-Z]-[A-Z]{2}-")  # A-HS-, B-MN-, D-LC-: named after a source feature
STATUSES = tuple(DIFF_STATUS_VALUES)  # restored, in_progress, unchanged, changed, new, dropped
DIFF_COLUMNS = [
    "parcel_id",
    "pathway",
    "adcode",
    "county_name",
    "status",
    "reason",
    "parent_ids",
    "area_ha",
    "target_a",
    "target_b",
    "allocated_a",
    "allocated_b",
    "target_share_a",
    "target_share_b",
    "class_b",
]


# --------------------------------------------------------------------------- ids by overlap
def overlaps(a_geoms, b_geoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ia, ib, area): every pair of geometries of A and B whose intersection has an area."""
    a = np.asarray(a_geoms, dtype=object)
    b = np.asarray(b_geoms, dtype=object)
    if not len(a) or not len(b):
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    tree = shapely.STRtree(a)
    ib, ia = tree.query(b, predicate="intersects")
    area = shapely.area(shapely.intersection(a[ia], b[ib])) if len(ia) else np.zeros(0)
    keep = area > 0
    return ia[keep].astype(np.int64), ib[keep].astype(np.int64), area[keep]


def match(area_a: np.ndarray, area_b: np.ndarray, ia, ib, ov, min_share: float) -> dict[int, int]:
    """B index -> A index of the accepted one-to-one matches (rule 2-3 of the module)."""
    na, nb = len(area_a), len(area_b)
    if not len(ov):
        return {}
    g = coo_matrix((np.ones(len(ov)), (ia, na + ib)), shape=(na + nb, na + nb))
    _, comp = connected_components(g, directed=False)
    out: dict[int, int] = {}
    pair_comp = comp[ia]
    order = np.argsort(pair_comp, kind="stable")
    bounds = np.flatnonzero(np.diff(pair_comp[order])) + 1
    for grp in np.split(order, bounds):
        ga, gb, go = ia[grp], ib[grp], ov[grp]
        ua, ra = np.unique(ga, return_inverse=True)
        ub, rb = np.unique(gb, return_inverse=True)
        m = np.zeros((len(ua), len(ub)))
        np.add.at(m, (ra, rb), go)
        r, c = linear_sum_assignment(m, maximize=True)
        for i, j in zip(r, c):
            o = m[i, j]
            a_i, b_j = int(ua[i]), int(ub[j])
            if o > 0 and o >= min_share * area_a[a_i] and o >= min_share * area_b[b_j]:
                out[b_j] = a_i
    return out


def _check_cfg(cfg: Mapping) -> tuple[float, float]:
    s, p = float(cfg["min_share"]), float(cfg["parent_share"])
    if not 0 < s <= 1 or not 0 < p <= 1:
        raise ConfigError(
            [f"tracking.min_share and tracking.parent_share must be in (0, 1], not {s} and {p}"]
        )
    return s, p


def carry_ids(
    prev: gpd.GeoDataFrame | None, cur: gpd.GeoDataFrame, cfg: Mapping
) -> gpd.GeoDataFrame:
    """`cur` (year B parcels: parcel_id, pathway, geometry) with ids carried from `prev` (year A,
    the same fields) and the fields ``parent_ids`` (";"-separated) and ``id_origin``."""
    min_share, parent_share = _check_cfg(cfg)
    out = cur.copy()
    ids = out["parcel_id"].astype(str).to_numpy(dtype=object).copy()
    origin = np.where([bool(SOURCE_ID.match(i)) for i in ids], "source", "new").astype(object)
    parents = np.full(len(out), "", dtype=object)
    if prev is None or not len(prev) or not len(out):
        out["parcel_id"], out["parent_ids"], out["id_origin"] = ids, parents, origin
        return out
    if prev.crs is not None and out.crs is not None and prev.crs != out.crs:
        prev = prev.to_crs(out.crs)
    prev_ids = prev["parcel_id"].astype(str).to_numpy(dtype=object)
    taken = set(prev_ids)
    carried: set[str] = set()
    pathways = out["pathway"].astype(str).to_numpy()
    prev_pathways = prev["pathway"].astype(str).to_numpy()
    for pw in sorted(set(pathways)):
        bi = np.flatnonzero((pathways == pw) & (origin != "source"))
        ai = np.flatnonzero(
            (prev_pathways == pw) & ~np.array([bool(SOURCE_ID.match(i)) for i in prev_ids])
        )
        if not len(bi):
            continue
        ga = prev.geometry.values[ai]
        gb = out.geometry.values[bi]
        area_a, area_b = shapely.area(ga), shapely.area(gb)
        ia, ib, ov = overlaps(ga, gb)
        matched = match(area_a, area_b, ia, ib, ov, min_share)
        par: dict[int, list[int]] = {}
        for x, y, o in zip(ia, ib, ov):
            if o >= parent_share * area_b[y] or o >= parent_share * area_a[x]:
                par.setdefault(int(y), []).append(int(x))
        for j, k in enumerate(bi):
            if j in matched:
                ids[k] = prev_ids[ai[matched[j]]]
                origin[k] = "carried"
                carried.add(ids[k])
                continue
            ps = sorted({prev_ids[ai[x]] for x in par.get(j, [])})
            parents[k] = ";".join(ps)
            origin[k] = "new" if not ps else ("split" if len(ps) == 1 else "merged")
    # a label of year A is never reused for another parcel
    used = set(ids[origin == "carried"]) | set(ids[origin == "source"])
    for k in np.flatnonzero((origin != "carried") & (origin != "source")):
        if ids[k] in taken or ids[k] in used:
            base = f"{ids[k]}-{geometry_hash(out.geometry.values[k])}"
            new, n = base, 1
            while new in taken or new in used:
                n += 1
                new = f"{base}-{n}"
            ids[k] = new
        used.add(ids[k])
    out["parcel_id"], out["parent_ids"], out["id_origin"] = ids, parents, origin
    log.info("ids carried from the previous year: %s", dict(pd.Series(origin).value_counts()))
    return out


# --------------------------------------------------------------------------- diff
def target_classes(
    targets: Sequence, parcels: pd.DataFrame, parcel_targets: Mapping, class_ids: Mapping[str, int]
) -> list[set[int]]:
    """The land-use class ids that show each parcel's target is reached (empty: not visible in
    land use). Refinements (``refine_by``) follow services.parcel_targets."""
    out = []
    for i, t in enumerate(targets):
        t = "" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t)
        spec = dict(parcel_targets.get(t) or {})
        rb = spec.get("refine_by")
        if rb and rb in parcels.columns:
            v = parcels[rb].iloc[i]
            v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            ref = (spec.get("refine") or {}).get(v)
            if ref:
                spec = dict(parcel_targets.get(str(ref)) or {})
        names = [spec.get("class"), spec.get("class_not_secured")]
        out.append({int(class_ids[n]) for n in names if n and n in class_ids})
    return out


def class_fractions(landuse_tif, geoms, crs) -> list[dict[int, float]]:
    """Coverage-weighted share of every class inside each geometry (exactextract)."""
    from exactextract import exact_extract

    if not len(geoms):
        return []
    g = gpd.GeoDataFrame({"k": np.arange(len(geoms))}, geometry=list(geoms), crs=crs)
    res = exact_extract(
        str(landuse_tif), g, ["unique", "frac"], output="pandas", include_cols=["k"]
    )
    res = res.sort_values("k")
    out = []
    for u, f in zip(res["unique"], res["frac"]):
        out.append({int(a): float(b) for a, b in zip(np.atleast_1d(u), np.atleast_1d(f))})
    return out


def _share(fr: Mapping[int, float], classes: set[int]) -> float:
    return float(sum(fr.get(c, 0.0) for c in classes)) if classes else float("nan")


def _s(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def diff(
    a: gpd.GeoDataFrame,
    b: gpd.GeoDataFrame,
    frac_a_of_a,
    frac_b_of_a,
    frac_b_of_b,
    cfg: Mapping,
    tclasses_a: list[set[int]],
    tclasses_b: list[set[int]],
    class_names: Mapping[int, str],
) -> gpd.GeoDataFrame:
    """The candidate diff of two years (statuses in the module docstring).

    `frac_a_of_a`, `frac_b_of_a`: class fractions of year A's and B's land use over every
    year-A parcel; `frac_b_of_b`: year B's over every year-B parcel; `tclasses_*`: target class
    ids per parcel (`target_classes`)."""
    restored, progress = float(cfg["restored_share"]), float(cfg["progress_min_share"])
    bidx = {pid: i for i, pid in enumerate(b["parcel_id"].astype(str))}
    aids = set(a["parcel_id"].astype(str))
    rows, geoms = [], []
    for i, r in enumerate(a.itertuples(index=False)):
        pid = str(r.parcel_id)
        s_a = _share(frac_a_of_a[i], tclasses_a[i])
        s_b = _share(frac_b_of_a[i], tclasses_a[i])
        fb = frac_b_of_a[i]
        maj = class_names.get(max(fb, key=fb.get), "") if fb else ""
        j = bidx.get(pid)
        alloc_a = bool(int(r.allocated))
        row = {
            "parcel_id": pid,
            "pathway": r.pathway,
            "adcode": r.adcode,
            "county_name": _s(r.county_name),
            "parent_ids": "",
            "area_ha": float(r.area_ha),
            "target_a": _s(r.recommended_target),
            "allocated_a": alloc_a,
            "target_share_a": s_a,
            "target_share_b": s_b,
            "class_b": maj,
        }
        if j is not None:
            rb = b.iloc[j]
            row.update(
                target_b=_s(rb["recommended_target"]),
                allocated_b=bool(int(rb["allocated"])),
                parent_ids=_s(rb.get("parent_ids", "")),
            )
        else:
            row.update(target_b="", allocated_b=False)
        b_reason = _s(b.iloc[j]["reason"]) if j is not None else ""
        if np.isfinite(s_b) and s_b >= restored:
            status, reason = "restored", f"{maj} on {s_b:.0%} of the parcel"
        elif b_reason == "already_restored":
            status, reason = "restored", "year-B decision already_restored (its class is now green)"
        elif np.isfinite(s_b) and np.isfinite(s_a) and s_b - s_a >= progress:
            status, reason = "in_progress", f"target class {s_a:.0%} -> {s_b:.0%}"
        elif j is None:
            if not (alloc_a or bool(int(r.eligible))):
                continue
            status, reason = (
                "dropped",
                f"not_a_candidate (now mostly {maj})" if maj else "not_a_candidate",
            )
        else:
            rb = b.iloc[j]
            if alloc_a and not row["allocated_b"]:
                rsn = _s(rb["reason"])
                status = "dropped"
                reason = "water" if rsn == "water_budget" else f"no_longer_eligible ({rsn})"
            elif row["target_a"] != row["target_b"] or alloc_a != row["allocated_b"]:
                status = "changed"
                reason = (
                    f"target {row['target_a'] or '-'} -> {row['target_b'] or '-'}; "
                    f"allocated {int(alloc_a)} -> {int(row['allocated_b'])}"
                )
            else:
                status, reason = "unchanged", ""
        row.update(status=status, reason=reason)
        rows.append(row)
        geoms.append(r.geometry if j is None else b.geometry.values[j])
    for j, r in enumerate(b.itertuples(index=False)):
        pid = str(r.parcel_id)
        if pid in aids:
            continue
        par = _s(getattr(r, "parent_ids", ""))
        fb = frac_b_of_b[j]
        maj = class_names.get(max(fb, key=fb.get), "") if fb else ""
        rows.append(
            {
                "parcel_id": pid,
                "pathway": r.pathway,
                "adcode": r.adcode,
                "county_name": _s(r.county_name),
                "status": "new",
                "reason": f"from {par}" if par else "new parcel",
                "parent_ids": par,
                "area_ha": float(r.area_ha),
                "target_a": "",
                "target_b": _s(r.recommended_target),
                "allocated_a": False,
                "allocated_b": bool(int(r.allocated)),
                "target_share_a": np.nan,
                "target_share_b": _share(fb, tclasses_b[j]),
                "class_b": maj,
            }
        )
        geoms.append(r.geometry)
    df = pd.DataFrame(rows, columns=DIFF_COLUMNS)
    crs = b.crs or a.crs
    out = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=crs).values, crs=crs)
    return out.sort_values(["pathway", "adcode", "parcel_id"], kind="stable").reset_index(drop=True)


def diff_summary(d: pd.DataFrame, mu_per_ha: float) -> pd.DataFrame:
    """Parcels and ha per county, pathway and status (every status a column pair)."""
    cols = ["adcode", "county_name", "pathway"]
    if not len(d):
        return pd.DataFrame(
            columns=cols + [f"n_{s}" for s in STATUSES] + [f"{s}_ha" for s in STATUSES]
        )
    g = d.groupby(cols + ["status"], as_index=False).agg(
        n=("parcel_id", "size"), ha=("area_ha", "sum")
    )
    n = g.pivot_table(index=cols, columns="status", values="n", fill_value=0)
    ha = g.pivot_table(index=cols, columns="status", values="ha", fill_value=0.0)
    out = pd.DataFrame(index=n.index)
    for s in STATUSES:
        out[f"n_{s}"] = n[s].astype(int) if s in n.columns else 0
    for s in STATUSES:
        out[f"{s}_ha"] = ha[s].round(4) if s in ha.columns else 0.0
    out["restored_mu"] = (out["restored_ha"] * mu_per_ha).round(2)
    return out.reset_index()


# --------------------------------------------------------------------------- cumulative
def cumulative_progress(
    summaries: Sequence[pd.DataFrame],
    pairs: Sequence[tuple[int, int]],
    targets: pd.DataFrame | None,
    year: int,
    mu_per_ha: float,
) -> pd.DataFrame:
    """Area restored per county and pathway since the first survey year: the ``restored_ha``
    of every consecutive pair's diff up to `year`, summed; beside it the county's greening
    target (greening_targets: target_ha of the years up to `year`) and the share reached."""
    cols = ["adcode", "county_name", "pathway"]
    parts = []
    for (a, b), s in zip(pairs, summaries):
        if len(s):
            t = s[cols + ["restored_ha", "in_progress_ha"]].copy()
            t["pair"] = f"{a}_{b}"
            parts.append(t)
    first = min((a for a, _ in pairs), default=year)
    if not parts:
        out = pd.DataFrame(
            columns=cols
            + ["since_year", "to_year", "pairs", "restored_ha", "restored_mu", "in_progress_ha"]
        )
    else:
        allp = pd.concat(parts, ignore_index=True)
        allp["adcode"] = allp["adcode"].astype(str)
        out = allp.groupby(cols, as_index=False).agg(
            restored_ha=("restored_ha", "sum"),
            in_progress_ha=("in_progress_ha", "last"),
            pairs=("pair", lambda x: ";".join(sorted(set(x)))),
        )
        out.insert(3, "since_year", first)
        out.insert(4, "to_year", year)
        out["restored_mu"] = (out["restored_ha"] * mu_per_ha).round(2)
    if targets is not None and len(targets) and len(out):
        t = targets.copy()
        t["adcode"] = t["adcode"].astype(str)
        t = t[(t["year"].astype(int) > first) & (t["year"].astype(int) <= year)]
        tgt = t.groupby("adcode")["target_ha"].sum()
        county_total = out.groupby("adcode")["restored_ha"].transform("sum")
        out["greening_target_ha"] = out["adcode"].map(tgt)
        out["county_restored_ha"] = county_total
        with np.errstate(divide="ignore", invalid="ignore"):
            out["target_reached_share"] = (county_total / out["greening_target_ha"]).round(4)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- workflow steps
def read_candidate_layers(path) -> gpd.GeoDataFrame:
    """Every candidate layer of a candidates.gpkg in one frame (an empty frame when none has
    parcels)."""
    import pyogrio

    from .candidates.parcels import PATHWAYS
    from .vector_io import read_vector

    names = {str(n) for n, _ in pyogrio.list_layers(str(path))}
    frames = [read_vector(path, p) for p in PATHWAYS if p in names]
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame(
            {"parcel_id": pd.Series([], dtype=object), "pathway": pd.Series([], dtype=object)},
            geometry=gpd.GeoSeries([], crs="EPSG:4507"),
            crs="EPSG:4507",
        )
    return gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs
    )


def candidates_diff(
    a_gpkg,
    b_gpkg,
    landuse_a,
    landuse_b,
    classes_table,
    parcel_targets,
    cfg: Mapping,
    mu_per_ha: float,
    out_gpkg,
    out_csv,
    out_summary,
) -> dict:
    """Rule `candidates_diff`: the diff layer (GeoPackage, layer ``candidates_diff``), the same
    rows as CSV (no geometry) and the summary per county, pathway and status."""
    from .atomic import write_csv
    from .vector_io import write_layers

    classes = pd.read_csv(classes_table, encoding="utf-8-sig")
    ids = dict(zip(classes["canonical"].astype(str), classes["class_id"].astype(int)))
    names = {v: k for k, v in ids.items()}
    a, b = read_candidate_layers(a_gpkg), read_candidate_layers(b_gpkg)
    if a.crs is not None and b.crs is not None and a.crs != b.crs:
        a = a.to_crs(b.crs)
    tca = target_classes(a["recommended_target"].tolist() if len(a) else [], a, parcel_targets, ids)
    tcb = target_classes(b["recommended_target"].tolist() if len(b) else [], b, parcel_targets, ids)
    fa_a = class_fractions(landuse_a, a.geometry.values, a.crs)
    fb_a = class_fractions(landuse_b, a.geometry.values, a.crs)
    fb_b = class_fractions(landuse_b, b.geometry.values, b.crs)
    d = diff(a, b, fa_a, fb_a, fb_b, cfg, tca, tcb, names)
    write_layers(out_gpkg, {"candidates_diff": d})
    write_csv(pd.DataFrame(d.drop(columns="geometry")), out_csv)
    s = diff_summary(d, mu_per_ha)
    write_csv(s, out_summary)
    counts = dict(d["status"].value_counts()) if len(d) else {}
    log.info("candidate diff: %d parcels %s", len(d), counts)
    return {"n": len(d), "status": counts}


def progress_table(
    summary_csvs: Sequence, pairs: Sequence, targets_csv, year: int, mu_per_ha: float, out_csv
) -> pd.DataFrame:
    """Rule `progress`: `cumulative_progress` of the diff summaries, written as CSV."""
    from .atomic import write_csv

    sums = [pd.read_csv(p, dtype={"adcode": str}, encoding="utf-8-sig") for p in summary_csvs]
    targets = pd.read_csv(targets_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    out = cumulative_progress(sums, [tuple(p) for p in pairs], targets, year, mu_per_ha)
    write_csv(out, out_csv)
    return out

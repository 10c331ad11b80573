# Shared helpers for all rules: paths from config, wildcard constraints.
import os
from pathlib import Path

# GDAL's block cache defaults to 5 % of RAM (1.2 GB on a 24 GB machine); filled by a 30 m
# raster it dominated a job's memory. 32 MB keeps every job bounded by its own blocks (and is
# not slower: the steps read and write each block once; COG overviews need ~32 MB to stay
# fast). The environment can override it.
os.environ.setdefault("GDAL_CACHEMAX", "32")

from nxgeo.landuse import SCHEMES
from nxgeo.layout import YEAR_A, YEAR_B, Layout
from nxgeo.paths import contract_files, contract_inputs, sample_outputs, with_sidecars
from nxgeo.validate.scope import scope_file, scopes

RESULTS = config["results_dir"]
# Every result path comes from the registry (nxgeo.layout): OUT.reach("slope") is
# RESULTS/{year}/reaches/{reach}/slope.tif, OUT.table("gep_by_county", year=2024) a file.
OUT = Layout(RESULTS)
YEARS = [int(y) for y in config["years"]]
REACHES = list(config["reaches"])
NXGEO_VERSION = nxgeo.__version__

# The land-use tables: canonical classes, and one code table per scheme beside it
# (config/landuse/). Steps that read them declare them as inputs, so an edit reruns them.
CLASSES_TABLE = config["landuse"]["classes_table"]
LANDUSE_DIR = Path(CLASSES_TABLE).parent
SCHEME_TABLE = str(LANDUSE_DIR / f"{config['inputs']['landuse']['scheme']}.csv")
# validation also reads the other schemes' tables (to name the scheme a file seems to use)
LANDUSE_TABLES = [CLASSES_TABLE] + [str(LANDUSE_DIR / f"{s}.csv") for s in SCHEMES
                                    if (LANDUSE_DIR / f"{s}.csv").exists()]


wildcard_constraints:
    year=r"\d{4}",
    reach=r"[a-z][a-z0-9_]*",
    year_a=r"\d{4}",
    year_b=r"\d{4}",


def each_reach(pattern, **more):
    """`pattern` for every reach ({year} and the other wildcards kept; `more` expanded too)."""
    return expand(pattern, reach=REACHES, **more, allow_missing=True)


def inputs_for_year(year):
    """Every contract file one year needs (with sidecars such as a Shapefile's .dbf), plus the
    land-use scheme and class tables. None is marked ancient: editing any of them reruns exactly the
    jobs that read it, for the years being processed (years not in `years:` are not targets,
    so their folders stay untouched)."""
    files = {k: with_sidecars(v) for k, v in contract_files(config, year).items()}
    files["landuse_tables"] = LANDUSE_TABLES
    return files


# Continuous rasters configured (dem, precipitation, optional fvc/soil_k/...), by name.
STATIC_RASTERS = {k: v for k, v in config["inputs"]["rasters"].items() if v}

# Validation gates (nxgeo.validate.scope): every step that reads a raw input depends on the
# check of exactly that input (its scope), never on one check of everything and never through
# an 'ancient' flag, so a corrected input reruns its check and the steps that read it, and no others.
SHARED_SCOPES = scopes(config)
SCOPE_FILES = {scope_file(s)[:-5]: s for s in SHARED_SCOPES}


def scope_json(scope):
    if scope.startswith("landuse:"):
        return OUT.validation("landuse.json", year=scope.split(":")[1])
    return OUT.validation_item(scope_file(scope)[: -len(".json")])


def table_gates(*names):
    """The validation gates of the tables a step reads (input `validated`)."""
    return [scope_json(f"table:{n}") for n in names]


def scope_inputs(scope):
    """The files a scope's check reads: its items with sidecars, and the counties layer (the
    region outline and county codes the other checks compare against)."""
    kind, _, name = scope.partition(":")
    counties = with_sidecars(config["inputs"]["vectors"]["counties"]["path"])
    if kind == "vectors":
        return {"files": contract_inputs(config, kinds=("vector_",))}
    if kind == "counties":
        return {"files": counties}
    if kind == "raster":
        return {"files": with_sidecars(STATIC_RASTERS[name]), "counties": counties}
    if kind == "table":
        return {"files": [config["inputs"]["tables"][name]], "counties": counties}
    path = config["inputs"]["landuse"]["files"][landuse_key(name)]
    own = ownership_file(name)
    return {"files": with_sidecars(path) + (with_sidecars(own) if own else []),
            "counties": counties, "tables": LANDUSE_TABLES}


def scope_view(scope):
    """The part of the config a scope's check depends on (its params: a change reruns it)."""
    kind, _, name = scope.partition(":")
    inputs = config["inputs"]
    view = {"grid": config["grid"], "counties": inputs["vectors"]["counties"]}
    if kind == "vectors":
        view.update(vectors=inputs["vectors"], reaches=config["reaches"],
                    pathways=config["pathways"])
    elif kind == "raster":
        view.update(raster=STATIC_RASTERS[name])
    elif kind == "table":
        view.update(table=inputs["tables"][name])
    elif kind == "landuse":
        view.update(scheme=inputs["landuse"]["scheme"], format=LANDUSE_FORMAT,
                    file=inputs["landuse"]["files"][landuse_key(name)],
                    ownership=ownership_file(name),
                    polygons=inputs["landuse"]["polygons"] if LANDUSE_FORMAT == "polygons" else None)
    return view

# What a year's reach folder holds from the clipping: canonical and source-code land use (rule
# clip_reach) plus the static rasters (clip_static once, copied by reach_static).
# ownership: 1 state-owned, 2 collective, 0 unknown (rule prepare_landuse; docs/survey.md)
YEAR_LAYERS = ["landuse", "landuse_code", "ownership"]
REACH_LAYERS = [*YEAR_LAYERS, *STATIC_RASTERS]


def landuse_key(year):
    """The key of inputs.landuse.files for a year (YAML may give int or str keys)."""
    files = config["inputs"]["landuse"]["files"]
    return int(year) if int(year) in files else str(year)

# raster: land use from GeoTIFFs | polygons: from the survey's DLTB (nxgeo.survey)
LANDUSE_FORMAT = config["inputs"]["landuse"]["format"]


def ownership_file(year):
    """The ownership raster of a year (format raster), or None (all unknown; polygons: QSXZ)."""
    if LANDUSE_FORMAT != "raster":
        return None
    own = config["inputs"]["landuse"]["ownership"] or {}
    key = int(year) if int(year) in own else str(year)
    return own.get(key) or None


#: the polygon inventory's tables (format polygons): results/{year}/tables/inventory_polygons_<key>.csv
POLYGON_TABLES = ["by_code", "by_class", "by_group", "ownership", "reconcile", "vs_raster"]


def ownership_table_of(year):
    """The ownership inventory of a year: from the polygons (format polygons) or the raster."""
    if LANDUSE_FORMAT == "polygons":
        return OUT.table("inventory_polygons_ownership", year=year)
    return OUT.table("inventory_ownership", year=year)


COMPARE = [(int(a), int(b)) for a, b in config["compare"]]


def previous_year(year):
    """The survey year before `year` in config `years` (None for the first)."""
    before = [y for y in sorted(YEARS) if y < int(year)]
    return before[-1] if before else None


def previous_candidates(wc):
    """The previous survey year's candidates.gpkg, whose ids this year's parcels carry."""
    a = previous_year(wc.year)
    return [OUT.candidates(year=a)] if a is not None else []


# consecutive survey years (the cumulative progress) and the configured comparisons
CHAIN = [(a, b) for a, b in zip(sorted(YEARS), sorted(YEARS)[1:])]
DIFF_PAIRS = sorted(set(CHAIN) | set(COMPARE))

from nxgeo.terrain import TERRAIN_LAYERS
from nxgeo.zones import ZONE_LAYERS

from nxgeo.suitability import best_use_order

TARGETS = best_use_order(config["suitability"])


def suitability_layers(wc):
    """Layer name -> reach raster for the suitability overlay."""
    y, r = wc.year, wc.reach
    layers = {"landuse": OUT.reach("landuse", y, r), "elevation": OUT.reach("dem", y, r),
              "precipitation": OUT.reach("precipitation", y, r),
              **{name: OUT.reach(name, y, r) for name in ("slope", "ls", "distance_water",
                                                          "distance_roads",
                                                          "distance_settlements")}}
    for name in ZONE_LAYERS:
        if name != "county":
            layers[name] = OUT.zone(name, y, r)
    for name in ("soil_k", "sand_fraction"):
        if name in STATIC_RASTERS:
            layers[name] = OUT.reach(name, y, r)
    return layers


def year_outputs(year):
    """The tables and layers of one survey year (what maps, provenance and report summarise)."""
    tables = ["inventory_by_class", "water_capacity", "services_by_county", "candidates_summary",
              "gep_by_county", "programme"]
    out = [OUT.validation("report.json", year), OUT.candidates(year),
           *[OUT.table(t, year) for t in tables], OUT.programme(year),
           *[OUT.table(t, year) for t in ("programme_summary", "programme_marginal",
                                          "programme_vs_001", "county_scorecard")],
           OUT.export(year)]
    pairs = [(a, b) for a, b in COMPARE if b == year]
    for name in ("gep_change_by_county", "greening_ledger", "transition_matrix"):
        out += [OUT.compare(f"{name}.csv", a, b) for a, b in pairs]
    out += [OUT.table("inventory_ownership", year)]
    out += [OUT.compare("ownership_change.csv", a, b) for a, b in pairs]
    if LANDUSE_FORMAT == "polygons":
        out += [OUT.table(f"inventory_polygons_{key}", year) for key in POLYGON_TABLES]
    return out


# -- helpers of workflow/rules/prepare.smk -----------------------------------------------------


def landuse_source(wc):
    """What prepare_landuse reads: the land-use raster (and ownership raster) of the year, or
    the prepared DLTB."""
    if LANDUSE_FORMAT == "polygons":
        return {"landuse": OUT.dltb(year=wc.year)}
    path = config["inputs"]["landuse"]["files"][landuse_key(wc.year)]
    out = {"landuse": path, "landuse_sidecars": with_sidecars(path)[1:]}
    own = ownership_file(wc.year)
    if own:
        out.update(ownership=own, ownership_sidecars=with_sidecars(own)[1:])
    return out


# -- helpers of workflow/rules/suitability.smk -------------------------------------------------


def official_inputs(wc):
    """The coded official layers of a reach, and its county raster (disagreement table)."""
    if not OFFICIAL:
        return {}
    return {**{f"official_{k}": OUT.official(k, wc.year, wc.reach) for k in OFFICIAL},
            "zone_county": OUT.zone("county", wc.year, wc.reach)}


# -- helpers of workflow/rules/services.smk ----------------------------------------------------


def earlier_survey(year):
    """The survey year before `year` (its land use tells which pixels changed class), or None."""
    earlier = [y for y in YEARS if y < int(year)]
    return max(earlier) if earlier else None


def earlier_landuse(wc):
    prev = earlier_survey(wc.year)
    return [] if prev is None else [OUT.reach("landuse", year=prev, reach=wc.reach)]


# -- helpers of workflow/rules/report.smk ------------------------------------------------------


def produced(path):
    """True when a rule of the workflow makes `path` (an optional report input, e.g. the county
    scorecard, is declared only once a rule makes it)."""
    return any(r.is_producer(path) for r in workflow.rules)


def config_file_input(f):
    """A config file as an input path: relative to the working directory when it lies inside
    it, so a copied or moved run folder stays up to date (an absolute path would change)."""
    import os
    from pathlib import Path
    p, here = Path(f).resolve(), Path.cwd().resolve()
    return os.path.relpath(p, here) if p.is_relative_to(here) else str(f)


def report_inputs(wc):
    """Every file the report reads, by name (nxgeo.report.REPORT_INPUTS): the year's tables, the
    latest comparison ending in this year, the maps, the config files and parameter tables."""
    y = int(wc.year)
    files = {
        "provenance": OUT.provenance(y), "validation": OUT.validation("report.json", y),
        "maps": OUT.maps(y), "candidates": OUT.candidates(y),
        **{key: OUT.table(name, y) for key, name in (
            ("candidates_summary", "candidates_summary"),
            ("candidates_pathways", "candidates_pathways"), ("water_balance", "water_balance"),
            ("water_capacity", "water_capacity"), ("inventory", "inventory_by_class"),
            ("gep", "gep_by_county"))},
        "vectors": OUT.vectors(),
        "config_files": [config_file_input(f) for f in workflow.configfiles],
        "config_tables": [config["inputs"]["tables"][k] for k in config["inputs"]["tables"]],
    }
    pairs = [(a, b) for a, b in COMPARE if b == y]
    if pairs:
        a, b = pairs[-1]
        files.update({key: OUT.compare(file, a, b) for key, file in (
            ("gep_change", "gep_change_by_county.csv"),
            ("services_change", "services_change_by_county.csv"),
            ("transition_matrix", "transition_matrix.csv"),
            ("transitions", "transitions_by_county.csv"),
            ("greening_ledger", "greening_ledger.csv"),
            ("greening_trades", "greening_trades.csv"),
            ("ledger_chart", "greening_ledger.png"),
            ("carbon_balance", "carbon_balance.csv"),
            ("carbon_trades", "carbon_trades.csv"),
            ("cropland_protection", "cropland_protection.csv"))})
    # parcels tracked since the previous survey year (docs/tracking.md)
    prev = previous_year(y)
    if prev is not None:
        files.update({"candidates_diff": OUT.compare("candidates_diff.csv", prev, y),
                      "candidates_diff_summary": OUT.compare("candidates_diff_summary.csv",
                                                             prev, y)})
    files["cumulative_progress"] = OUT.table("cumulative_progress", y)
    # made by rules of their own (issue #16): inputs once a rule makes them
    for key, name in (("scorecard", "county_scorecard"),
                      ("programme_summary", "programme_summary"),
                      ("programme_reference", "programme_vs_001")):
        path = OUT.table(name, y)
        if produced(path):
            files[key] = path
    return files


# -- helpers of workflow/rules/tracking.smk ----------------------------------------------------


def diff_summaries(wc):
    return [OUT.compare("candidates_diff_summary.csv", year_a=a, year_b=b)
            for a, b in CHAIN if b <= int(wc.year)]


# -- helpers of workflow/rules/scorecard.smk ---------------------------------------------------


def scorecard_compare(year):
    """The comparison ending in `year` ((year_a, year) with the latest year_a), or None."""
    pairs = [(a, b) for a, b in COMPARE if b == int(year)]
    return max(pairs) if pairs else None


def scorecard_compare_inputs(wc):
    """The comparison tables the scorecard reads (none for a year without a comparison)."""
    pair = scorecard_compare(wc.year)
    if pair is None:
        return {}
    return {key: OUT.compare(file, *pair) for key, file in (
        ("gep_change", "gep_change_by_county.csv"), ("cropland", "cropland_protection.csv"),
        ("greening", "greening_ledger.csv"), ("carbon", "carbon_balance.csv"))}


# -- helpers of workflow/rules/qgis.smk --------------------------------------------------------


def _wanted(rule):
    return _OPTIONAL_RULES.get(rule.name, True)


def _year_patterns(suffix):
    """Output patterns RESULTS/{year}/... ending in `suffix` whose only other wildcard is
    {reach}, of every rule defined so far (optional rules only when configured)."""
    out = []
    for r in workflow.rules:
        if not _wanted(r):
            continue
        for f in r.output:
            pat = _plain(str(f))
            if not pat.endswith(suffix) or not pat.startswith(OUT.year("") + "/"):
                continue
            if set(_WILDCARD.findall(pat)) - {"year", "reach"}:
                continue
            if pat not in out:
                out.append(pat)
    return out


def _compare_patterns(suffix):
    out = []
    head = OUT.compare_dir() + "/"
    for r in workflow.rules:
        if not _wanted(r):
            continue
        for f in r.output:
            pat = _plain(str(f))
            if pat.endswith(suffix) and pat.startswith(head) and pat not in out:
                out.append(pat)
    return out


def _expand_reach(patterns):
    """{year} kept, {reach} expanded over the reaches."""
    out = []
    for pat in patterns:
        out += [pat.replace("{reach}", r) for r in REACHES] if "{reach}" in pat else [pat]
    return out


def _pairs_ending(year):
    return [(a, b) for a, b in COMPARE if b == int(year)]


def _compare_files(patterns, year):
    return [p.format(year_a=a, year_b=b) for a, b in _pairs_ending(year) for p in patterns]

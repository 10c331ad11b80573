# Development-suitability overlay per target use, best use, and the water-capacity summary;
# the department's own 双评价 layers when supplied (docs/suitability_official.md).

from nxgeo.suitability.official import KINDS as OFFICIAL_KINDS

# The official layers supplied: {kind: "raster" | "vector"} (inputs.rasters / inputs.vectors
# official_<kind>); the raster is prepared (nearest) and clipped like every static raster.
OFFICIAL = {k: ("raster" if config["inputs"]["rasters"].get(f"official_{k}") else "vector")
            for k in OFFICIAL_KINDS
            if config["inputs"]["rasters"].get(f"official_{k}")
            or config["inputs"]["vectors"].get(f"official_{k}")}
OFFICIAL_GRADED = [(k, t) for k in OFFICIAL for t in TARGETS
                   if t in config["suitability"]["official"][k]["grade_targets"]]


def official_inputs(wc):
    """The coded official layers of a reach, and its county raster (disagreement table)."""
    if not OFFICIAL:
        return {}
    d = f"{RESULTS}/{wc.year}/reaches/{wc.reach}"
    return {**{f"official_{k}": f"{d}/official/{k}.tif" for k in OFFICIAL},
            "zone_county": f"{d}/zone_county.tif"}


rule official_layer:
    """One official 双评价 layer on a reach's grid, coded (1-3 class, 0 not covered)."""
    input:
        landuse=f"{RESULTS}/{{year}}/reaches/{{reach}}/landuse.tif",
        source=lambda wc: (f"{RESULTS}/{wc.year}/reaches/{wc.reach}/official_{wc.kind}.tif"
                           if OFFICIAL[wc.kind] == "raster"
                           else f"{RESULTS}/common/vectors.gpkg"),
    output:
        f"{RESULTS}/{{year}}/reaches/{{reach}}/official/{{kind}}.tif",
    wildcard_constraints:
        kind="|".join(OFFICIAL) or "-",
    params:
        values=lambda wc: config["suitability"]["official"][wc.kind]["values"],
        source=lambda wc: OFFICIAL[wc.kind],
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/official_{{kind}}_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/official_{{kind}}_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/official_layer.py"


rule official_disagreement:
    """Per county and reach: cells and ha by computed grade x official class (all reaches)."""
    input:
        expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/suitability/official_disagreement.csv",
               reach=REACHES),
    output:
        f"{RESULTS}/{{year}}/tables/official_disagreement.csv",
    params:
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/official_disagreement.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/official_disagreement.tsv"
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/official_disagreement.py"


rule suitability:
    """Score / grade / reason rasters per target use, best use and runner-up, legends (with
    the official 双评价 layers: their constraints and grades, and the disagreement)."""
    input:
        unpack(suitability_layers),
        unpack(official_inputs),
        classes=CLASSES_TABLE,
    output:
        **{f"suit_{t}_{k}": f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/suit_{t}_{k}.tif"
           for t in TARGETS for k in ("score", "grade", "reason")},
        **({"official_disagreement":
            f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/official_disagreement.csv"}
           if OFFICIAL else {}),
        **{f"official_disagree_{k}_{t}":
           f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/official_disagree_{k}_{t}.tif"
           for k, t in OFFICIAL_GRADED},
        best_use=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use.tif",
        runner_up=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_runner_up.tif",
        best_score=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_score.tif",
        reason_legend=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/reason_legend.csv",
        best_use_legend=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_legend.csv",
        # written by the same step (declared so they are kept and restored like the rasters)
        grade_legend=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/grade_legend.csv",
        reason_legend_json=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/reason_legend.json",
        best_use_legend_json=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_legend.json",
    params:
        suitability=config["suitability"],
        official=list(OFFICIAL),
        classes_table=config["landuse"]["classes_table"],
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/suitability_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/suitability_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/suitability.py"


rule water_capacity:
    """Per county: potential water demand if all suitable land were converted, vs headroom."""
    input:
        best=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/suitability/best_use.tif",
                    reach=REACHES),
        counties=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/zone_county.tif", reach=REACHES),
        budgets=config["inputs"]["tables"]["water_budgets"],
        demand=config["inputs"]["tables"]["water_demand"],
        classes=CLASSES_TABLE,
        validated=table_gates("water_budgets", "water_demand"),
    output:
        summary=f"{RESULTS}/{{year}}/tables/water_capacity.csv",
        headroom=f"{RESULTS}/{{year}}/tables/water_headroom.csv",
    params:
        reaches=REACHES,
        order=TARGETS,
        water=config["water"],
        classes_table=config["landuse"]["classes_table"],
        reach_dir=lambda wc: f"{RESULTS}/{wc.year}/reaches",
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/water_capacity.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/water_capacity.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/water_capacity.py"

# Development-suitability overlay per target use, best use, and the water-capacity summary;
# the department's own 双评价 layers when supplied (docs/suitability_official.md).

from nxgeo.suitability.official import KINDS as OFFICIAL_KINDS

# The official layers supplied: {kind: "raster" | "vector"} (inputs.rasters / inputs.vectors
# official_<kind>); the raster is prepared (nearest) and clipped like every static raster.
OFFICIAL = {k: ("raster" if config["inputs"]["rasters"][f"official_{k}"] else "vector")
            for k in OFFICIAL_KINDS
            if config["inputs"]["rasters"][f"official_{k}"]
            or config["inputs"]["vectors"].get(f"official_{k}")}
OFFICIAL_GRADED = [(k, t) for k in OFFICIAL for t in TARGETS
                   if t in config["suitability"]["official"][k]["grade_targets"]]


rule official_layer:
    """One official 双评价 layer on a reach's grid, coded (1-3 class, 0 not covered)."""
    input:
        landuse=OUT.reach("landuse"),
        source=lambda wc: (OUT.reach(f"official_{wc.kind}", year=wc.year, reach=wc.reach)
                           if OFFICIAL[wc.kind] == "raster"
                           else OUT.vectors()),
    output:
        OUT.official("{kind}"),
    wildcard_constraints:
        kind="|".join(OFFICIAL) or "-",
    params:
        values=lambda wc: config["suitability"]["official"][wc.kind]["values"],
        source=lambda wc: OFFICIAL[wc.kind],
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.log("official_{kind}_{reach}"),
    benchmark:
        OUT.benchmark("official_{kind}_{reach}")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/official_layer.py"


rule official_disagreement:
    """Per county and reach: cells and ha by computed grade x official class (all reaches)."""
    input:
        each_reach(OUT.suitability("official_disagreement.csv")),
    output:
        OUT.table("official_disagreement"),
    params:
        version=NXGEO_VERSION,
    log:
        OUT.log("official_disagreement"),
    benchmark:
        OUT.benchmark("official_disagreement")
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
        **{f"suit_{t}_{k}": OUT.suitability(f"suit_{t}_{k}.tif")
           for t in TARGETS for k in ("score", "grade", "reason")},
        **({"official_disagreement":
            OUT.suitability("official_disagreement.csv")}
           if OFFICIAL else {}),
        **{f"official_disagree_{k}_{t}":
           OUT.suitability(f"official_disagree_{k}_{t}.tif")
           for k, t in OFFICIAL_GRADED},
        best_use=OUT.suitability("best_use.tif"),
        runner_up=OUT.suitability("best_use_runner_up.tif"),
        best_score=OUT.suitability("best_use_score.tif"),
        reason_legend=OUT.suitability("reason_legend.csv"),
        best_use_legend=OUT.suitability("best_use_legend.csv"),
        # written by the same step (declared so they are kept and restored like the rasters)
        grade_legend=OUT.suitability("grade_legend.csv"),
        reason_legend_json=OUT.suitability("reason_legend.json"),
        best_use_legend_json=OUT.suitability("best_use_legend.json"),
    params:
        suitability=config["suitability"],
        official=list(OFFICIAL),
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.log("suitability_{reach}"),
    benchmark:
        OUT.benchmark("suitability_{reach}")
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/suitability.py"


rule water_capacity:
    """Per county: potential water demand if all suitable land were converted, vs headroom."""
    input:
        best=each_reach(OUT.suitability("best_use.tif")),
        counties=each_reach(OUT.zone("county")),
        landuse=each_reach(OUT.reach("landuse")),
        precipitation=each_reach(OUT.reach("precipitation")),
        budgets=config["inputs"]["tables"]["water_budgets"],
        demand=config["inputs"]["tables"]["water_demand"],
        classes=CLASSES_TABLE,
        validated=table_gates("water_budgets", "water_demand"),
    output:
        summary=OUT.table("water_capacity"),
        headroom=OUT.table("water_headroom"),
    params:
        reaches=REACHES,
        order=TARGETS,
        water=config["water"],
        version=NXGEO_VERSION,
    log:
        OUT.log("water_capacity"),
    benchmark:
        OUT.benchmark("water_capacity")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/water_capacity.py"

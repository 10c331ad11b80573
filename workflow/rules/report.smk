# Approval-ready maps, provenance and the yearly report.

# The county-names table (English names in the map subtitles) is optional: without it the
# counties layer's name_en, else the code.
COUNTY_NAMES = ({"county_names": config["inputs"]["tables"]["county_names"]}
                if "county_names" in config["inputs"]["tables"] else {})


rule maps:
    """Overview per pathway, one sheet per county (detail sheets where dense), best use,
    suitability grades, land use."""
    input:
        candidates=OUT.candidates(),
        best_use=each_reach(OUT.suitability("best_use.tif")),
        # the legend of the first reach (every reach writes the same)
        best_use_legend=OUT.suitability("best_use_legend.csv", reach=REACHES[0]),
        # one grade map per target
        **{f"grade_{t}": each_reach(OUT.suitability(f"suit_{t}_grade.tif")) for t in TARGETS},
        landuse=OUT.grid("landuse"),
        vectors=OUT.vectors(),
        grid=OUT.grid_json(),
        dem=OUT.common_grid("dem"),
        classes=CLASSES_TABLE,
        **COUNTY_NAMES,
        validated=table_gates(*COUNTY_NAMES),
    output:
        directory(OUT.maps()),
    params:
        targets=TARGETS,
        classes_table=config["landuse"]["classes_table"],
        subset={k: config.get(k) for k in ("region_name", "grid", "reaches", "suitability", "maps",
                                           "pathways") if k in config},
        version=NXGEO_VERSION,
    log:
        OUT.log("maps"),
    benchmark:
        OUT.benchmark("maps")
    threads: 2   # sheets are drawn in parallel processes (same files with any number)
    resources:
        mem_mb=3000,
    script:
        "../scripts/maps.py"


rule provenance:
    """Inputs with SHA-256, config, software versions, host, start and end of the year's run."""
    input:
        unpack(lambda wc: inputs_for_year(wc.year)),
        outputs=lambda wc: year_outputs(int(wc.year)),
        maps=OUT.maps(),
    output:
        OUT.provenance(),
    params:
        config=lambda wc: config,
        version=NXGEO_VERSION,
    log:
        OUT.log("provenance"),
    benchmark:
        OUT.benchmark("provenance")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/provenance.py"


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


# Headless Chromium prints the report to PDF (rule report_pdf); without it the HTML is complete
# and `rule all` asks for no PDF (the report's log says so).
import shutil as _shutil

REPORT_CHROMIUM = next((_shutil.which(n) for n in ("chromium", "chromium-browser",
                                                    "google-chrome") if _shutil.which(n)), None)


rule report:
    """One HTML page a reviewer reads: scorecard, GEP, candidates, changes, ledgers, water,
    inventory, maps, placeholders, validation, parameters, provenance (docs/report.md)."""
    input:
        unpack(report_inputs),
        validated=table_gates(*config["inputs"]["tables"]),
    output:
        OUT.report(),
    params:
        config=lambda wc: config,
        chromium=REPORT_CHROMIUM,
        version=NXGEO_VERSION,
    log:
        OUT.log("report"),
    benchmark:
        OUT.benchmark("report")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report.py"


rule report_pdf:
    """The report printed to PDF (A4 landscape) by headless Chromium."""
    input:
        OUT.report(),
    output:
        OUT.report_pdf(),
    params:
        chromium=REPORT_CHROMIUM,
        version=NXGEO_VERSION,
    log:
        OUT.log("report_pdf"),
    benchmark:
        OUT.benchmark("report_pdf")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report_pdf.py"

# Approval-ready maps, provenance and the yearly report.

# The county-names table (English names in the map subtitles) is optional: without it the
# counties layer's name_en, else the code.
COUNTY_NAMES = ({"county_names": config["inputs"]["tables"]["county_names"]}
                if "county_names" in config["inputs"]["tables"] else {})


rule maps:
    """Overview per pathway, one sheet per county (detail sheets where dense), best use,
    suitability grades, land use."""
    input:
        candidates=f"{RESULTS}/{{year}}/candidates.gpkg",
        best_use=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/suitability/best_use.tif",
                        reach=REACHES),
        landuse=f"{RESULTS}/{{year}}/grid/landuse.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        dem=f"{RESULTS}/common/grid/dem.tif",
        classes=CLASSES_TABLE,
        **COUNTY_NAMES,
        validated=table_gates(*COUNTY_NAMES),
    output:
        directory(f"{RESULTS}/{{year}}/maps"),
    params:
        results_dir=RESULTS,
        classes_table=config["landuse"]["classes_table"],
        subset={k: config.get(k) for k in ("region_name", "grid", "reaches", "suitability", "maps",
                                           "pathways") if k in config},
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/maps.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/maps.tsv"
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
        maps=f"{RESULTS}/{{year}}/maps",
    output:
        f"{RESULTS}/{{year}}/provenance.json",
    params:
        config=lambda wc: config,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/provenance.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/provenance.tsv"
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
    d = f"{RESULTS}/{y}"
    t = f"{d}/tables"
    files = {
        "provenance": f"{d}/provenance.json", "validation": f"{d}/validation/report.json",
        "maps": f"{d}/maps", "candidates": f"{d}/candidates.gpkg",
        "candidates_summary": f"{t}/candidates_summary.csv",
        "candidates_pathways": f"{t}/candidates_pathways.csv",
        "water_balance": f"{t}/water_balance.csv", "water_capacity": f"{t}/water_capacity.csv",
        "inventory": f"{t}/inventory_by_class.csv", "gep": f"{t}/gep_by_county.csv",
        "vectors": f"{RESULTS}/common/vectors.gpkg",
        "config_files": [config_file_input(f) for f in workflow.configfiles],
        "config_tables": [config["inputs"]["tables"][k] for k in config["inputs"]["tables"]],
    }
    pairs = [(a, b) for a, b in COMPARE if b == y]
    if pairs:
        a, b = pairs[-1]
        c = f"{d}/compare/{a}_{b}"
        files.update({
            "gep_change": f"{c}/gep_change_by_county.csv",
            "services_change": f"{c}/services_change_by_county.csv",
            "transition_matrix": f"{c}/transition_matrix.csv",
            "transitions": f"{c}/transitions_by_county.csv",
            "greening_ledger": f"{c}/greening_ledger.csv",
            "greening_trades": f"{c}/greening_trades.csv",
            "ledger_chart": f"{c}/greening_ledger.png",
            "carbon_balance": f"{c}/carbon_balance.csv",
            "carbon_trades": f"{c}/carbon_trades.csv",
            "cropland_protection": f"{c}/cropland_protection.csv",
        })
    # parcels tracked since the previous survey year (docs/tracking.md)
    prev = previous_year(y)
    if prev is not None:
        c = f"{d}/compare/{prev}_{y}"
        files.update({"candidates_diff": f"{c}/candidates_diff.csv",
                      "candidates_diff_summary": f"{c}/candidates_diff_summary.csv"})
    files["cumulative_progress"] = f"{t}/cumulative_progress.csv"
    # made by rules of their own (issue #16): inputs once a rule makes them
    for key, path in (("scorecard", f"{t}/county_scorecard.csv"),
                      ("programme_summary", f"{t}/programme_summary.csv"),
                      ("programme_reference", f"{t}/programme_vs_001.csv")):
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
        f"{RESULTS}/{{year}}/report/index.html",
    params:
        config=lambda wc: config,
        chromium=REPORT_CHROMIUM,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/report.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report.py"


rule report_pdf:
    """The report printed to PDF (A4 landscape) by headless Chromium."""
    input:
        f"{RESULTS}/{{year}}/report/index.html",
    output:
        f"{RESULTS}/{{year}}/report/report.pdf",
    params:
        chromium=REPORT_CHROMIUM,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/report_pdf.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/report_pdf.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report_pdf.py"

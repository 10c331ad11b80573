# nxgeo — Snakemake workflow. Thin: config, validation, includes, rule all.
# Run:  snakemake --profile workflow/profiles/default            (the embedded sample)
#       snakemake --profile workflow/profiles/default --configfile config/my_region.yaml
from snakemake.utils import min_version

min_version("8.10")

import nxgeo
from nxgeo.config import check_config, check_config_files

if "inputs" not in config:  # no --configfile given: the embedded sample's defaults
    configfile: "config/config.yaml"

# A config is data: every file is read again strictly (no templating, tags or duplicate keys;
# nxgeo.yamlguard refuses them even before Snakemake's own reading), then checked whole and
# completed: every key the user left out takes its default from the schema
# (workflow/schemas/config.schema.yaml), so the rules read config["section"]["key"].
check_config_files(workflow.configfiles)
config.update(check_config(config, source="the workflow configuration"))


include: "workflow/rules/common.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/terrain.smk"
include: "workflow/rules/inventory.smk"
include: "workflow/rules/suitability.smk"
include: "workflow/rules/services.smk"
include: "workflow/rules/candidates.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/programme.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/scorecard.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/qgis.smk"  # after every rule writing a year's rasters and tables
include: "workflow/rules/safety.smk"  # last: it flags the outputs of every rule above


rule all:
    input:
        f"{RESULTS}/common/validation/report.md",
        expand(f"{RESULTS}/{{year}}/validation/report.md", year=YEARS),
        expand(f"{RESULTS}/{{year}}/reaches/{{reach}}/{{layer}}.tif", year=YEARS, reach=REACHES,
               layer=REACH_LAYERS),
        expand(f"{RESULTS}/{{year}}/reaches/{{reach}}/{{layer}}.tif", year=YEARS, reach=REACHES,
               layer=TERRAIN_LAYERS),
        expand(f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use.tif", year=YEARS,
               reach=REACHES),
        expand(f"{RESULTS}/{{year}}/tables/inventory_by_class.csv", year=YEARS),
        expand(f"{RESULTS}/{{year}}/tables/water_capacity.csv", year=YEARS),
        expand(f"{RESULTS}/{{year}}/tables/services_by_county.csv", year=YEARS),
        expand(f"{RESULTS}/{{year}}/candidates.gpkg", year=YEARS),
        expand(f"{RESULTS}/{{year}}/tables/programme.csv", year=YEARS),
        expand(f"{RESULTS}/{{year}}/programme.gpkg", year=YEARS),
        expand(f"{RESULTS}/{{year}}/report/index.html", year=YEARS),
        # the PDF needs headless Chromium (report.smk: without it the HTML only)
        expand(f"{RESULTS}/{{year}}/report/report.pdf", year=YEARS) if REPORT_CHROMIUM else [],
        expand(f"{RESULTS}/{{year}}/export", year=YEARS),
        # the department's own 双评价 layers, when supplied: computed vs official
        expand(f"{RESULTS}/{{year}}/tables/official_disagreement.csv",
               year=YEARS if OFFICIAL else []),
        expand(f"{RESULTS}/{{year}}/nxgeo_{{year}}.qgz", year=YEARS),
        [f"{RESULTS}/{b}/compare/{a}_{b}/transition_matrix.csv" for a, b in COMPARE],
        [f"{RESULTS}/{b}/compare/{a}_{b}/greening_ledger.csv" for a, b in COMPARE],
        [f"{RESULTS}/{b}/compare/{a}_{b}/candidates_diff.csv" for a, b in DIFF_PAIRS],
        expand(f"{RESULTS}/{{year}}/tables/cumulative_progress.csv", year=YEARS),
    default_target: True

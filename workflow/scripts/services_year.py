"""Adapter: service quantities, values and the GEP account per county and reach for one year."""

from nxgeo.layout import files_by_reach
from nxgeo.logs import setup_logging
from nxgeo.services import services_year

setup_logging(snakemake.log[0], step=snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
stats = {
    k: getattr(i, k) if k in p.statistics else None
    for k in ("material_products", "cultural_services")
}
services_year(
    files_by_reach(snakemake.input, p.reaches),
    int(snakemake.wildcards.year),
    i.vectors,
    o.county,
    o.reach,
    cfg_services=p.services,
    prices_csv=i.prices,
    coefficients_csv=i.coefficients,
    classes_table=i.classes,
    out_accounts_csv=o.accounts,
    out_gep_county_csv=o.gep_county,
    out_gep_reach_csv=o.gep_reach,
    material_csv=stats["material_products"],
    cultural_csv=stats["cultural_services"],
)

"""Adapter: water allocation over all reaches of a year, with service gains per parcel."""

from functools import partial

from nxgeo.candidates import allocate_year
from nxgeo.logs import setup_logging
from nxgeo.services import parcel_gains
from nxgeo.vector_io import county_names

setup_logging(snakemake.log[0], step=snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
gains = partial(
    parcel_gains,
    cfg_services=p.services,
    carbon_csv=i.carbon,
    prices_csv=i.prices,
    classes_table=p.classes_table,
    coefficients_csv=i.coefficients,
    s_method=p.s_method,
)
allocate_year(
    i.reaches,
    i.budgets,
    i.demand,
    int(snakemake.wildcards.year),
    p.water,
    o.gpkg,
    o.summary,
    o.water_balance,
    cfg_pathways=p.pathways,
    county_names=county_names(i.vectors),
    gains=gains,
    out_gains_csv=o.gains,
    out_pathways_csv=o.pathways,
    unit_costs=i.unit_costs,
    previous_gpkg=i.previous[0] if i.previous else None,
    tracking_cfg=p.tracking,
    stability_cfg=p.stability,
)

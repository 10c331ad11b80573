"""Adapter: zone layers (constraint masks, county, water-quota modulus) of one reach."""

from nxgeo.logs import setup_logging
from nxgeo.zones import reach_zone_layers

setup_logging(snakemake.log[0], step=snakemake)
outputs = {k: v for k, v in snakemake.output.items()}
reach_zone_layers(
    snakemake.input.template,
    snakemake.input.vectors,
    snakemake.input.budgets,
    int(snakemake.wildcards.year),
    outputs,
    canal_buffer_m=float(snakemake.params.canal_buffer_m),
    area_crs=snakemake.params.area_crs,
)

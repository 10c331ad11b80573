"""Adapter: ecosystem-service rasters of one reach and year."""

from pathlib import Path

from nxgeo.logs import setup_logging
from nxgeo.services import services_reach

setup_logging(snakemake.log[0], step=snakemake)
i, p = snakemake.input, snakemake.params
optional = dict(zip(p.optional, i.optional))
optional["slope"] = i.slope
services_reach(
    {"landuse": i.landuse, "precipitation": i.precipitation, "ls": i.ls},
    p.services,
    i.carbon,
    i.prices,
    i.coefficients,
    i.classes,
    Path(snakemake.output.meta).parent,
    rasters=optional,
    landuse_prev=i.landuse_prev[0] if i.landuse_prev else None,
    extra_layers=p.extra_layers,
)

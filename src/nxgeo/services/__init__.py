"""Ecosystem-service accounting and GEP (生态产品总值), docs/gep.md.

Models (pure numpy, vectorised): `carbon` (InVEST carbon-model stock — an asset — and the
yearly sequestration flow), `rusle` (soil retention), `rweq` (sand fixation: potential of the
bare soil, actual with the cover), `water_conservation` (water balance), flood and climate
regulation and purification in `stage.compute_services`; `valuation` (the GEP catalogue and
prices), `accounts` (GEP account tables), `coefficients` (the coefficient table). Pipeline
stages: `stage` (services_reach, services_year, compare_services), `parcels` (parcel_gains).
"""

from .parcels import GAIN_COLUMNS, parcel_gains
from .stage import (
    EXTRA_LAYERS,
    SERVICE_LAYERS,
    ServiceParams,
    compare_services,
    compare_tables,
    compute_services,
    load_params,
    services_reach,
    services_year,
)
from .valuation import GEP_SERVICES, SERVICES

__all__ = [
    "EXTRA_LAYERS",
    "GAIN_COLUMNS",
    "GEP_SERVICES",
    "SERVICES",
    "SERVICE_LAYERS",
    "ServiceParams",
    "compare_services",
    "compare_tables",
    "compute_services",
    "load_params",
    "parcel_gains",
    "services_reach",
    "services_year",
]

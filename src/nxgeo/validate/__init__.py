"""Input validation: the data contract, its checks, the report (`nxgeo validate`).

- :mod:`.contract` — what every input must be (one declaration per item);
- :mod:`.runner` — ``validate_inputs``: the config and every input, all problems collected;
- :mod:`.scope` — the same checks by scope, as the workflow's gates;
- :mod:`.rasters`, :mod:`.vectors`, :mod:`.tables` — the checks by kind of input;
- :mod:`.core` — the checking context, the region, CRS helpers;
- :mod:`.report` — problems, the Markdown/JSON report, how messages write numbers.
"""

from __future__ import annotations

from .report import ERROR, WARNING, Problem, ValidationReport, write_reports
from .runner import check_grid_size, validate_inputs

__all__ = [
    "ERROR",
    "WARNING",
    "Problem",
    "ValidationReport",
    "check_grid_size",
    "validate_inputs",
    "write_reports",
]

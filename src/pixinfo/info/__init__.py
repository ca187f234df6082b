"""The three neighbour-information measures (the framework of Cao et al., arXiv 2411.16207).

* [`structural_retention`][pixinfo.info.structural.structural_retention] — R of a gather map or influence matrix
* [`neighbour_information`][pixinfo.info.content.neighbour_information] — I(X), kernel-weighted Moran's I of images
* [`value_retention`][pixinfo.info.value.value_retention] — per-position NMI / Spearman over a dataset
* [`probe_map`][pixinfo.info.probe.probe_map] — a black-box transform's map, by one-hot probing
* [`MEASURES`][pixinfo.info.registry.MEASURES] — the registry of the measures a score holds: names,
  labels, direction and the loss each gives
"""

from pixinfo.info.content import neighbour_information
from pixinfo.info.kernels import DEFAULT_KERNEL, FAMILIES, Kernel
from pixinfo.info.probe import ProbeResult, probe_map
from pixinfo.info.registry import MEASURES, Measure, measure
from pixinfo.info.structural import structural_retention
from pixinfo.info.value import value_retention

__all__ = [
    "DEFAULT_KERNEL",
    "FAMILIES",
    "Kernel",
    "MEASURES",
    "Measure",
    "ProbeResult",
    "measure",
    "neighbour_information",
    "probe_map",
    "structural_retention",
    "value_retention",
]

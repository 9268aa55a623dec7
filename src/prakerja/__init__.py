"""prakerja: run a national skills-training and cash-incentive program end to end."""

__version__ = "0.1.0"

"""Measures of how well a generator matches its data."""

from kgan.metrics.mode_coverage import ModeCoverage, mode_coverage

__all__ = ["ModeCoverage", "mode_coverage"]

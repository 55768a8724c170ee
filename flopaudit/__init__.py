"""flopaudit: auditable training-compute estimates and compute-threshold policy checks.

Convention everywhere: one multiply-add counts as 2 FLOP, all operations count equally whatever
their precision, and attention covers the full sequence x sequence matrix unless a config says
``counting: {attention: causal}``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""Shared by the framework-reader tests: fixture paths and flopaudit's own transformer count of a run."""

from __future__ import annotations

from pathlib import Path

from flopaudit.config.frameworks.base import TrainingRun
from flopaudit.config.models import Architecture
from flopaudit.estimate.formulas import TRAIN_PASSES
from flopaudit.estimate.methods import arch_forward_per_token

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def flopaudit_training_flop(run: TrainingRun, *, causal: bool) -> float:
    """3 x flopaudit's transformer forward per token x the run's tokens."""
    arch = Architecture(**run.architecture)
    return TRAIN_PASSES * arch_forward_per_token(arch, run.sequence_length, causal) * run.tokens

"""Stage kinds and model modalities: the closed vocabularies of the config (spec: config.md)."""

from __future__ import annotations

#: Stage kinds, in the order of the spec's table.
STAGE_KINDS: tuple[str, ...] = (
    "pretraining", "continued-pretraining", "fine-tuning", "reinforcement-learning",
    "synthetic-data", "distillation", "merge", "reward-model", "evaluation", "other",
)

#: Kinds whose compute is training passes of the model itself (forward + backward).
TRAINING_KINDS = frozenset({"pretraining", "continued-pretraining", "fine-tuning",
                            "reinforcement-learning", "distillation", "reward-model",
                            "evaluation", "other"})

#: Kinds whose compute includes forward passes of a generator (or teacher) model.
GENERATION_KINDS = frozenset({"reinforcement-learning", "synthetic-data", "distillation"})

MODALITIES: tuple[str, ...] = ("text", "code", "audio", "speech", "image", "video",
                               "biology", "multimodal", "other")

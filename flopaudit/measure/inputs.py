"""What an HF model is fed: token ids, decoder ids, pixels, log-mel frames or a waveform.

The model class's ``main_input_name`` and config decide (as transformers' own pipelines do):

- text models: ``input_ids [batch, seq_len]``;
- encoder-decoder models (``config.is_encoder_decoder``: T5, mT5, BART, Pegasus, Whisper):
  also ``decoder_input_ids [batch, decoder_len]``, ``decoder_len`` defaulting to ``seq_len``;
- vision models (``pixel_values``: ViT, DeiT, Swin, CLIP's and SigLIP's vision towers):
  ``pixel_values [batch, channels, image_size, image_size]`` at the config's image size;
- Whisper (``input_features``): 30 s of log-mel frames, ``[batch, num_mel_bins, 2 x
  max_source_positions]`` (3000 frames of 10 ms for the published models), and decoder ids;
- Wav2Vec2-style models (``input_values``): the raw waveform whose feature encoder yields
  exactly ``seq_len`` frames;
- CLIP-like models (a text and a vision config, both inputs in ``forward``): ids and pixels.

Every choice is stated: :attr:`Feed.described` goes into ``details["inputs"]`` and
:attr:`Feed.per_token` into the notes. Per-token figures divide by :attr:`Feed.tokens` per
sample: the input tokens (text, encoder-decoder, CLIP-like), the decoder tokens (Whisper),
the image patches (vision) or the encoder frames (Wav2Vec2).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from flopaudit.errors import ModelSourceError


@dataclass
class Feed:
    """The keyword tensors one forward pass gets, and what a "token" is for this model."""

    kwargs: dict[str, torch.Tensor]
    tokens: int  # per sample: what per-token figures divide by (times the batch)
    per_token: str  # what those tokens are, for the notes
    notes: list[str] = field(default_factory=list)

    @property
    def described(self) -> dict[str, dict[str, Any]]:
        """``{name: {"shape": [...], "dtype": "int64"}}`` for every input fed."""
        return describe(self.kwargs)


def describe(tensors: dict[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
    """``details["inputs"]``: each named tensor's shape and dtype."""
    return {name: {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
            for name, t in tensors.items()}


def forward_parameters(cls: type) -> list[str]:
    """Names of ``cls.forward``'s parameters in order (``self`` first), or [] when unknown."""
    try:
        return list(inspect.signature(cls.forward).parameters)
    except (TypeError, ValueError):
        return []


def _size(value: Any, what: str, path: Path) -> tuple[int, int]:
    """An image size given as an int, or as [height, width]."""
    if isinstance(value, int) and value > 0:
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return int(value[0]), int(value[1])
    raise ModelSourceError(f"the config's {what} must be a positive size, not {value!r}", file=path)


def _limit(config: Any, *names: str) -> int | None:
    return next((getattr(config, n) for n in names if isinstance(getattr(config, n, None), int)), None)


def _check_length(length: int, limit: int | None, what: str, path: Path) -> None:
    if limit is not None and length > limit:
        raise ModelSourceError(f"{what} {length} exceeds the model's {limit} positions", file=path)


def choose(cls: type, config: Any, *, batch: int, seq_len: int, decoder_len: int | None,
           ids: Callable[[tuple[int, ...], int | None], torch.Tensor],
           zeros: Callable[[tuple[int, ...]], torch.Tensor], path: Path) -> Feed:
    """The inputs of one forward pass of ``cls(config)`` (tensors made with ``ids``/``zeros``)."""
    main = getattr(cls, "main_input_name", "input_ids")
    params = set(forward_parameters(cls))
    text_config = getattr(config, "text_config", None)
    vision_config = getattr(config, "vision_config", None)
    kwargs: dict[str, torch.Tensor] = {}
    notes: list[str] = []
    decoder = bool(getattr(config, "is_encoder_decoder", False)) and "decoder_input_ids" in params
    if decoder_len is not None and not decoder:
        raise ModelSourceError(f"decoder_len is for encoder-decoder models; {cls.__name__} has no decoder",
                               file=path)

    if main == "pixel_values":
        height, width = _size(getattr(config, "image_size", None), "image_size", path)
        patch_h, patch_w = _size(getattr(config, "patch_size", None), "patch_size", path)
        channels = getattr(config, "num_channels", 3)
        kwargs["pixel_values"] = zeros((batch, channels, height, width))
        tokens = (height // patch_h) * (width // patch_w)
        per_token = f"{tokens} image patches ({height}x{width} pixels, {patch_h}x{patch_w} patches)"
        if seq_len != tokens:
            notes.append(f"a vision model: fed one {height}x{width} image per sample (the config's "
                         f"image_size), not {seq_len} tokens")
        return Feed(kwargs, tokens, per_token, notes)

    if main == "input_features":  # Whisper: log-mel frames, two per encoder position
        mels = getattr(config, "num_mel_bins", None)
        source = _limit(config, "max_source_positions")
        if not isinstance(mels, int) or source is None:
            raise ModelSourceError(f"{cls.__name__} takes input_features; the config must give num_mel_bins "
                                   "and max_source_positions", file=path)
        frames = 2 * source
        kwargs["input_features"] = zeros((batch, mels, frames))
        notes.append(f"fed {frames} log-mel frames of {mels} bins per sample (30 s of audio at 10 ms "
                     f"frames for the published models; the encoder takes exactly that many)")
        if not decoder:
            return Feed(kwargs, source, f"{source} encoder positions", notes)
        length = decoder_len or seq_len
        _check_length(length, _limit(config, "max_target_positions"), "decoder_len", path)
        kwargs["decoder_input_ids"] = ids((batch, length), getattr(config, "vocab_size", None))
        return Feed(kwargs, length, f"{length} decoder tokens", notes)

    if main == "input_values":  # Wav2Vec2, HuBERT: a waveform, seq_len encoder frames
        kernels = getattr(config, "conv_kernel", None)
        strides = getattr(config, "conv_stride", None)
        if not kernels or not strides or len(kernels) != len(strides):
            raise ModelSourceError(f"{cls.__name__} takes input_values; the config must give conv_kernel "
                                   "and conv_stride", file=path)
        samples = seq_len
        for kernel, stride in reversed(list(zip(kernels, strides))):  # invert each conv's length
            samples = (samples - 1) * stride + kernel
        kwargs["input_values"] = zeros((batch, samples))
        notes.append(f"fed a waveform of {samples} samples per sample, which the feature encoder turns "
                     f"into {seq_len} frames")
        return Feed(kwargs, seq_len, f"{seq_len} encoder frames", notes)

    if main != "input_ids":
        raise ModelSourceError(f"{cls.__name__} takes {main!r}, an input flopaudit cannot make yet",
                               file=path, hint="use --factory returning (module, inputs)")
    text_limit = _limit(text_config if text_config is not None else config,
                        "max_position_embeddings", "n_positions", "max_seq_len")
    _check_length(seq_len, text_limit, "seq_len", path)
    vocab = getattr(text_config if text_config is not None else config, "vocab_size", None)
    kwargs["input_ids"] = ids((batch, seq_len), vocab)
    per_token = f"{seq_len} input tokens"
    if vision_config is not None and "pixel_values" in params:  # CLIP-like: text and image towers
        height, width = _size(getattr(vision_config, "image_size", None), "vision_config.image_size", path)
        channels = getattr(vision_config, "num_channels", 3)
        kwargs["pixel_values"] = zeros((batch, channels, height, width))
        notes.append(f"a text-image model: fed {seq_len} tokens and one {height}x{width} image per sample")
        per_token = f"{seq_len} text tokens (each with its image)"
    if decoder:
        length = decoder_len or seq_len
        _check_length(length, _limit(config, "max_target_positions", "max_position_embeddings", "n_positions"),
                      "decoder_len", path)
        kwargs["decoder_input_ids"] = ids((batch, length), vocab)
        notes.append(f"an encoder-decoder model: fed {seq_len} encoder and {length} decoder tokens per "
                     "sample")
        per_token = f"{seq_len} encoder tokens (each sample also has {length} decoder tokens)"
    return Feed(kwargs, seq_len, per_token, notes)

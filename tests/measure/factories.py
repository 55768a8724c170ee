"""Small models for the measure tests, importable as factories (``tests.measure.factories:NAME``).

This module has no side effects at import, so a factory spec may import it a second time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class TinyDecoder(torch.nn.Module):
    """Embedding, one SDPA block with an MLP, and a head: every kind of op the counter handles."""

    def __init__(self, vocab: int = 50, d: int = 16, heads: int = 2, ff: int = 32) -> None:
        super().__init__()
        self.heads = heads
        self.embed = torch.nn.Embedding(vocab, d)
        self.qkv = torch.nn.Linear(d, 3 * d, bias=False)
        self.out = torch.nn.Linear(d, d, bias=False)
        self.up = torch.nn.Linear(d, ff)
        self.down = torch.nn.Linear(ff, d)
        self.head = torch.nn.Linear(d, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(a)
        x = x + self.down(F.gelu(self.up(x)))
        return self.head(x)


def tiny_decoder() -> torch.nn.Module:
    """The factory ``tests.measure.factories:tiny_decoder``."""
    torch.manual_seed(0)
    return TinyDecoder()


NOT_CALLABLE = 42


def not_a_module() -> object:
    """A factory that returns something that is not a model."""
    return object()


def broken() -> torch.nn.Module:
    """A factory whose own code fails."""
    raise RuntimeError("the user's model code failed")


class FFTMixer(torch.nn.Module):
    """An embedding, an FFT token mixer (an op with no FLOP formula) and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(100, 16)
        self.head = torch.nn.Linear(16, 100, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        x = torch.fft.fft(x, dim=1).real
        return self.head(x)


def fft_mixer() -> torch.nn.Module:
    """A model one of whose ops flopaudit cannot price (for the uncounted-op path of ``check``)."""
    return FFTMixer()


# --------------------------------------------------------------------------- factories that misbehave
# Each must end a ``check --allow-code`` or ``profile`` run with exit 2 (they run in a child).


def hangs() -> torch.nn.Module:
    """A factory that never returns (a ``time.sleep``-like hang)."""
    import time

    time.sleep(3600)
    raise AssertionError("unreachable")


def raises_system_exit() -> torch.nn.Module:
    """A factory that asks to end the process with status 0 (``check`` would pass)."""
    raise SystemExit(0)


def raises_keyboard_interrupt() -> torch.nn.Module:
    """A factory that raises KeyboardInterrupt, as if Ctrl-C were pressed."""
    raise KeyboardInterrupt


def exits_quietly() -> torch.nn.Module:
    """A factory that ends its process with status 0, skipping every handler."""
    import os

    os._exit(0)


def hungry() -> torch.nn.Module:
    """A factory that allocates 64 GiB at once."""
    return torch.nn.Linear(1, len(bytearray(64 * 2**30)))


class ShapeError(torch.nn.Module):
    """A linear layer whose input width does not match the embedding: the forward fails."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(10, 8)
        self.proj = torch.nn.Linear(7, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj(self.embed(ids))


def shape_error() -> torch.nn.Module:
    """A model whose forward pass raises a shape error (torch logs a traceback under fake tensors)."""
    return ShapeError()


def chatty() -> torch.nn.Module:
    """The tiny decoder, after printing to stdout and stderr (Python-level and file-descriptor level)."""
    import os
    import sys
    import warnings

    print("hello from the factory")
    sys.stderr.write("a factory warning on stderr\n")
    os.write(1, b"raw bytes on fd 1\n")
    os.write(2, b"raw bytes on fd 2\n")
    warnings.warn("a factory warning", UserWarning, stacklevel=1)
    return tiny_decoder()


class _TwoInputs(torch.nn.Module):
    """Token ids and a dense feature vector per sample: (ids [B, S], features [B, F])."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 16)
        self.features = torch.nn.Linear(8, 16)

    def forward(self, ids: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return self.embed(ids) + self.features(features)[:, None, :]


def with_positional_inputs() -> tuple[torch.nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    """A factory returning its model with example inputs: ids [2, 6] and features [2, 8]."""
    return _TwoInputs(), (torch.zeros(2, 6, dtype=torch.long), torch.zeros(2, 8))


def with_keyword_inputs() -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """The same model, inputs by argument name."""
    return _TwoInputs(), {"features": torch.zeros(3, 8), "ids": torch.zeros(3, 4, dtype=torch.long)}


def with_image_input() -> tuple[torch.nn.Module, torch.Tensor]:
    """A convolution fed one 3x8x8 image per sample (no token ids)."""
    return torch.nn.Conv2d(3, 4, kernel_size=3), torch.zeros(2, 3, 8, 8)


def with_bad_inputs() -> tuple[torch.nn.Module, list[str]]:
    """A factory whose inputs are not tensors."""
    return torch.nn.Linear(2, 2), ["not", "tensors"]

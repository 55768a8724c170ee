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

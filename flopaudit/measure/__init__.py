"""Count the real FLOP of a PyTorch model's forward and backward pass.

Importing this package does not import torch (formula-only configs never need it); torch, and
transformers for HF configs, are imported when :func:`profile` or :func:`train_flop_per_token`
runs, and their absence raises :class:`~flopaudit.errors.MissingDependencyError` naming the extras.

Counting is quiet (:mod:`flopaudit.measure.quiet`) and offline (:mod:`flopaudit.measure.offline`).
With ``isolation=Limits(...)`` it runs in a child process (:mod:`flopaudit.measure.isolate`):
the CLI does that for every source that runs code (a factory, ``trust_remote_code``).

Convention: one multiply-add is 2 FLOP (``macs = flop / 2``); only matrix products count
(elementwise ops, norms, softmax and the embedding lookup are 0, listed by category); backward is
measured, not assumed; attention covers the full sequence x sequence matrix unless
``attention="causal"`` (halved) or ``"window"`` (the pairs the mask keeps, sliding windows
included; :mod:`flopaudit.measure.attention`). See :data:`flopaudit.measure.result.CONVENTION`.

Example::

    from flopaudit.measure import ModelSource, profile
    result = profile(ModelSource(hf_config=Path("config.json")), seq_len=2048)
    result.flop_per_token_train
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit.errors import MeasureError, MissingDependencyError, ModelSourceError
from flopaudit.measure import progress
from flopaudit.measure.attention import CONVENTIONS
from flopaudit.measure.offline import hub_offline
from flopaudit.measure.result import CONVENTION, ProfileResult

if TYPE_CHECKING:
    from flopaudit.measure.isolate import Limits

__all__ = ["BACKENDS", "CONVENTION", "DEFAULT_SEQ_LEN", "DEVICES", "ModelSource", "ProfileResult",
           "profile", "require_extras", "train_flop_per_token"]

DEVICES = ("meta", "cpu", "cuda")
BACKENDS = ("flopaudit", "fvcore", "torch")
ATTENTION = CONVENTIONS  # full, causal, window: flopaudit.measure.attention
#: The sequence length counted when none is given, capped by the model's position table.
DEFAULT_SEQ_LEN = 2048


@dataclass
class ModelSource:
    """Where the model comes from: exactly one of ``hf_config``, ``factory`` or ``module``.

    - ``hf_config``: a local HF ``config.json``; built with no weights, never downloaded.
    - ``factory``: ``"package.module:callable"`` returning an ``nn.Module`` whose input is token
      ids of shape ``[batch, seq_len]``, or of shape ``factory_input`` when given.
    - ``module``: an ``nn.Module`` (Python API only), fed like a factory's model.
    """

    hf_config: Path | None = None
    factory: str | None = None
    module: Any = None
    factory_input: list[int] | None = None
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.hf_config, str):
            self.hf_config = Path(self.hf_config)

    def kind(self) -> str:
        """``"hf_config"``, ``"factory"`` or ``"module"``; raises if not exactly one is set."""
        chosen = [name for name in ("hf_config", "factory", "module") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ModelSourceError("a model source needs exactly one of hf_config, factory or module"
                                   + (f" (got {', '.join(chosen)})" if chosen else " (got none)"))
        return chosen[0]

    def runs_code(self) -> bool:
        """Whether counting imports code named by the source (a factory, or remote modelling code)."""
        return self.factory is not None or (self.hf_config is not None and self.trust_remote_code)

    def short_name(self) -> str:
        """The source in a few words, for the progress line: ``llama.json``, ``pkg.mod:build``."""
        if self.hf_config is not None:
            return Path(self.hf_config).name
        return self.factory if self.factory is not None else type(self.module).__name__

    def describe(self) -> str:
        """The source, for messages: ``the factory 'pkg.mod:build'``."""
        if self.factory is not None:
            return f"the factory {self.factory!r}"
        if self.hf_config is not None:
            return f"the {'remote code of ' if self.trust_remote_code else ''}HF config {str(self.hf_config)!r}"
        return f"the module {type(self.module).__name__}"


def require_extras(source: ModelSource, backend: str = "flopaudit") -> None:
    """Raise MissingDependencyError naming the extras ``source`` needs that are not installed.

    Every source needs torch (``flopaudit[measure]``); an HF config needs transformers as well
    (``flopaudit[measure,hf]``), and the fvcore backend needs fvcore (``flopaudit[measure]``).
    """
    extras = ("measure", "hf") if source.kind() == "hf_config" else "measure"
    try:
        with progress.phase("importing torch"):
            import torch  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("torch", extras, "Counting the FLOP of a real model") from exc
    if source.kind() == "hf_config":
        try:
            with hub_offline(), progress.phase("importing transformers"):  # hub fixes its offline flag at import
                import transformers  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError("transformers", extras,
                                         "Building a model from an HF config.json") from exc
    if backend == "fvcore":
        try:
            import fvcore  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError("fvcore", "measure", "The fvcore backend") from exc


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise MeasureError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def profile(source: ModelSource, *, seq_len: int | None, batch: int = 1, device: str = "meta",
            backward: bool = True, attention: str = "full", by_module_depth: int = 2,
            backend: str = "flopaudit", isolation: Limits | None = None,
            reuse_layers: bool = True, decoder_len: int | None = None) -> ProfileResult:
    """Count one training step (forward, and backward unless ``backward=False``) of ``source``.

    ``seq_len=None`` counts :data:`DEFAULT_SEQ_LEN` tokens, or fewer where the model's position
    table is shorter. With ``isolation``, the source is built and counted in a child process
    under those limits (:func:`flopaudit.measure.isolate.run_isolated`); every way that child
    can fail is a :class:`~flopaudit.errors.MeasureError`.

    ``device="meta"`` counts with no weights in memory (fake tensors), ``"cpu"`` and ``"cuda"``
    run real tensors with random weights; on CUDA the step is also timed (``result.cuda``: MFU
    and the counter's overhead). ``attention="causal"`` halves the score and value products of
    causal attention (fused kernels and eager bmm), ``"window"`` counts the pairs each mask keeps
    (sliding windows: window x sequence); see :mod:`flopaudit.measure.attention`.
    ``by_module_depth`` limits ``by_module`` to modules with at most that many modules on their path (containers that never run, like ``nn.ModuleList``, are not counted:
    depth 2 reaches ``model.layers.0``). ``backend="torch"|"fvcore"`` reports what those peers would have counted.
    ``decoder_len`` is the decoder's length for encoder-decoder models (default ``seq_len``); what
    each model is fed is chosen from its class and config (:mod:`flopaudit.measure.inputs`) and
    listed in ``details["inputs"]``.
    ``reuse_layers`` counts each distinct layer of a repeated stack once and credits its copies
    (:mod:`flopaudit.measure.reuse`, on ``meta`` only; the totals equal a full count's, and
    ``details["layers"]`` says which method was used).
    """
    _check_choice("device", device, DEVICES)
    _check_choice("attention", attention, ATTENTION)
    _check_choice("backend", backend, BACKENDS)
    if ((seq_len is not None and seq_len < 1) or (decoder_len is not None and decoder_len < 1)
            or batch < 1 or by_module_depth < 0):
        raise MeasureError("seq_len, decoder_len and batch must be >= 1 and by_module_depth >= 0")
    with progress.phase(f"counting {source.short_name()}"):
        return _profile_checked(source, seq_len=seq_len, batch=batch, device=device, backward=backward,
                                attention=attention, by_module_depth=by_module_depth, backend=backend,
                                isolation=isolation, reuse_layers=reuse_layers, decoder_len=decoder_len)


def _profile_checked(source: ModelSource, *, seq_len: int | None, batch: int, device: str, backward: bool,
                     attention: str, by_module_depth: int, backend: str, isolation: Limits | None,
                     reuse_layers: bool, decoder_len: int | None) -> ProfileResult:
    """:func:`profile` once its arguments are checked (inside its progress phase)."""
    require_extras(source, backend)
    options = {"seq_len": seq_len, "batch": batch, "device": device, "backward": backward,
               "attention": attention, "by_module_depth": by_module_depth, "backend": backend,
               "reuse_layers": reuse_layers, "decoder_len": decoder_len}
    if isolation is not None:
        if source.kind() == "module":
            raise MeasureError("an nn.Module source lives in this process and cannot be counted in a "
                               "child; give a factory instead")
        from flopaudit.measure.isolate import run_isolated

        if device == "cuda":
            # CUDA reserves virtual address space far beyond physical memory: an RLIMIT_AS would
            # make its initialisation fail, so a CUDA child runs under the timeout only.
            isolation = dataclasses.replace(isolation, memory_bytes=None)
        with progress.phase("in a child process"):
            data = run_isolated(_profile_as_dict, source, options, describe=source.describe(), limits=isolation)
        return ProfileResult.from_dict(data, source=source.describe())
    return _profile_here(source, **options)


def _profile_here(source: ModelSource, *, seq_len: int | None, **options: Any) -> ProfileResult:
    from flopaudit.measure.profiling import run_profile
    from flopaudit.measure.quiet import silenced

    with silenced(), hub_offline():
        if seq_len is None:
            from flopaudit.measure.sources import max_positions

            limit = max_positions(source)
            seq_len = min(DEFAULT_SEQ_LEN, limit) if limit else DEFAULT_SEQ_LEN
        return run_profile(source, seq_len=seq_len, **options)


def _profile_as_dict(source: ModelSource, options: dict[str, Any]) -> dict[str, Any]:
    """What a child process of :func:`profile` runs: the count, as plain data."""
    return dataclasses.asdict(_profile_here(source, **options))


_CACHE: dict[tuple[Any, ...], ProfileResult] = {}


def train_flop_per_token(source: ModelSource, *, seq_len: int, attention: str = "full",
                         isolation: Limits | None = None, decoder_len: int | None = None) -> ProfileResult:
    """Count forward + backward of ``source`` at ``seq_len`` (batch 1, no weights in memory).

    The returned result's ``flop_per_token_train`` is what the ``measured`` method multiplies by
    a stage's tokens. Results for file and factory sources are cached per process (keyed by the
    file's modification time), since a config's stages often share a sequence length.
    ``isolation`` is passed on to :func:`profile`.
    """
    require_extras(source)
    key: tuple[Any, ...] | None = None
    if source.kind() != "module":
        stamp = None
        if source.hf_config is not None:
            path = Path(source.hf_config).resolve()
            stamp = (str(path), path.stat().st_mtime_ns if path.exists() else None)
        key = (stamp, source.factory, tuple(source.factory_input or ()), source.trust_remote_code,
               seq_len, attention, decoder_len)
        if key in _CACHE:
            return _CACHE[key]
    result = profile(source, seq_len=seq_len, batch=1, device="meta", backward=True,
                     attention=attention, by_module_depth=0, isolation=isolation, decoder_len=decoder_len)
    if key is not None:
        _CACHE[key] = result
    return result

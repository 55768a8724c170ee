"""Which modules are running, forward and backward: the counter's per-module attribution.

``torch.utils.module_tracker.ModuleTracker`` (what ``FlopCounterMode`` uses) enters a module in
backward when gradients reach its outputs and leaves it when the gradients of its *positional*
tensor inputs are computed. Hugging Face layers are called with keyword tensors
(``hidden_states=...``): their backward exit never fires, so a layer's attention module stays
"running" through the rest of backward and collects every later layer's backward FLOP (children
exceeding their parents, ``self_attn`` growing layer by layer).

This tracker keeps ModuleTracker's naming, its global hooks and its ``parents`` set, and closes a
module's backward on all its tensor inputs, positional and keyword: the exit hook is registered
from the global forward hook, which (unlike the pre-hook) can be given the keyword arguments.
Global hooks, not per-module ones, so that PyTorch's fused fast paths (``nn.TransformerEncoder``
in inference) still run as they would without the counter.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd.graph import register_multi_grad_hook
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.utils._pytree import tree_flatten
from torch.utils.module_tracker import ModuleTracker as _TorchModuleTracker
from typing_extensions import Self


def _grad_tensors(value: Any) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(value)
    return [leaf for leaf in leaves if isinstance(leaf, torch.Tensor) and leaf.requires_grad]


class ModuleTracker(_TorchModuleTracker):
    """ModuleTracker whose backward attribution also sees tensors passed by keyword."""

    def _enter_forward(self, module: torch.nn.Module, args: Any) -> None:
        self._get_append_fn(self._get_mod_name(module), False)()

    def _exit_forward(self, module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                      output: Any) -> None:
        name = self._get_mod_name(module)
        self._get_pop_fn(name, False)()
        inputs = _grad_tensors((args, kwargs))
        if inputs:  # backward leaves the module once its inputs' gradients are computed
            self._hooks.append(register_multi_grad_hook(inputs, self._get_pop_fn(name, True)))
        outputs = _grad_tensors(output)
        if outputs:  # and enters it when gradients reach its outputs
            self._hooks.append(register_multi_grad_hook(outputs, self._get_append_fn(name, True)))

    def __enter__(self) -> Self:
        self._fw_pre_handle = register_module_forward_pre_hook(self._enter_forward)
        self._fw_post_handle = register_module_forward_hook(self._exit_forward, with_kwargs=True,
                                                            always_call=True)
        return self

"""Keep transformers and huggingface_hub offline: every call flopaudit makes into them runs here.

huggingface_hub reads ``HF_HUB_OFFLINE`` once, when it is imported, so setting the environment is
not enough once it is loaded: :func:`hub_offline` sets the variables *and* the module constants,
and flopaudit imports transformers inside it (so the constants are born offline). Afterwards
everything is put back as it was, so a program that imports flopaudit keeps its own setting.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
#: Modules that cache the offline flag at import, and the names they cache it under.
_CONSTANTS = {"huggingface_hub.constants": ("HF_HUB_OFFLINE",),
              "transformers.utils.hub": ("HF_HUB_OFFLINE", "_is_offline_mode")}


def _env_offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def _flags() -> list[tuple[Any, str]]:
    found = []
    for module_name, attrs in _CONSTANTS.items():
        module = sys.modules.get(module_name)
        found += [(module, attr) for attr in attrs
                  if module is not None and isinstance(getattr(module, attr, None), bool)]
    return found


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Nothing inside reaches the Hugging Face Hub (also usable as a decorator)."""
    saved_env = {key: os.environ.get(key) for key in _VARIABLES}
    os.environ.update({key: "1" for key in _VARIABLES})
    saved = {(id(module), attr): getattr(module, attr) for module, attr in _flags()}
    for module, attr in _flags():
        setattr(module, attr, True)
    try:
        yield
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for module, attr in _flags():
            # A module imported inside gets what the restored environment says, as a fresh import would.
            setattr(module, attr, saved.get((id(module), attr), _env_offline()))

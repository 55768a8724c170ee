"""Load policies: the built-in ones shipped with flopaudit, or an organisation's own file."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from flopaudit.config.loader import field_path
from flopaudit.config.yaml_source import load_yaml
from flopaudit.errors import PolicyError
from flopaudit.policy.models import Policy
from flopaudit.suggest import did_you_mean

_PACKAGE = Path(__file__).resolve().parent.parent


def builtin_dir() -> Path:
    """Where the built-in policy files are: inside the wheel, or ``policies/`` of a source checkout."""
    packaged = _PACKAGE / "_builtin_policies"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "policies"


def load_policy_file(path: str | Path, *, builtin: bool = False) -> Policy:
    """Read and validate one policy file; :class:`PolicyError` at the offending line.

    A file that is not built in may reuse a built-in id only if it says ``overrides: <that id>``,
    and ``overrides`` must name a built-in policy: a custom file can never silently stand in for
    the policy a reader expects.
    """
    doc = load_yaml(Path(path), PolicyError)
    if not isinstance(doc.data, dict):
        raise PolicyError("a policy file must be a mapping (see 'flopaudit schema policy')", file=path, line=1)
    try:
        policy = Policy.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        line, col = doc.position(loc) or (None, None)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
        elif err["type"] == "missing":
            msg = f"missing required key '{loc[-1]}'"
        raise PolicyError(f"{field_path(loc)}: {msg}" if loc else msg, file=path, line=line, column=col) from None
    if builtin:
        if policy.overrides is not None:
            raise PolicyError("a built-in policy cannot override another", file=path)
    else:
        _check_override(policy, doc.position, path)
    policy._source = str(path)
    return policy


def _check_override(policy: Policy, position: Callable[[tuple[str, ...]], tuple[int, int] | None],
                    path: str | Path) -> None:
    """Refuse a custom file that reuses a built-in id without ``overrides``, or overrides an unknown id."""
    builtins = builtin_policies()
    if policy.overrides is not None and policy.overrides not in builtins:
        line, col = position(("overrides",)) or (None, None)
        raise PolicyError(f"overrides: '{policy.overrides}' is not a built-in policy"
                          f"{did_you_mean(policy.overrides, builtins)}; built-in: {', '.join(builtins)}",
                          file=path, line=line, column=col)
    if policy.id in builtins and policy.overrides != policy.id:
        line, col = position(("id",)) or (None, None)
        raise PolicyError(f"id: '{policy.id}' is the id of a built-in policy; a file that replaces it must say "
                          f"'overrides: {policy.id}' (and every output will name the override), "
                          "or use an id of its own", file=path, line=line, column=col)


@functools.lru_cache(maxsize=1)
def builtin_policies() -> dict[str, Policy]:
    """Every built-in policy by id, in file-name order; a file named unlike its id is an error."""
    out: dict[str, Policy] = {}
    for path in sorted(builtin_dir().glob("*.yaml")):
        policy = load_policy_file(path, builtin=True)
        if policy.id != path.stem:
            raise PolicyError(f"policy id '{policy.id}' does not match its file name", file=path)
        out[policy.id] = policy
    return out


def resolve_policy(ref: str) -> Policy:
    """A built-in policy by id, or a policy file by path."""
    builtins = builtin_policies()
    if ref in builtins:
        return builtins[ref]
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        # A built-in file named by its path is the built-in policy, not an override of it.
        builtin = path.resolve().parent == builtin_dir().resolve()
        return load_policy_file(path, builtin=builtin)
    raise PolicyError(f"unknown policy '{ref}'{did_you_mean(ref, builtins)}; "
                      f"built-in: {', '.join(builtins)}; or give a policy file path")


def yaml_files(folder: Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of ``folder`` (not recursive), by name."""
    return sorted(f for f in folder.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())


def load_policy_paths(paths: Sequence[Path]) -> list[Policy]:
    """The policies of an organisation's files and folders (every ``*.yaml``/``*.yml`` of a folder, by name)."""
    files: list[Path] = []
    for path in paths:
        files += yaml_files(path) if path.is_dir() else [path]
    out: list[Policy] = []
    for file in files:
        policy = load_policy_file(file)
        twin = next((p for p in out if p.id == policy.id), None)
        if twin is not None:
            raise PolicyError(f"policy id '{policy.id}' is defined twice: {twin.source} and {file}", file=file)
        out.append(policy)
    return out

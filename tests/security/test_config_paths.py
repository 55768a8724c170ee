"""Issue 7, item 3: files a config names stay inside the repository, are regular files, and are small."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli

CONFIG = """\
model:
  name: m
  hf_config: {path}
  architecture: {{layers: 2, d_model: 64, heads: 2, vocab: 1000}}
training:
  - {{name: p, kind: pretraining, tokens: 1B, sequence_length: 128}}
"""


def repo_with_config(tmp_path: Path, hf_config: str) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "configs").mkdir()
    cfg = repo / "configs" / "c.yaml"
    cfg.write_text(CONFIG.format(path=hf_config))
    return repo, str(cfg)


def test_item3_a_path_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text("not json")
    repo, cfg = repo_with_config(tmp_path, "../../secret.json")
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # hf_config is line 3, its key at column 3.
    assert f"{cfg}:3:3: model.hf_config: '../../secret.json' resolves to {outside}, outside the repository root " \
           f"{repo}" in proc.stderr
    # --allow-outside-paths lifts the refusal: the file is read, and is found not to be JSON.
    proc = run_cli("check", cfg, "--allow-outside-paths")
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


def test_item3_etc_passwd_is_refused() -> None:
    # The example of the issue, from a config in this repository.
    repo_config = Path("tests/security/fixtures/passwd.yaml")
    proc = run_cli("check", str(repo_config))
    assert proc.returncode == 2
    assert "'../../../../../../etc/passwd' resolves to /etc/passwd, outside the repository root" in proc.stderr


def test_item3_a_link_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "config.json"
    outside.write_text('{"model_type": "gpt2"}')
    repo, cfg = repo_with_config(tmp_path, "link.json")
    (repo / "configs" / "link.json").symlink_to(outside)
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and f"resolves to {outside}, outside the repository root" in proc.stderr


def test_item3_a_fifo_never_blocks(tmp_path: Path) -> None:
    repo, cfg = repo_with_config(tmp_path, "pipe.json")
    os.mkfifo(repo / "configs" / "pipe.json")
    proc = run_cli("check", cfg)  # run_cli has a timeout: a blocking open() would fail the test
    assert proc.returncode == 2 and "'pipe.json': file is a FIFO, not a regular file" in proc.stderr
    os.mkfifo(tmp_path / "config.yaml")
    proc = run_cli("check", str(tmp_path / "config.yaml"))
    assert proc.returncode == 2 and "config.yaml: file is a FIFO, not a regular file" in proc.stderr


def test_item3_a_device_and_a_huge_file_are_refused_before_reading(tmp_path: Path) -> None:
    _, cfg = repo_with_config(tmp_path, "/dev/zero")
    proc = run_cli("check", cfg, "--allow-outside-paths")
    assert proc.returncode == 2 and "'/dev/zero': file is a device, not a regular file" in proc.stderr
    repo, cfg = repo_with_config(tmp_path / "b", "big.json")
    with open(repo / "configs" / "big.json", "wb") as fh:  # sparse: 1.5 GB on paper, nothing on disk
        fh.truncate(1_500_000_000)
    proc = run_cli("check", cfg)
    # 4 MiB = 4,194,304 bytes is the cap of a referenced file.
    assert proc.returncode == 2
    assert "'big.json': file is 1,500,000,000 bytes, larger than the 4,194,304 bytes allowed" in proc.stderr


@pytest.mark.parametrize("setting", ["pyproject", "yaml"])
def test_item3_allow_outside_paths_as_a_project_setting(tmp_path: Path, setting: str) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text("not json")
    repo, cfg = repo_with_config(tmp_path, "../../secret.json")
    if setting == "pyproject":
        (repo / "pyproject.toml").write_text("[tool.flopaudit]\nallow-outside-paths = true\n")
    else:
        (repo / ".flopaudit.yaml").write_text("allow-outside-paths: true\n")
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


def test_item3_a_file_read_from_outside_is_a_notice(tmp_path: Path) -> None:
    # Notices reach every format (test_gate_weakening.py); one JSON run keeps this torch-importing test short.
    outside = tmp_path / "gpt2.json"
    outside.write_text('{"model_type": "gpt2", "n_layer": 1, "n_embd": 64, "n_head": 2, "vocab_size": 1000, '
                       '"n_positions": 128}')
    _, cfg = repo_with_config(tmp_path, "../../gpt2.json")
    proc = run_cli("check", cfg, "--allow-outside-paths", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    notices = json.loads(proc.stdout)["notices"]
    assert [n["code"] for n in notices] == ["outside-paths-allowed"]
    assert notices[0]["message"].startswith(f"model.hf_config reads {outside}, outside the repository root")

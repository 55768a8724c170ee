"""``check`` and ``report`` take directories, globs and ``-`` (stdin) besides files (issue 12, item 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_cli

POLICY = ("--policy", "eu-ai-act-systemic-risk")


def config(name: str, tokens: str, extra: str = "") -> str:
    """A config of a 100e9-parameter model trained on ``tokens`` (6ND: 6 x 100e9 x tokens)."""
    return (f"model:\n  name: {name}\n  parameters: 100e9\n{extra}training:\n  - name: p\n"
            f"    kind: pretraining\n    tokens: {tokens}\nas_of: 2026-11-27\n")


def tree(tmp_path: Path) -> Path:
    """configs/ with two configs (one nested), a YAML file that is not one, and a hidden folder."""
    root = tmp_path / "configs"
    (root / "team" / "deep").mkdir(parents=True)
    (root / ".cache").mkdir()
    # 6 x 100e9 x 30e12 = 1.8e25 > 1e25: ABOVE; 6 x 100e9 x 1e12 = 6e23 < 1e25: below
    (root / "big.yaml").write_text(config("big", "30e12"))
    (root / "team" / "deep" / "small.yml").write_text(config("small", "1e12"))
    (root / "team" / "workflow.yaml").write_text("on: push\njobs: {}\n")  # no top-level training:
    (root / ".cache" / "copy.yaml").write_text(config("hidden", "30e12"))
    (root / "notes.txt").write_text("training: not yaml by name\n")
    return root


def files_of(stdout: str) -> list[str]:
    """The config file names of a ``--format json`` output of several configs (a list), in order."""
    return [Path(r["config"]).name for r in json.loads(stdout)]


def test_a_directory_stands_for_every_config_under_it_sorted(tmp_path: Path) -> None:
    root = tree(tmp_path)
    proc = run_cli("check", str(root), *POLICY, "--format", "json", cwd=tmp_path)
    # big.yaml (ABOVE) and team/deep/small.yml (below), in sorted path order; the workflow file,
    # the hidden folder and the .txt file are not configs: worst exit code 1
    assert proc.returncode == 1, proc.stderr
    assert files_of(proc.stdout) == ["big.yaml", "small.yml"]


def test_a_glob_the_shell_left_alone_is_expanded_sorted(tmp_path: Path) -> None:
    root = tree(tmp_path)
    proc = run_cli("check", "configs/**/*.yml", "configs/*.yaml", "./configs/big.yaml", *POLICY,
                   "--format", "json", cwd=tmp_path)
    # the ** pattern finds team/deep/small.yml only; configs/*.yaml finds big.yaml, which
    # ./configs/big.yaml names again (checked once): in argument order
    assert proc.returncode == 1, proc.stderr
    assert files_of(proc.stdout) == ["small.yml", "big.yaml"]
    assert root.is_dir()


def test_a_directory_or_glob_without_configs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run_cli("check", "empty", cwd=tmp_path)
    assert proc.returncode == 2 and "empty: no flopaudit config" in proc.stderr
    proc = run_cli("check", "nothing/*.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "nothing/*.yaml: no file matches this pattern" in proc.stderr


def stdin(text: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "FLOPAUDIT_DEBUG")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "flopaudit", *args], input=text, cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


def test_dash_reads_a_config_from_stdin(tmp_path: Path) -> None:
    proc = stdin(config("piped", "30e12"), "check", "-", *POLICY, "--format", "json", cwd=tmp_path)
    # 1.8e25 > 1e25: exit 1; the config's location is <stdin>
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["config"] == "<stdin>" and result["model"]["name"] == "piped"
    # the report's digest of the config is of the bytes read, not of the name <stdin>
    import hashlib
    proc = stdin(config("piped", "30e12"), "report", "-", *POLICY, "-o", "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "r.html").read_text()
    assert hashlib.sha256(config("piped", "30e12").encode()).hexdigest() in page
    assert hashlib.sha256(b"<stdin>").hexdigest() not in page


def test_stdin_errors_name_it_and_its_paths_are_the_working_directorys(tmp_path: Path) -> None:
    proc = stdin(config("bad", "30e12x"), "check", "-", cwd=tmp_path)
    # config() writes "    tokens: ..." as line 7 (model, name, parameters, training, - name, kind, tokens), column 5
    assert proc.returncode == 2 and proc.stderr.startswith("flopaudit: error: <stdin>:7:5: ")
    # inside a repository, ../outside.json from its root is outside it: the root is the cwd's repository
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (tmp_path / "outside.json").write_text("{}")
    text = config("paths", "1e12", extra="  hf_config: ../outside.json\n")
    proc = stdin(text, "check", "-", *POLICY, cwd=repo)
    assert proc.returncode == 2
    assert f"resolves to {(tmp_path / 'outside.json').resolve()}, outside the repository root {repo.resolve()}" \
        in proc.stderr
    # stdin holds one config: '-' twice is refused
    proc = stdin(config("twice", "1e12"), "check", "-", "-", cwd=tmp_path)
    assert proc.returncode == 2 and "'-' (stdin) given twice" in proc.stderr
    # a framework flag is refused: stdin holds a flopaudit config
    proc = stdin(config("f", "1e12"), "check", "-", "--devices", "8", cwd=tmp_path)
    assert proc.returncode == 2 and "<stdin>: --devices is for a training framework's file" in proc.stderr


def test_check_report_says_where_it_wrote_on_stderr(tmp_path: Path) -> None:
    root = tree(tmp_path)
    out = tmp_path / "r.html"
    proc = run_cli("check", str(root), *POLICY, "--format", "json", "--report", str(out), cwd=tmp_path)
    assert proc.returncode == 1 and out.is_file()
    assert proc.stderr == f"Report for 2 configs written to {out}\n"
    json.loads(proc.stdout)  # stdout holds the JSON alone


def test_report_takes_a_directory(tmp_path: Path) -> None:
    root = tree(tmp_path)
    out = tmp_path / "r.html"
    proc = run_cli("report", str(root), *POLICY, "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Report for 2 configs written to" in proc.stdout


def test_a_directory_walk_follows_no_linked_folder_and_no_link_out_of_the_repository(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (tmp_path / ".git").mkdir()  # tmp_path is the repository root
    (root / "loop").symlink_to(root, target_is_directory=True)  # a loop: never entered
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text(config("outside", "30e12"))
    (root / "link-out.yaml").symlink_to(outside)  # resolves outside the repository: skipped
    (root / "link-in.yaml").symlink_to(root / "big.yaml")  # inside: counted like any file
    proc = run_cli("check", str(root), *POLICY, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    # sorted paths: big.yaml, link-in.yaml, team/deep/small.yml
    assert files_of(proc.stdout) == ["big.yaml", "link-in.yaml", "small.yml"]
    outside.unlink()

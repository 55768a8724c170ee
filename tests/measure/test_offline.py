"""Issue 7, item 2: no transformers or huggingface_hub call reaches the network.

A config.json naming a pretrained backbone on the Hub (``"backbone": "microsoft/resnet-50"``) made
transformers resolve the repository while the config was loaded, outside the offline guard. Now
it is an input error, and no socket is opened, whatever the command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flopaudit.measure.offline import hub_offline
from tests.conftest import ROOT

BACKBONE = {"model_type": "detr", "use_pretrained_backbone": True, "backbone": "microsoft/resnet-50",
            "use_timm_backbone": False}

# Run flopaudit's CLI with every DNS lookup and connect recorded and refused.
NO_NETWORK = textwrap.dedent("""
    import socket, sys
    attempts = []
    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network use refused by the test")
    socket.getaddrinfo = refuse
    socket.socket.connect = lambda self, address: refuse(address)
    socket.socket.connect_ex = lambda self, address: refuse(address)
    from flopaudit.cli.app import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    print("ATTEMPTS", len(attempts), *attempts, file=sys.stderr)
    sys.exit(code)
""")

MESSAGE = "it needs files from the Hugging Face Hub (for example a pretrained backbone), and flopaudit never downloads"


def backbone_files(tmp_path: Path) -> tuple[Path, Path]:
    hf = tmp_path / "config.json"
    hf.write_text(json.dumps(BACKBONE))
    config = tmp_path / "detr.yaml"
    config.write_text("""
model:
  name: DETR with a hub backbone
  hf_config: config.json
training:
  - {name: pretraining, kind: pretraining, tokens: 1B, sequence_length: 64}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
""")
    return hf, config


def run_without_network(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NO_NETWORK, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


def test_item2_hub_backbone_opens_no_socket(tmp_path: Path) -> None:
    hf, config = backbone_files(tmp_path)
    for args in (["profile", "--hf-config", str(hf), "--seq-len", "64"], ["profile", "--hf-config", str(hf)],
                 ["check", str(config)]):
        done = run_without_network(*args)
        assert "ATTEMPTS 0" in done.stderr, (args, done.stderr)
        assert done.returncode == 2, done.stderr
        assert MESSAGE in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_item2_hub_backbone_without_a_network_namespace(tmp_path: Path) -> None:
    # With no network at all, a lookup would fail with a connection error instead of this message.
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("unprivileged network namespaces are not available here")
    hf, _ = backbone_files(tmp_path)
    done = subprocess.run(["unshare", "-rn", sys.executable, "-m", "flopaudit", "profile", "--hf-config", str(hf)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"flopaudit: error: {hf}: transformers rejected the config: {MESSAGE} anything " \
                          "(count a config that names no hub repository, or use --factory)\n"


def test_item2_offline_guard_covers_the_first_import_and_restores_after() -> None:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import os, sys
        from flopaudit.measure.offline import hub_offline
        with hub_offline():
            import huggingface_hub.constants as c
            inside = (c.HF_HUB_OFFLINE, c.is_offline_mode(), os.environ["HF_HUB_OFFLINE"])
        print(inside, c.HF_HUB_OFFLINE, "HF_HUB_OFFLINE" in os.environ)
    """)], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if "OFFLINE" not in k})
    # imported inside the guard: offline there; outside, back to what the environment says
    assert done.stdout.split("\n")[0] == "(True, True, '1') False False", done.stderr


def test_item2_offline_guard_patches_a_loaded_hub_and_puts_it_back() -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    before = constants.HF_HUB_OFFLINE
    with hub_offline():
        assert constants.HF_HUB_OFFLINE is True and constants.is_offline_mode()
    assert constants.HF_HUB_OFFLINE is before

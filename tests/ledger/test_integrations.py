"""The Hugging Face Trainer callback on a real (tiny) GPT-2 run, and the Lightning callback's import safety.

The Trainer's per-step FLOP are checked against :func:`flopaudit.measure.profile` of the same
model and micro-batch (forward + backward) times the micro-batches of one optimizer step: the
counter is the same, so the totals agree exactly.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from flopaudit.ledger import read_ledger

DATA = Path(__file__).parent / "data"


def _tiny_gpt2() -> tuple[object, list[dict[str, list[int]]]]:
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config.from_json_file(str(DATA / "tiny-gpt2.json"))
    model = transformers.GPT2LMHeadModel(config)
    gen = torch.Generator().manual_seed(1)
    rows = [{"input_ids": ids, "labels": ids} for ids in torch.randint(0, 96, (8, 16), generator=gen).tolist()]
    return model, rows


def _per_micro_batch(model: object) -> int:
    from flopaudit.measure import ModelSource, profile

    micro = profile(ModelSource(module=model), seq_len=16, batch=2, device="cpu", by_module_depth=0)
    return micro.forward_flop + micro.backward_flop


def _check(ledger: Path, per_micro_batch: int) -> None:
    summary = read_ledger(ledger)
    assert summary.steps == 2 and summary.ranks == 1
    assert summary.projection is not None and summary.projection.planned_steps == 2  # max_steps
    steps = [r for r in map(json.loads, ledger.read_text().splitlines()) if r["type"] == "step"]
    # one optimizer step = 2 accumulated micro-batches of 2 x 16 tokens
    assert [r["flop"] for r in steps] == [2 * per_micro_batch] * 2
    assert summary.total_flop == 4 * per_micro_batch


def test_hf_callback_through_transformers_callback_handler(tmp_path: Path) -> None:
    """The callback driven by transformers' own CallbackHandler in the Trainer's event order
    (runs where accelerate, which the Trainer itself needs, is not installed)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from transformers.trainer_callback import CallbackHandler, TrainerControl, TrainerState

    from flopaudit.ledger.hf import LedgerCallback

    model, rows = _tiny_gpt2()
    optimizer = torch.optim.AdamW(model.parameters())
    ledger = tmp_path / "run.jsonl"
    handler = CallbackHandler([LedgerCallback(ledger, reuse=False)], model, None, optimizer, None)
    state, control = TrainerState(max_steps=2), TrainerControl()
    handler.on_train_begin(None, state, control)
    batches = iter(rows)
    for _ in range(2):
        handler.on_step_begin(None, state, control)
        for micro in range(2):  # gradient accumulation, as Trainer's inner loop
            pair = [next(batches), next(batches)]
            ids = torch.tensor([row["input_ids"] for row in pair])
            model(input_ids=ids, labels=ids).loss.backward()
            if micro == 0:
                handler.on_substep_end(None, state, control)
        handler.on_pre_optimizer_step(None, state, control)
        optimizer.step()
        handler.on_optimizer_step(None, state, control)
        model.zero_grad()
        state.global_step += 1
        handler.on_step_end(None, state, control)
        model(input_ids=torch.zeros(1, 4, dtype=torch.long))  # logging/evaluation between steps: not counted
    handler.on_train_end(None, state, control)
    _check(ledger, _per_micro_batch(model))


def test_hf_trainer_callback_records_each_optimizer_step(tmp_path: Path) -> None:
    pytest.importorskip("accelerate")  # the Trainer itself needs it
    transformers = pytest.importorskip("transformers")
    from flopaudit.ledger.hf import LedgerCallback

    model, rows = _tiny_gpt2()
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=2,
        gradient_accumulation_steps=2, report_to=[], save_strategy="no", use_cpu=True,
        logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0)
    ledger = tmp_path / "run.jsonl"
    trainer = transformers.Trainer(model=model, args=args, train_dataset=rows,
                                   callbacks=[LedgerCallback(ledger, reuse=False)])
    trainer.train()
    _check(ledger, _per_micro_batch(model))


def test_lightning_callback_is_import_safe() -> None:
    if importlib.util.find_spec("lightning") or importlib.util.find_spec("pytorch_lightning"):
        pytest.skip("Lightning is installed: covered by test_lightning_callback_records_steps")
    from flopaudit.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match="needs the optional package 'lightning'"):
        importlib.import_module("flopaudit.ledger.lightning")


def test_lightning_callback_records_steps(tmp_path: Path) -> None:
    lightning = pytest.importorskip("lightning")
    torch = pytest.importorskip("torch")
    from flopaudit.ledger.lightning import LedgerCallback

    class Module(lightning.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(8, 4)

        def forward(self, x: object) -> object:
            return self.layer(x)

        def training_step(self, batch: object, batch_idx: int) -> object:
            return self(batch).pow(2).mean()

        def configure_optimizers(self) -> object:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.DataLoader(torch.randn(6, 8), batch_size=2)
    ledger = tmp_path / "run.jsonl"
    trainer = lightning.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, callbacks=[LedgerCallback(ledger, reuse=False)])
    trainer.fit(Module(), data)
    # Linear(8, 4) on 2 rows, input needs no gradient: forward 2*2*8*4 = 128, weight gradient 128
    assert [r["flop"] for r in map(json.loads, ledger.read_text().splitlines()) if r["type"] == "step"] == [256] * 3

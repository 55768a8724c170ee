"""A small language model trained on CPU with DistributedDataParallel (gloo), its compute in a ledger.

Run it with torchrun (any number of processes)::

    torchrun --nproc_per_node=2 examples/train_ddp.py --steps 10 --ledger run.jsonl
    torchrun --nproc_per_node=2 examples/train_ddp.py --steps 15 --ledger run.jsonl --resume
    flopaudit ledger show run.jsonl

Each optimizer step is counted by flopaudit on every rank, summed over the ranks and appended to
the ledger by rank 0. ``--resume`` continues from the checkpoint (``LEDGER.ckpt``, written by
rank 0 after each step) and the same ledger, up to ``--steps`` steps in all. ``build_model`` is
also a ``flopaudit profile --factory`` (run from this directory)::

    flopaudit profile --factory train_ddp:build_model --seq-len 16 --batch 4 --device cpu
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import flopaudit

VOCAB, DIM, HIDDEN = 64, 32, 64
BATCH, SEQ_LEN = 4, 16  # per rank


class TinyLM(nn.Module):
    """Token ids [batch, seq] -> next-token logits [batch, seq, vocab]: embedding, an MLP, a head."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.up = nn.Linear(DIM, HIDDEN)
        self.down = nn.Linear(HIDDEN, DIM)
        self.head = nn.Linear(DIM, VOCAB)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        hidden = self.embed(ids)
        hidden = hidden + self.down(torch.relu(self.up(hidden)))
        return self.head(hidden)


def build_model() -> nn.Module:
    """The model, with fixed initial weights (a ``flopaudit profile --factory``)."""
    torch.manual_seed(0)
    return TinyLM()


def batch(step: int, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The token ids and next-token targets of one rank's micro-batch at ``step`` (deterministic)."""
    gen = torch.Generator().manual_seed(step * 1009 + rank)
    ids = torch.randint(0, VOCAB, (BATCH, SEQ_LEN + 1), generator=gen)
    return ids[:, :-1], ids[:, 1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, required=True, help="train until this many steps in all")
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--resume", action="store_true", help="continue from LEDGER.ckpt and the ledger")
    parser.add_argument("--planned-steps", type=int, help="steps the run plans (default --steps)")
    parser.add_argument("--policy", action="append", default=[], help="policy id or file for the tripwire")
    parser.add_argument("--fraction", type=float, default=1.0, help="warn at this fraction of a threshold")
    parser.add_argument("--no-reuse", action="store_true", help="count every step (no reuse)")
    parser.add_argument("--step-delay", type=float, default=0.0, help="seconds to sleep per step")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    model = DistributedDataParallel(build_model())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    checkpoint = args.ledger.with_name(args.ledger.name + ".ckpt")
    done = 0
    if args.resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        done = int(state["step"])

    with flopaudit.track(model, ledger=args.ledger, planned_steps=args.planned_steps or args.steps,
                         policies=args.policy, fraction=args.fraction, reuse=not args.no_reuse,
                         resume=args.resume, start_step=done if args.resume else None) as ledger:
        for step in range(done + 1, args.steps + 1):
            ids, targets = batch(step, rank)
            logits = model(ids)
            loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            ledger.step()
            if rank == 0:  # the checkpoint follows the ledger: it never claims a step the ledger lacks
                tmp = checkpoint.with_name(checkpoint.name + ".tmp")
                torch.save({"model": model.module.state_dict(), "optimizer": optimizer.state_dict(),
                            "step": step}, tmp)
                os.replace(tmp, checkpoint)
            if args.step_delay:
                time.sleep(args.step_delay)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

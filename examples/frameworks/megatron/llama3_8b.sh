#!/bin/bash
# Llama 3 8B pre-training with Megatron-LM (pretrain_gpt.py), in the style of Megatron's examples.
# Everything flopaudit needs is in this file: `flopaudit check examples/frameworks/megatron/llama3_8b.sh`
# needs no --devices (the global batch is given) and no --vocab (--vocab-size is given).
set -euo pipefail

GPUS_PER_NODE=8
NUM_NODES=${NUM_NODES:-64}
CHECKPOINT_PATH=${CHECKPOINT_PATH:-/checkpoints/llama3_8b}

DISTRIBUTED_ARGS=(
    --nproc_per_node $GPUS_PER_NODE
    --nnodes $NUM_NODES
)

GPT_MODEL_ARGS=(
    --num-layers 32
    --hidden-size 4096
    --ffn-hidden-size 14336
    --num-attention-heads 32
    --group-query-attention
    --num-query-groups 8
    --swiglu
    --seq-length 8192
    --max-position-embeddings 8192
    --position-embedding-type rope
    --normalization RMSNorm
    --disable-bias-linear
    --untie-embeddings-and-output-weights
    --vocab-size 128256
)

TRAINING_ARGS=(
    --micro-batch-size 1
    --global-batch-size ${GBS:-512}     # sequences per step
    --train-iters 100000
    --lr 3.0e-4
    --bf16
)

MODEL_PARALLEL_ARGS=(
    --tensor-model-parallel-size 1
    --pipeline-model-parallel-size 1
)

torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py \
    "${GPT_MODEL_ARGS[@]}" \
    "${TRAINING_ARGS[@]}" \
    "${MODEL_PARALLEL_ARGS[@]}" \
    --save "$CHECKPOINT_PATH" \
    --load "$CHECKPOINT_PATH"

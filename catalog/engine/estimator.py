"""LLM workload estimator: device memory per GPU (what nvidia-smi shows), system RAM, and speed.

Pure Python, no Django. The memory model follows what PyTorch + transformers + peft + bitsandbytes
really allocate, mechanism by mechanism (see docs/estimator.md for the derivations and the error
table against real H100 runs in ../shared/calibration/):

* device used = CUDA context + caching-allocator reserved peak; reserved = allocated peak + what the
  allocator holds but cannot reuse (the largest transient block + a small share of the working set,
  and for generation with transformers' dynamic KV cache the second copy of the cache that
  ``torch.cat`` builds while the prompt's exact-size blocks cannot be reused).
* the allocated peak is the largest of a few phases (prefill / decode, forward+backward / optimizer
  step), each the sum of the live tensors in that phase: weights by precision (bitsandbytes layouts),
  KV cache with the real kv-head count, activations saved for backward per layer, the fp32 logits
  chain of the loss, gradients, AdamW states and the foreach AdamW temporary.

Units: bytes internally, GiB (2**30) at the API.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InputError

GIB = 2**30

# Measured on H100 80GB, driver 580 / CUDA 13 / PyTorch 2.11: nvidia-smi used minus
# torch.cuda.max_memory_reserved was 0.6807 GiB in every calibration row (../shared/calibration/README.md).
CUDA_CONTEXT_GIB = 0.68

METHODS = ("inference", "full", "lora", "qlora")
# GGUF (llama.cpp) quant types by name, plus the short aliases q4/q5/q8 (= Q4_K_M, Q5_K_M, Q8_0).
GGUF_TYPES = ("Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16")
GGUF_ALIASES = {"q4": "Q4_K_M", "q5": "Q5_K_M", "q8": "Q8_0"}
GGUF = ("q4", "q5", "q8", *GGUF_TYPES)
PRECISIONS = ("bf16", "fp16", "int8", "nf4", "int4", "q4", "q5", "q8", "amp", *GGUF_TYPES)
PARALLEL = ("tensor", "pipeline", "zero3", "ddp", "fsdp")
# llama.cpp's own names for its two multi-GPU modes (--split-mode layer | row)
PARALLEL_ALIASES = {"layer": "pipeline", "row": "tensor"}
OFFLOAD = ("none", "optimizer", "optimizer_and_params", "params")

# Runtimes: what actually runs the model, which decides memory, fit and speed.
INFERENCE_RUNTIMES = ("llama.cpp", "vllm", "transformers")
TRAINING_RUNTIMES = ("hf", "fsdp_qlora")
RUNTIMES = INFERENCE_RUNTIMES + TRAINING_RUNTIMES
RUNTIME_PRECISIONS = {
    "llama.cpp": GGUF + ("bf16", "fp16"),  # bf16/fp16 under llama.cpp = an F16 GGUF
    # vLLM: 16-bit checkpoints, 8-bit (FP8/INT8 W8A16) and 4-bit (AWQ/GPTQ, or bitsandbytes nf4) weights
    "vllm": ("bf16", "fp16", "int8", "int4", "nf4"),
    "transformers": ("bf16", "fp16", "int8", "nf4", "int4"),
}
VLLM_GPU_MEMORY_UTILIZATION = 0.9  # vLLM's default gpu_memory_utilization (vllm/config.py CacheConfig)

# llama.cpp GGUF types: bits per weight of the repeating layers, the token embedding and the output
# tensor. Q4_K_M / Q5_K_M keep the output in Q6_K and the embedding in Q4_K / Q5_K (K-quant mixes,
# src/llama-quant.cpp); the layer figure is what makes the whole-model sizes of the quantize README come
# out: Llama-3.1-8B Q4_K_M 4.8944 bpw (4.58 GiB), Q5_K_M 5.7036, Q6_K 6.5633, Q8_0 8.5008, F16 16.0005
# (https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/README.md), and they reproduce the 70B
# sizes measured independently (Q4_K_M 39.59 GiB, Q5_K_M 46.52, Q6_K 53.91, Q8_0 69.83, F16 131.43 GiB:
# https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference, dranger003's table) within 0.1 %.
GGUF_BPW = {  # (layers, token embedding, output)
    "Q4_0": (4.5, 4.5, 6.5625),  # 32 x 4 bits + one fp16 scale per block; output promoted to Q6_K
    "Q4_K_M": (4.798, 4.5, 6.5625),
    "Q5_K_M": (5.654, 5.5, 6.5625),
    "Q6_K": (6.5625, 6.5625, 6.5625),
    "Q8_0": (8.5, 8.5, 8.5),
    "F16": (16.0, 16.0, 16.0),
}
# Whole-model bits per weight (Llama-3.1-8B, the README table), kept for reference and the tests.
GGUF_BITS_PER_WEIGHT = {
    "q4": 4.89,
    "q5": 5.70,
    "q8": 8.50,
    "Q4_K_M": 4.89,
    "Q5_K_M": 5.70,
    "Q6_K": 6.56,
    "Q8_0": 8.50,
    "F16": 16.0,
}


def gguf_type(precision: str) -> str:
    """The GGUF type a precision stands for (q4 -> Q4_K_M; bf16/fp16 -> F16)."""
    if precision in GGUF_TYPES:
        return precision
    if precision in GGUF_ALIASES:
        return GGUF_ALIASES[precision]
    if precision in ("bf16", "fp16"):
        return "F16"
    raise ValueError(precision)


def default_runtime(method: str, precision: str) -> str:
    """What most people run for this method and precision.

    GGUF quants -> llama.cpp (the only runtime that reads them); bitsandbytes int8/nf4/int4 and 16-bit
    weights -> transformers (the stack the memory model is measured on; choose vllm for serving);
    training -> hf (Trainer + peft); fsdp_qlora is chosen explicitly."""
    if method != "inference":
        return "hf"
    if precision in GGUF:
        return "llama.cpp"
    return "transformers"


# bitsandbytes NF4/FP4 (Linear4bit): 4-bit codes packed two per uint8 + one fp32 absmax per block of 64
# (transformers' BitsAndBytesConfig: bnb_4bit_use_double_quant=False by default, so absmax stays fp32).
# source: https://huggingface.co/docs/bitsandbytes/main/reference/nn/linear4bit (blocksize 64)
NF4_BYTES_PER_PARAM = 0.5 + 4 / 64
# transformers v5 stores MoE experts as fused 3-D nn.Parameters; bitsandbytes converts nn.Linear only, so
# with load_in_4bit / load_in_8bit the experts stay bf16 (bitsandbytes issue #1849, open; an Experts4bit
# module is proposed in PR #1965). https://github.com/bitsandbytes-foundation/bitsandbytes/issues/1849
BNB_QUANTIZES_FUSED_EXPERTS = False
# LLM.int8 (Linear8bitLt): int8 weight + one fp32 scale (SCB) per output row; outlier columns are
# computed in 16-bit at run time from the activations, not stored.
# source: https://huggingface.co/docs/bitsandbytes/main/reference/nn/linear8bit
INT8_BYTES_PER_PARAM = 1.0

# Allocator: share of the dynamic working set held as unusable cached space (segment rounding to
# 2 MiB / 20 MiB, split blocks). PyTorch CUDA caching allocator notes:
# https://pytorch.org/docs/stable/notes/cuda.html#memory-management
ALLOCATOR_WORKING_SET_SHARE = 0.05

# DeepSpeed ZeRO-3 model-state estimate (estimate_zero3_model_states_mem_needs, zero_init=True):
# https://deepspeed.readthedocs.io/en/latest/memory.html
DEEPSPEED_BUFFER_FACTOR = 1.5

# Model FLOPs utilisation for prefill and training (range); 6*N*tokens training FLOPs (Kaplan et al.
# 2020, https://arxiv.org/abs/2001.08361), 8*N with activation recomputation.
MFU_RANGE = (0.30, 0.50)


class EstimateRequestError(InputError):
    """Invalid estimate input; ``field`` names the offending field (the project's one InputError)."""


# ---------------------------------------------------------------------------------------------------------
# Architecture
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ModelArch:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    intermediate: int  # dense MLP size; for MoE the size of ONE expert
    vocab: int
    tied_embeddings: bool = False
    experts: int = 0  # 0 = dense
    experts_per_token: int = 0
    shared_experts: int = 0  # always-on experts of the same size (DeepSeek, Qwen2-MoE style)
    head_dim: int | None = None  # when not hidden // heads
    params: int | None = None  # published total; wins over the count from the shape
    active_params: int | None = None  # published active (MoE); wins over the count from the shape
    mla_kv_dim: int | None = None  # DeepSeek MLA: cached latent per token per layer (kv_lora_rank + rope dim)
    name: str = ""
    slug: str = ""

    @property
    def hd(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def q_dim(self) -> int:
        return self.heads * self.hd

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.hd

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def embed_params(self) -> int:
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def norm_params(self) -> int:
        return (2 * self.layers + 1) * self.hidden

    @property
    def attn_params_per_layer(self) -> int:
        return 2 * self.hidden * self.q_dim + 2 * self.hidden * self.kv_dim

    @property
    def expert_params(self) -> int:
        return 3 * self.hidden * self.intermediate

    @property
    def mlp_params_per_layer(self) -> int:
        if self.is_moe:
            return (self.experts + self.shared_experts) * self.expert_params + self.hidden * self.experts
        return self.expert_params

    @property
    def shape_params(self) -> int:
        return self.layers * (self.attn_params_per_layer + self.mlp_params_per_layer) + self.embed_params

    @property
    def total_params(self) -> int:
        return self.params or (self.shape_params + self.norm_params)

    @property
    def linear_params(self) -> int:
        """Parameters in Linear layers (what bitsandbytes quantizes): all but embeddings, lm_head, norms."""
        return max(self.total_params - self.embed_params - self.norm_params, 0)

    @property
    def total_active_params(self) -> int:
        if self.active_params:
            return self.active_params
        if not self.is_moe:
            return self.total_params
        idle = (self.experts - self.experts_per_token) * self.expert_params * self.layers
        return max(self.total_params - idle, 0)

    @property
    def largest_module_params(self) -> int:
        """Largest single module (DeepSpeed's largest_layer_params): embedding or the widest Linear."""
        return max(self.vocab * self.hidden, self.hidden * self.intermediate, self.hidden * self.q_dim)

    def kv_bytes_per_token(self, bytes_per_elem: float = 2.0) -> float:
        if self.mla_kv_dim:
            return self.layers * self.mla_kv_dim * bytes_per_elem
        return 2 * self.layers * self.kv_dim * bytes_per_elem


# ---------------------------------------------------------------------------------------------------------
# Request / result
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EstimateRequest:
    method: str = "inference"
    precision: str = "bf16"
    batch: int = 1
    seq_len: int = 4096
    new_tokens: int = 0
    gradient_checkpointing: bool = True
    lora_rank: int = 16
    gpus: int = 1
    parallel: str | None = None  # inference: tensor | pipeline (llama.cpp: pipeline = layer split, the
    # default; tensor = row split); training: zero3 (default) | ddp; fsdp_qlora: fsdp (full shard) | ddp
    offload: str = "none"  # hf + zero3: none | optimizer | optimizer_and_params; fsdp_qlora: none | params
    runtime: str | None = None  # None: default_runtime(method, precision)
    gpu_memory_utilization: float = VLLM_GPU_MEMORY_UTILIZATION  # vllm only

    @property
    def resolved_runtime(self) -> str:
        return self.runtime or default_runtime(self.method, self.precision)


@dataclass(frozen=True)
class SpeedRange:
    low: float
    expected: float
    high: float
    unit: str
    assumption: str

    def as_dict(self) -> dict[str, Any]:
        # The high end rounds down so that rounding never lifts it over the bandwidth bound it was capped at
        # (1.4388 shown as 1.44 broke "no range exceeds the bound"); low <= expected <= high stays true.
        high = math.floor(self.high * 100 + 1e-9) / 100 if math.isfinite(self.high) else self.high
        expected = min(round(self.expected, 2), high)
        return {
            "low": min(round(self.low, 2), expected),
            "expected": expected,
            "high": high,
            "unit": self.unit,
            "assumption": self.assumption,
        }


@dataclass(frozen=True)
class Estimate:
    device_gib: float  # per GPU, as nvidia-smi shows it
    breakdown_gib: dict[str, float]  # per GPU, sums to device_gib
    ram_gib: float  # system RAM for offloaded state (0 when nothing is offloaded)
    gpus: int
    params_total: int
    params_active: int
    trainable_params: int
    peak_phase: str
    kv_cache_gib: float = (
        0.0  # KV cache per GPU at the end of generation (the breakdown shows the peak phase)
    )
    fits: bool | None = None
    gpu_vram_gib: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    runtime: str = "transformers"
    parallel: str | None = None  # resolved: tensor | pipeline (inference), zero3 | ddp | fsdp (training)
    kv_pool_gib: float | None = None  # vllm: KV cache pool per GPU left inside gpu_memory_utilization
    max_concurrent_sequences: int | None = None  # vllm: sequences of seq_len + new_tokens the pool holds
    # DeepSpeed offload: the offloaded state itself, without the estimator's 1.5x safety buffer that ram_gib
    # includes: the least system RAM the job can run in (a dual-4090 rig with 96 GiB ran Code Llama 34B
    # LoRA with ZeRO-3 offload, seed 000, where the buffered figure says 97). None: no such buffer.
    ram_floor_gib: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "parallel": self.parallel,
            "kv_pool_gib": None if self.kv_pool_gib is None else round(self.kv_pool_gib, 3),
            "max_concurrent_sequences": self.max_concurrent_sequences,
            "device_gib": round(self.device_gib, 3),
            "breakdown_gib": {k: round(v, 3) for k, v in self.breakdown_gib.items()},
            "ram_gib": round(self.ram_gib, 3),
            "ram_floor_gib": None if self.ram_floor_gib is None else round(self.ram_floor_gib, 3),
            "gpus": self.gpus,
            "params_total": self.params_total,
            "params_active": self.params_active,
            "trainable_params": self.trainable_params,
            "peak_phase": self.peak_phase,
            "kv_cache_gib": round(self.kv_cache_gib, 3),
            "fits": self.fits,
            "gpu_vram_gib": self.gpu_vram_gib,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------------------
def _linear_out_rows_per_layer(arch: ModelArch) -> int:
    mlp_rows = 2 * arch.intermediate + arch.hidden
    if arch.is_moe:
        mlp_rows *= arch.experts + arch.shared_experts
    return arch.q_dim + 2 * arch.kv_dim + arch.hidden + mlp_rows


def weight_bytes(arch: ModelArch, precision: str) -> float:
    """Bytes of the loaded weights (one full copy, before any split across GPUs)."""
    p = arch.total_params
    if precision in ("bf16", "fp16"):
        return 2.0 * p
    if precision == "amp":
        return 4.0 * p
    non_linear = 2.0 * (arch.embed_params + arch.norm_params)  # embeddings, lm_head, norms stay 16-bit
    linear = arch.linear_params
    if precision in ("int8", "nf4", "int4") and arch.is_moe and not BNB_QUANTIZES_FUSED_EXPERTS:
        fused = arch.experts * arch.expert_params * arch.layers
        fused = min(fused, linear)
        non_linear += 2.0 * fused
        linear -= fused
    if precision == "int8":
        rows = _linear_out_rows_per_layer(arch)
        if arch.is_moe and not BNB_QUANTIZES_FUSED_EXPERTS:
            rows -= arch.experts * (2 * arch.intermediate + arch.hidden)
        return INT8_BYTES_PER_PARAM * linear + 4.0 * rows * arch.layers + non_linear
    if precision in ("nf4", "int4"):
        return NF4_BYTES_PER_PARAM * linear + non_linear
    if precision in GGUF:
        return sum(gguf_tensor_bytes(arch, precision))
    raise ValueError(precision)


def gguf_tensor_bytes(arch: ModelArch, precision: str, active: bool = False) -> tuple[float, float, float]:
    """(repeating layers, token embedding, output) bytes of a GGUF file; ``active`` counts the experts one
    token uses (what a decode step reads) instead of all of them."""
    layers_bpw, embed_bpw, out_bpw = GGUF_BPW[gguf_type(precision)]
    vh = arch.vocab * arch.hidden
    total = arch.total_active_params if active else arch.total_params
    layers = max(total - arch.embed_params, 0)
    return layers * layers_bpw / 8, vh * embed_bpw / 8, vh * out_bpw / 8


def streamed_bytes_per_token(arch: ModelArch, precision: str) -> float:
    """Weight bytes a decode step reads: the active Linear weights + the lm_head (embedding = row lookup)."""
    sixteen_bit = 2.0 * (arch.embed_params + arch.norm_params)
    if precision in GGUF:
        layers, _, output = gguf_tensor_bytes(arch, precision, active=True)
        return layers + output  # the embedding is a row lookup
    if precision in ("bf16", "fp16", "amp"):
        per_linear = head = 4.0 if precision == "amp" else 2.0
    else:
        per_linear = (weight_bytes(arch, precision) - sixteen_bit) / max(arch.linear_params, 1)
        head = 2.0
    active_linear = max(arch.total_active_params - arch.embed_params - arch.norm_params, 0)
    return active_linear * per_linear + head * arch.vocab * arch.hidden


# ---------------------------------------------------------------------------------------------------------
# Trainable parameters
# ---------------------------------------------------------------------------------------------------------
def lora_params(arch: ModelArch, rank: int) -> int:
    """peft LoRA on q,k,v,o,gate,up,down: r x (in + out) per adapted Linear."""
    h, i = arch.hidden, arch.intermediate
    attn = rank * ((h + arch.q_dim) * 2 + (h + arch.kv_dim) * 2)
    # transformers v5 stores MoE experts as fused 3-D parameters that peft's Linear targets do not match:
    # only attention and shared experts get adapters (bitsandbytes issue #1849 describes the same fusion).
    mlp = rank * 3 * (h + i) * (arch.shared_experts if arch.is_moe else 1)
    return arch.layers * (attn + mlp)


# ---------------------------------------------------------------------------------------------------------
# Activations (bytes per token per layer saved for backward)
# ---------------------------------------------------------------------------------------------------------
def _mlp_tokens_factor(arch: ModelArch) -> float:
    """Expert-MLP tokens per input token: experts_per_token (+ shared experts) for MoE, 1 for dense."""
    if arch.is_moe:
        return arch.experts_per_token + arch.shared_experts
    return 1.0


def _saved_per_token_layer(arch: ModelArch, method: str, precision: str) -> float:
    """Bytes autograd keeps per token per decoder layer (no checkpointing), Llama-style block.

    Derived from what each op saves for backward (PyTorch derivatives.yaml): transformers' RMSNorm
    upcasts its input to fp32 and saves it; peft casts a LoRA input to the fp32 adapter dtype and
    lora_A saves that copy; a frozen Linear saves nothing (the grad of its input needs only the weight);
    SiLU saves its input, the SwiGLU product both factors; sdpa (flash / efficient kernels) saves
    q, k, v, the output and a small logsumexp, never a seq x seq matrix.
    """
    h, q, kv, i = arch.hidden, arch.q_dim, arch.kv_dim, arch.intermediate
    sdpa = 2 * q + 2 * 2 * kv + 2 * q
    if method == "lora":
        attn = 4 * h + 3 * 4 * h + sdpa + 4 * q  # norm fp32 input; fp32 copies for LoRA q, k, v, o
        norm2 = 4 * h
        dense_body = 2 * 4 * h + 2 * i + 4 * i + 4 * i  # copies for LoRA gate, up; g, silu(g), up; down copy
        routed = 6 * i  # frozen fused experts (no LoRA there): gate_up output and silu(gate)
    elif method == "qlora":
        # prepare_model_for_kbit_training makes the residual stream fp32, bnb Linear4bit returns fp32,
        # and the fp32 LoRA input needs no copy (lora_A saves the shared input)
        attn = 4 * h + 4 * h + 2 * sdpa + 4 * q
        norm2 = 8 * h
        dense_body = 16 * i
        routed = 12 * i
    elif precision == "amp":
        # fp32 residual stream: norm saves its input and normalised output (fp32); autocast makes a bf16
        # copy of the input for each Linear call (q, k, v; gate, up) and casts rope's fp32 q, k for sdpa
        attn = 8 * h + 3 * 2 * h + sdpa + 2 * q
        norm2 = 8 * h
        dense_body = 2 * 2 * h + 8 * i
        routed = 8 * i + 2 * h
    else:
        # pure bf16: norm fp32 input + bf16 output (saved for the norm weight grad, shared by the Linears)
        attn = 6 * h + sdpa + 2 * q
        norm2 = 6 * h
        dense_body = 8 * i
        routed = 8 * i + 2 * h
    if not arch.is_moe:
        return attn + norm2 + dense_body
    router = 2 * arch.experts + 4 * arch.experts  # router logits bf16 + softmax fp32
    return attn + norm2 + arch.experts_per_token * routed + arch.shared_experts * dense_body + router


def _residual_bytes(method: str, precision: str) -> float:
    return 4.0 if (method == "qlora" or precision == "amp") else 2.0


def _logits_chain_bytes(arch: ModelArch, tokens: int) -> float:
    """Loss over the full vocabulary: transformers' ForCausalLMLoss upcasts logits to fp32
    (``logits.float()``) and cross_entropy keeps log_softmax; in backward the nll grad, the log_softmax
    grad and the saved log_softmax are live together: 3 x tokens x vocab x 4 bytes.
    source: transformers/loss/loss_utils.py ForCausalLMLoss."""
    return 3 * 4.0 * tokens * arch.vocab


# ---------------------------------------------------------------------------------------------------------
# The estimate
# ---------------------------------------------------------------------------------------------------------
def _phase(**parts: float) -> dict[str, float]:
    return {k: v for k, v in parts.items() if v}


def _inference(arch: ModelArch, req: EstimateRequest) -> tuple[list[tuple[str, dict]], float, float, list]:
    notes: list[str] = []
    g = req.gpus
    # transformers across GPUs: device_map="auto" places layers one after another (accelerate's big-model
    # inference), what most people run; tensor parallel (tp_plan) only when asked
    parallel = req.parallel or "pipeline"
    w_total = weight_bytes(arch, req.precision)
    b = req.batch
    kv_tok = arch.kv_bytes_per_token()
    prompt_tokens = b * req.seq_len
    final_tokens = b * (req.seq_len + req.new_tokens)
    if g > 1 and parallel == "tensor":
        weights = w_total / g
        # kv heads are split across GPUs; with fewer kv heads than GPUs they are replicated
        kv_share = 1.0 / min(g, max(arch.kv_heads, 1)) if not arch.mla_kv_dim else 1.0
        act_share = 1.0 / g
        notes.append(f"tensor parallel over {g} GPUs: weights and KV heads split, activations all-reduced")
    elif g > 1:
        per_stage = math.ceil(arch.layers / g) / arch.layers
        lin = w_total - 2.0 * arch.embed_params
        weights = lin * per_stage + 2.0 * arch.vocab * arch.hidden
        kv_share = per_stage
        act_share = 1.0
        notes.append(
            f"pipeline over {g} GPUs: {math.ceil(arch.layers / g)} layers per GPU, embeddings on the ends"
        )
    else:
        weights, kv_share, act_share = w_total, 1.0, 1.0
    kv_prompt = kv_tok * prompt_tokens * kv_share
    kv_final = kv_tok * final_tokens * kv_share
    t = prompt_tokens
    i_tok = arch.intermediate * _mlp_tokens_factor(arch)
    # prefill transients at the MLP of a layer: silu(gate), up and their product (3 x 2I), the layer
    # input, residual and normed input (3 x 2H), router logits in fp32 for MoE
    mlp = t * (3 * 2.0 * i_tok + 3 * 2.0 * arch.hidden + 4.0 * arch.experts) * act_share
    attn = t * (2 * 2.0 * arch.q_dim + 4 * 2.0 * arch.kv_dim + 3 * 2.0 * arch.hidden) * act_share
    norm = t * (2 * 4.0 + 2 * 2.0) * arch.hidden
    transient = max(mlp, attn, norm)
    largest_block = t * 2.0 * i_tok * act_share
    if req.precision in ("nf4", "int4"):
        # bitsandbytes dequantizes each 4-bit weight to bf16 for the prefill matmul
        transient += 2.0 * arch.hidden * arch.intermediate
    elif req.precision == "int8":
        # LLM.int8: int8 copy of the input, int32 accumulator, fp16 cast of input and output
        transient += t * (arch.hidden + 4.0 * i_tok + 2.0 * arch.hidden) * act_share
        largest_block = t * 4.0 * i_tok * act_share
    # generate() computes logits for the last position only (logits_to_keep=1), upcast to fp32
    logits = b * arch.vocab * (2.0 + 4.0 + 4.0)
    phases = [
        ("prefill", _phase(weights=weights, kv_cache=kv_prompt, activations=transient, logits=logits)),
    ]
    regrowth = 0.0
    if req.new_tokens > 0:
        layer_new = kv_final / arch.layers
        phases.append(
            ("decode", _phase(weights=weights, kv_cache=kv_final, activations=layer_new, logits=logits))
        )
        if req.precision not in GGUF:
            # transformers' DynamicCache grows by torch.cat: each step allocates a slightly larger
            # copy per layer, which cannot reuse the prompt-sized blocks; the allocator ends up holding
            # about a second copy of the cache beside the first (free prefill transients reused first).
            regrowth = weights + kv_prompt + max(kv_final, transient)
    return phases, largest_block, regrowth, notes, kv_final


def _training(arch: ModelArch, req: EstimateRequest):
    notes: list[str] = []
    g = req.gpus
    parallel = req.parallel or ("zero3" if g > 1 or req.offload != "none" else None)
    sharded = parallel == "zero3"  # ZeRO-3 also runs on one GPU (ZeRO-Offload / ZeRO-Infinity)
    p = arch.total_params
    t = req.batch * req.seq_len
    method, prec = req.method, req.precision
    ram = 0.0

    # --- activations -------------------------------------------------------------------------------
    per_layer_tok = _saved_per_token_layer(arch, method, prec)
    layer_acts = per_layer_tok * t
    if req.gradient_checkpointing:
        # HF checkpointing keeps each decoder layer's input; backward recomputes one layer at a time
        # and holds its activations plus about as much again in gradient temporaries.
        saved = arch.layers * t * arch.hidden * _residual_bytes(method, prec)
        acts_fwd = saved
        acts_recompute = saved + 2.0 * layer_acts
    else:
        acts_fwd = arch.layers * layer_acts
        acts_recompute = acts_fwd
    chain = _logits_chain_bytes(arch, t)
    final_norm = t * arch.hidden * (4.0 + 4.0)
    largest_block = 4.0 * t * arch.vocab

    phases: list[tuple[str, dict]] = []
    trainable = 0
    if method == "full":
        if prec == "amp":
            w_b, grad_b, state_b, cast_b = 4.0, 4.0, 8.0, 2.0  # fp32 master, grads, m+v; autocast bf16 copy
        else:
            w_b, grad_b, state_b, cast_b = 2.0, 2.0, 4.0, 0.0  # pure bf16: everything bf16
        trainable = p
        if sharded:
            # DeepSpeed ZeRO-3 per GPU: 18 B/param sharded (bf16 params 2 + grads 2 + fp32 master, m, v 12
            # + fp32 grad partition 2) plus the gathered largest layer (4 B/param); offload moves the
            # optimizer (and the parameters) to CPU RAM with the published 1.5 buffer factor.
            ds = zero3_model_states(p, arch.largest_module_params, g, req.offload)
            ram = ds["cpu_bytes"] if req.offload != "none" else 0.0
            gather = 4.0 * arch.largest_module_params
            weights = gather + (0.0 if req.offload == "optimizer_and_params" else 2.0 * p / g)
            grads = 4.0 * p / g if req.offload == "none" else 0.0
            states = 12.0 * p / g if req.offload == "none" else 0.0
            notes.append(
                f"ZeRO-3 over {g} GPUs (DeepSpeed estimate_zero3_model_states_mem_needs), offload={req.offload}"
            )
            phases.append(
                (
                    "forward_backward",
                    _phase(
                        weights=weights, optimizer=states, gradients=grads, activations=acts_fwd, logits=chain
                    ),
                )
            )
            if req.gradient_checkpointing:
                phases.append(
                    (
                        "recompute",
                        _phase(
                            weights=weights, optimizer=states, gradients=grads, activations=acts_recompute
                        ),
                    )
                )
        else:
            weights, states, grads = w_b * p, state_b * p, grad_b * p
            cast = cast_b * p
            if g > 1:
                notes.append(f"data parallel over {g} GPUs: each GPU holds a full copy")
            # torch.optim.AdamW (foreach, the CUDA default) builds sqrt(exp_avg_sq) for all params at once:
            # one more state-sized temporary at the step. source: torch/optim/adam.py _multi_tensor_adam
            step_temp = state_b / 2 * p
            phases.append(
                (
                    "forward_backward",
                    _phase(
                        weights=weights,
                        optimizer=states,
                        autocast_copy=cast,
                        activations=acts_fwd,
                        logits=chain + final_norm,
                    ),
                )
            )
            phases.append(
                (
                    "backward_end",
                    _phase(
                        weights=weights,
                        optimizer=states,
                        autocast_copy=cast,
                        gradients=grads,
                        activations=grad_b
                        * arch.vocab
                        * arch.hidden,  # dense embedding grad before accumulate
                    ),
                )
            )
            phases.append(
                (
                    "optimizer_step",
                    _phase(weights=weights, optimizer=states, gradients=grads, optimizer_step_temp=step_temp),
                )
            )
            if req.gradient_checkpointing:
                phases.append(
                    (
                        "recompute",
                        _phase(
                            weights=weights,
                            optimizer=states,
                            autocast_copy=cast,
                            gradients=grads / 2,
                            activations=acts_recompute,
                        ),
                    )
                )
    else:
        trainable = lora_params(arch, req.lora_rank)
        base_prec = "bf16" if method == "lora" else ("int8" if prec == "int8" else "nf4")
        base = weight_bytes(arch, base_prec)
        if method == "qlora":
            # prepare_model_for_kbit_training casts every non-quantized (bf16) parameter to fp32:
            # embeddings, lm_head, norms. source: peft/utils/other.py prepare_model_for_kbit_training
            base += 2.0 * (arch.embed_params + arch.norm_params)
            notes.append(
                "QLoRA: prepare_model_for_kbit_training upcasts embeddings, lm_head and norms to fp32"
            )
        lora_w = 4.0 * trainable  # peft keeps adapters in fp32 (autocast_adapter_dtype=True)
        lora_states = 8.0 * trainable
        lora_grads = 4.0 * trainable
        lora_temp = 4.0 * trainable
        if sharded:
            gather = 2.0 * arch.largest_module_params
            if req.offload == "optimizer_and_params":
                ram = (base + lora_w + lora_states + lora_grads) * DEEPSPEED_BUFFER_FACTOR
                base_gpu, lora_w_gpu, st_gpu = gather, 0.0, 0.0
            elif req.offload == "optimizer":
                ram = (lora_w + lora_states + lora_grads) * DEEPSPEED_BUFFER_FACTOR
                base_gpu, lora_w_gpu, st_gpu = base / g + gather, lora_w / g, 0.0
            else:
                base_gpu, lora_w_gpu, st_gpu = base / g + gather, lora_w / g, lora_states / g
            notes.append(f"ZeRO-3 over {g} GPUs, offload={req.offload}")
            lora_grads, lora_temp = lora_grads / g, lora_temp / g
        else:
            base_gpu, lora_w_gpu, st_gpu = base, lora_w, lora_states
            if g > 1:
                notes.append(f"data parallel over {g} GPUs: each GPU holds a full copy")
        phases.append(
            (
                "forward_backward",
                _phase(
                    weights=base_gpu,
                    lora=lora_w_gpu + st_gpu,
                    activations=acts_fwd,
                    logits=chain + final_norm,
                ),
            )
        )
        if req.gradient_checkpointing:
            phases.append(
                (
                    "recompute",
                    _phase(
                        weights=base_gpu, lora=lora_w_gpu + st_gpu + lora_grads, activations=acts_recompute
                    ),
                )
            )
        phases.append(
            (
                "optimizer_step",
                _phase(
                    weights=base_gpu,
                    lora=lora_w_gpu + st_gpu,
                    gradients=lora_grads,
                    optimizer_step_temp=lora_temp,
                ),
            )
        )
    return phases, largest_block, ram, trainable, notes


def zero3_model_states(total_params: int, largest_layer_params: int, gpus: int, offload: str) -> dict:
    """DeepSpeed's published ZeRO-3 model-state estimate for one node (zero_init=True), in bytes.

    source: deepspeed/runtime/zero/stage3.py estimate_zero3_model_states_mem_needs;
    https://deepspeed.readthedocs.io/en/latest/memory.html
    """
    largest = 4 * largest_layer_params
    f = DEEPSPEED_BUFFER_FACTOR
    if offload == "optimizer_and_params":
        return {"gpu_bytes": largest, "cpu_bytes": total_params * 18 * f}
    if offload == "optimizer":
        return {"gpu_bytes": largest + 2 * total_params / gpus, "cpu_bytes": total_params * 16 * f}
    return {"gpu_bytes": largest + 18 * total_params / gpus, "cpu_bytes": largest_layer_params * 4 * gpus * f}


def llama_cpp_memory(
    arch: ModelArch,
    req: EstimateRequest,
    gpu_vram_gib: float | None = None,
    flash_attn: bool = True,
    n_ubatch: int = 512,
) -> Estimate:
    """llama.cpp memory with its build options (flash attention was off by default before 2025)."""
    _check_combination(req)
    return _llama_cpp(arch, req, gpu_vram_gib, flash_attn, n_ubatch)


@lru_cache(maxsize=4096)
def _estimate_cached(arch: ModelArch, req: EstimateRequest, gpu_vram_gib: float | None) -> Estimate:
    runtime = req.resolved_runtime
    if runtime == "llama.cpp":
        return _llama_cpp(arch, req, gpu_vram_gib)
    if runtime == "vllm":
        return _vllm(arch, req, gpu_vram_gib)
    if runtime == "fsdp_qlora":
        return _fsdp_qlora(arch, req, gpu_vram_gib)
    if req.method == "inference":
        phases, largest_block, regrowth, notes, kv_final = _inference(arch, req)
        ram, trainable = 0.0, 0
        persistent = phases[0][1].get("weights", 0.0)
    else:
        phases, largest_block, ram, trainable, notes = _training(arch, req)
        regrowth, kv_final = 0.0, 0.0
        persistent = phases[0][1].get("weights", 0.0)
    name, peak = max(phases, key=lambda ph: sum(ph[1].values()))
    alloc = sum(peak.values())
    # Caching allocator: it keeps freed blocks; the largest transient block and a share of the
    # working set end up held but unusable for the next, differently shaped request.
    reserved = max(alloc, regrowth) + largest_block + ALLOCATOR_WORKING_SET_SHARE * max(alloc - persistent, 0)
    breakdown = {"cuda_context": CUDA_CONTEXT_GIB}
    for k, v in peak.items():
        breakdown[k] = v / GIB
    breakdown["allocator_reserve"] = (reserved - alloc) / GIB
    device = sum(breakdown.values())
    fits = None if gpu_vram_gib is None else device <= gpu_vram_gib
    return Estimate(
        device_gib=device,
        breakdown_gib=breakdown,
        ram_gib=ram / GIB,
        ram_floor_gib=ram / DEEPSPEED_BUFFER_FACTOR / GIB if ram else None,
        gpus=req.gpus,
        params_total=arch.total_params,
        params_active=arch.total_active_params,
        trainable_params=trainable,
        peak_phase=name,
        kv_cache_gib=kv_final / GIB,
        fits=fits,
        gpu_vram_gib=gpu_vram_gib,
        notes=tuple(notes),
        runtime=runtime,
        parallel=_resolved_parallel(req),
    )


def _resolved_parallel(req: EstimateRequest) -> str | None:
    if req.method == "inference":
        if req.gpus == 1:
            return None
        return req.parallel or ("tensor" if req.resolved_runtime == "vllm" else "pipeline")
    if req.resolved_runtime == "fsdp_qlora":
        return req.parallel or "fsdp"
    return req.parallel or ("zero3" if req.gpus > 1 or req.offload != "none" else None)


# ---------------------------------------------------------------------------------------------------------
# llama.cpp (GGUF)
# ---------------------------------------------------------------------------------------------------------
# llama.cpp's default micro-batch (n_ubatch = 512, common/common.h): the compute buffer is reserved for the
# worst-case graph of one micro-batch.
LLAMA_CPP_UBATCH = 512


def llama_cpp_layer_split(layers: int, gpus: int) -> list[int]:
    """Layers per GPU under llama.cpp's layer split with equal cards: layer il (the output counts as layer
    ``layers``) goes to GPU upper_bound(splits, il / (layers + 1)) with splits = [1/n, 2/n, ..., 1]
    (src/llama-model.cpp load_tensors). Returns the repeating-layer count per GPU; the output is on the last."""
    counts = [0] * gpus
    for il in range(layers):
        counts[min(il * gpus // (layers + 1), gpus - 1)] += 1
    return counts


# llama.cpp's own CUDA context + cuBLAS workspace per GPU: no PyTorch kernels to load, so less than the
# 0.68 GiB PyTorch context measured on the H100 (guess: 0.3-0.5 GiB is what nvidia-smi shows for an idle
# llama-server on 24 GB cards; the fit verdicts of the published OOM rows check it).
LLAMA_CPP_CONTEXT_GIB = 0.4


def _llama_cpp(
    arch: ModelArch,
    req: EstimateRequest,
    vram: float | None,
    flash_attn: bool = True,
    n_ubatch: int = LLAMA_CPP_UBATCH,
) -> Estimate:
    """llama.cpp: GGUF weights (token embedding kept in system RAM: "there is very little benefit to
    offloading the input layer"), an f16 KV cache allocated for the whole context up front (n_ctx = batch x
    (prompt + new tokens)), a compute buffer for one micro-batch (flash attention on, the default on CUDA),
    the logits of one micro-batch on the GPU holding the output."""
    g = req.gpus
    split = (req.parallel or "pipeline") if g > 1 else None
    layers_b, embed_b, out_b = gguf_tensor_bytes(arch, req.precision)
    n_ctx = req.batch * (req.seq_len + req.new_tokens)
    kv_total = arch.kv_bytes_per_token(2.0) * n_ctx
    ub = min(n_ubatch, max(n_ctx, 1))
    # f32 intermediates of one layer for one micro-batch (ggml's allocator reuses them layer to layer):
    # FFN gate/up/activation (3 x I), residual, norm and attention in/out (4 x H); without flash attention
    # the f32 attention scores of the micro-batch against the whole context (context x ubatch x heads)
    compute = ub * 4.0 * (4 * arch.hidden + 3 * arch.intermediate * _mlp_tokens_factor(arch))
    if not flash_attn:
        compute += 4.0 * n_ctx * ub * arch.heads
    logits = ub * arch.vocab * 4.0
    per_layer = layers_b / arch.layers
    notes = [
        f"llama.cpp, {gguf_type(req.precision)} ({8 * (layers_b + embed_b + out_b) / arch.total_params:.2f} "
        f"bits per weight), f16 KV cache for {n_ctx:,} tokens; token embedding "
        f"({embed_b / GIB:.2f} GiB) stays in system RAM"
    ]
    per_gpu: list[dict[str, float]] = []
    if split == "tensor":
        # --split-mode row: every matrix split by rows across the GPUs; KV cache, compute buffer and the
        # results on the main GPU
        notes.append(f"row split over {g} GPUs: matrices split by rows, KV cache on the main GPU")
        per_gpu.append(
            _phase(weights=(layers_b + out_b) / g, kv_cache=kv_total, compute_buffer=compute + logits)
        )
        per_gpu.append(_phase(weights=(layers_b + out_b) / g, compute_buffer=compute))
    else:
        counts = llama_cpp_layer_split(arch.layers, g)
        if g > 1:
            notes.append(
                f"layer split over {g} GPUs ({'/'.join(str(c) for c in counts)} layers, output on the last): "
                "the GPUs work one after another"
            )
        for k, c in enumerate(counts):
            last = k == g - 1
            per_gpu.append(
                _phase(
                    weights=c * per_layer + (out_b if last else 0.0),
                    kv_cache=kv_total * c / arch.layers,
                    compute_buffer=compute + (logits if last else 0.0),
                )
            )
    peak = max(per_gpu, key=lambda d: sum(d.values()))
    breakdown = {"cuda_context": LLAMA_CPP_CONTEXT_GIB} | {k: v / GIB for k, v in peak.items()}
    device = sum(breakdown.values())
    return Estimate(
        device_gib=device,
        breakdown_gib=breakdown,
        ram_gib=0.0,
        gpus=g,
        params_total=arch.total_params,
        params_active=arch.total_active_params,
        trainable_params=0,
        peak_phase="decode",
        kv_cache_gib=peak.get("kv_cache", 0.0) / GIB,
        fits=None if vram is None else device <= vram,
        gpu_vram_gib=vram,
        notes=tuple(notes),
        runtime="llama.cpp",
        parallel=split,
    )


# ---------------------------------------------------------------------------------------------------------
# vLLM
# ---------------------------------------------------------------------------------------------------------
# Tokens in vLLM's memory-profiling forward pass (max_num_batched_tokens; the V1 OpenAI server default on
# most GPUs is 8192, vllm/engine/arg_utils.py) and its default max_num_seqs (256).
VLLM_PROFILE_TOKENS = 8192
VLLM_MAX_NUM_SEQS = 256
# CUDA graphs captured for the decode batch sizes: vLLM logs "Graph capturing finished ... took 0.3-0.6
# GiB" for 7-70B models (guess from typical logs, not measured here).
VLLM_CUDA_GRAPHS_GIB = 0.5
# NCCL and custom all-reduce buffers per GPU under tensor parallel (guess).
VLLM_TP_BUFFERS_GIB = 0.25
VLLM_BLOCK_TOKENS = 16  # paged KV block size


def _vllm_weight_bytes(arch: ModelArch, precision: str) -> float:
    if precision in ("bf16", "fp16"):
        return 2.0 * arch.total_params
    sixteen = 2.0 * (arch.embed_params + arch.norm_params)
    linear = arch.linear_params
    if precision == "int8":  # FP8 / INT8 weights with one scale per output channel
        return 1.0 * linear + sixteen
    if precision == "int4":  # AWQ / GPTQ 4-bit, group 128: fp16 scale + packed 4-bit zero per group
        return linear * (0.5 + 2.5 / 128) + sixteen
    return weight_bytes(arch, precision)  # nf4 through bitsandbytes


def _vllm(arch: ModelArch, req: EstimateRequest, vram: float | None) -> Estimate:
    """vLLM: tensor parallel over ``gpus``; it preallocates gpu_memory_utilization x VRAM per GPU and keeps
    what weights, the profiling pass and CUDA graphs leave as the paged KV pool. It fits when that pool
    holds ``batch`` sequences of prompt + new tokens (vLLM refuses to start below one max_model_len)."""
    g = req.gpus
    util = req.gpu_memory_utilization
    kv_share = 1.0 / min(g, max(arch.kv_heads, 1)) if not arch.mla_kv_dim else 1.0
    weights = _vllm_weight_bytes(arch, req.precision) / g
    t = VLLM_PROFILE_TOKENS
    i_tok = arch.intermediate * _mlp_tokens_factor(arch)
    # profiling pass: gate_up output (2I) + activation (I) in bf16 on the TP shard, residual/norm copies,
    # and the sampler's fp32 logits for max_num_seqs sequences
    act = t * (3 * 2.0 * i_tok / g + 4 * 2.0 * arch.hidden) + VLLM_MAX_NUM_SEQS * arch.vocab * 4.0 * 2 / g
    fixed = (
        CUDA_CONTEXT_GIB * GIB + VLLM_CUDA_GRAPHS_GIB * GIB + (VLLM_TP_BUFFERS_GIB * GIB if g > 1 else 0.0)
    )
    seq_tokens = req.seq_len + req.new_tokens
    seq_tokens = -(-seq_tokens // VLLM_BLOCK_TOKENS) * VLLM_BLOCK_TOKENS
    kv_seq = arch.kv_bytes_per_token(2.0) * kv_share * seq_tokens
    need_kv = kv_seq * req.batch
    notes = [
        f"vLLM, tensor parallel over {g} GPU{'s' if g > 1 else ''}: preallocates {util:.0%} of each GPU's "
        "memory; what weights, activations and CUDA graphs leave is the paged KV cache pool"
    ]
    base = {
        "cuda_context": CUDA_CONTEXT_GIB,
        "weights": weights / GIB,
        "activations": act / GIB,
        "cuda_graphs": VLLM_CUDA_GRAPHS_GIB + (VLLM_TP_BUFFERS_GIB if g > 1 else 0.0),
    }
    used = fixed + weights + act
    if vram is None:
        breakdown = base | {"kv_cache": need_kv / GIB}
        pool, seqs, fits = None, None, None
    else:
        budget = util * vram * GIB
        pool_b = budget - used
        seqs = max(int(pool_b // kv_seq), 0) if kv_seq > 0 else VLLM_MAX_NUM_SEQS
        seqs = min(seqs, VLLM_MAX_NUM_SEQS)
        fits = pool_b >= need_kv
        if fits:
            breakdown = base | {"kv_cache": pool_b / GIB}
            pool = pool_b / GIB
        else:
            breakdown = base | {"kv_cache": need_kv / GIB}
            pool = max(pool_b, 0.0) / GIB
    device = sum(breakdown.values())
    return Estimate(
        device_gib=device,
        breakdown_gib=breakdown,
        ram_gib=0.0,
        gpus=g,
        params_total=arch.total_params,
        params_active=arch.total_active_params,
        trainable_params=0,
        peak_phase="serving",
        kv_cache_gib=need_kv / GIB,
        fits=fits,
        gpu_vram_gib=vram,
        notes=tuple(notes),
        runtime="vllm",
        parallel="tensor" if g > 1 else None,
        kv_pool_gib=pool,
        max_concurrent_sequences=seqs,
    )


# ---------------------------------------------------------------------------------------------------------
# FSDP + QLoRA (Answer.AI fsdp_qlora train.py, the published stack)
# ---------------------------------------------------------------------------------------------------------
# Defaults of https://github.com/AnswerDotAI/fsdp_qlora train.py: LoRA rank 64 on q,k,v,gate,up,down
# ("all"), bf16 precision (weights, adapters, grads and AdamW states bf16), FSDP full shard, activation
# checkpointing per decoder layer, limit_all_gathers (at most two layers gathered at once).
# Reserved but not allocated per GPU beyond the general allocator reserve: blocks cached on FSDP's
# all-gather / reduce-scatter streams (fitted on the fit half of the published runs, bench/speed_holdout.py).
FSDP_QLORA_FIXED_GIB = 0.75
FSDP_QLORA_DYNAMIC_SHARE = 0.268


def fsdp_lora_params(arch: ModelArch, rank: int) -> int:
    """LoRA on q, k, v, gate, up, down (fsdp_qlora's "all"; no o_proj): r x (in + out) each."""
    h, i = arch.hidden, arch.intermediate
    attn = rank * ((h + arch.q_dim) + 2 * (h + arch.kv_dim))
    mlp = rank * 3 * (h + i) * (arch.shared_experts if arch.is_moe else 1)
    return arch.layers * (attn + mlp)


def _fsdp_qlora(arch: ModelArch, req: EstimateRequest, vram: float | None) -> Estimate:
    g = req.gpus
    mode = req.parallel or "fsdp"
    shard = g if mode == "fsdp" else 1
    offload = req.offload == "params"
    t = req.batch * req.seq_len
    linear = arch.linear_params
    sixteen = 2.0 * (arch.embed_params + arch.norm_params)  # embeddings, lm_head, norms kept bf16
    if req.method == "qlora":
        # bnb Linear4bit with quant_storage=bf16: 4-bit codes (sharded by FSDP like any bf16 tensor). train.py
        # builds Linear4bit without compress_statistics, whose default is True: the absmax per 64 is itself
        # quantized to 8 bits with one fp32 scale per 256 (double quantization). It lives in quant_state,
        # outside the flat parameter, whole on every GPU.
        quant = 0.5 * linear
        absmax = linear * (1.0 / 64 + 4.0 / (64 * 256))
    else:
        quant, absmax = 2.0 * linear, 0.0
    layer_w = quant / arch.layers  # a gathered layer's 4-bit (or bf16) weights; absmax is not gathered
    trainable = fsdp_lora_params(arch, req.lora_rank)
    lora_states = 8.0 * trainable  # bf16 weights + grads + AdamW m, v
    if offload:
        sharded = 0.0  # parameters, grads and the optimizer step live in CPU RAM (FSDP CPUOffload)
        lora_gpu = 0.0
        ram = quant + absmax + sixteen + lora_states + 2.0 * trainable
    else:
        sharded = (quant + sixteen) / shard
        lora_gpu = lora_states / shard
        ram = 0.0
    # gathered at once: the root unit (embeddings, lm_head, final norm: not resharded after forward) and
    # two decoder layers (current + prefetched, limit_all_gathers) with their adapters
    gathered = (sixteen if shard > 1 or offload else 0.0) + 2 * (layer_w + 2.0 * trainable / arch.layers)
    if shard == 1 and not offload:
        gathered = 2.0 * trainable / arch.layers * 2
    weights = sharded + absmax
    # activations: checkpointing keeps each decoder layer's bf16 input; backward recomputes one layer
    # (pure bf16: the same per-token bytes as the bf16 model, no fp32 adapter copies) plus the bnb
    # dequantized bf16 weight of the widest Linear
    per_layer_tok = _saved_per_token_layer(arch, "full", "bf16")
    saved = (
        arch.layers * t * arch.hidden * 2.0 if req.gradient_checkpointing else arch.layers * t * per_layer_tok
    )
    recompute = 2.0 * per_layer_tok * t if req.gradient_checkpointing else 0.0
    dequant = 2.0 * arch.hidden * arch.intermediate if req.method == "qlora" else 0.0
    # loss: the fp32 upcast of the logits, log_softmax and its grad (the bf16 logits are freed by the upcast)
    logits = _logits_chain_bytes(arch, t)
    phases = [
        (
            "forward_backward",
            _phase(weights=weights, gathered=gathered, lora=lora_gpu, activations=saved, logits=logits),
        ),
        (
            "recompute",
            _phase(
                weights=weights, gathered=gathered, lora=lora_gpu, activations=saved + recompute + dequant
            ),
        ),
    ]
    name, peak = max(phases, key=lambda ph: sum(ph[1].values()))
    alloc = sum(peak.values())
    largest_block = 4.0 * t * arch.vocab
    # FSDP all-gathers and reduce-scatters on their own CUDA streams; the caching allocator keeps blocks per
    # stream, so what those streams freed stays reserved: a fixed amount fitted on the published runs
    # and the blocks of the activations and logits, which change size every step, fragment in proportion
    fixed = FSDP_QLORA_FIXED_GIB * GIB if g > 1 else 0.0
    dynamic = peak.get("activations", 0.0) + peak.get("logits", 0.0)
    reserved = (
        alloc
        + largest_block
        + fixed
        + FSDP_QLORA_DYNAMIC_SHARE * dynamic
        + ALLOCATOR_WORKING_SET_SHARE * max(alloc - weights, 0)
    )
    # The caching allocator frees its cached blocks and retries when cudaMalloc fails
    # (CUDACachingAllocator release_cached_blocks), so near the card's limit the reserve shrinks: the job fits
    # when the allocated peak does, and nvidia-smi then shows at most the card.
    fits = None
    if vram is not None:
        fits = CUDA_CONTEXT_GIB + alloc / GIB <= vram
        if fits:
            reserved = min(reserved, max((vram - CUDA_CONTEXT_GIB) * GIB, alloc))
    breakdown = {"cuda_context": CUDA_CONTEXT_GIB} | {k: v / GIB for k, v in peak.items()}
    breakdown["allocator_reserve"] = (reserved - alloc) / GIB
    device = sum(breakdown.values())
    how = {"fsdp": f"FSDP full shard over {g} GPUs", "ddp": f"DDP (full copy on each of {g} GPUs)"}[mode]
    notes = [
        f"FSDP-QLoRA stack (Answer.AI fsdp_qlora): {how}"
        + (", parameters offloaded to CPU RAM" if offload else "")
        + f"; {'bnb 4-bit, bf16 quant storage' if req.method == 'qlora' else 'bf16 base'}, other weights bf16, "
        f"LoRA r{req.lora_rank} on q,k,v,gate,up,down ({trainable / 1e6:.0f}M trainable)"
    ]
    return Estimate(
        device_gib=device,
        breakdown_gib=breakdown,
        ram_gib=ram / GIB,
        gpus=g,
        params_total=arch.total_params,
        params_active=arch.total_active_params,
        trainable_params=trainable,
        peak_phase=name,
        fits=fits,
        gpu_vram_gib=vram,
        notes=tuple(notes),
        runtime="fsdp_qlora",
        parallel=mode,
    )


def estimate(arch: ModelArch, req: EstimateRequest, gpu_vram_gib: float | None = None) -> Estimate:
    """Device memory per GPU (GiB, nvidia-smi view) with breakdown, system RAM for offload, fit."""
    _check_combination(req)
    return _estimate_cached(arch, req, None if gpu_vram_gib is None else float(gpu_vram_gib))


def _check_combination(req: EstimateRequest) -> None:
    m, p = req.method, req.precision
    allowed = {
        "inference": ("bf16", "fp16", "int8", "nf4", "int4", *GGUF),
        "full": ("amp", "bf16", "fp16"),
        "lora": ("bf16", "fp16"),
        "qlora": ("nf4", "int4", "int8"),
    }
    if m not in allowed:
        raise EstimateRequestError("method", f"{m!r} not one of {', '.join(METHODS)}")
    if p not in allowed[m]:
        raise EstimateRequestError(
            "precision", f"{p!r} does not go with {m}; use one of {', '.join(allowed[m])}"
        )
    rt = req.resolved_runtime
    if rt not in RUNTIMES:
        raise EstimateRequestError("runtime", f"{rt!r} not one of {', '.join(RUNTIMES)}")
    if m == "inference" and rt not in INFERENCE_RUNTIMES:
        raise EstimateRequestError(
            "runtime", f"{rt!r} is a training stack; inference runs in {', '.join(INFERENCE_RUNTIMES)}"
        )
    if m != "inference" and rt not in TRAINING_RUNTIMES:
        raise EstimateRequestError(
            "runtime", f"{rt!r} is an inference runtime; training runs in {' or '.join(TRAINING_RUNTIMES)}"
        )
    if m == "inference" and p not in RUNTIME_PRECISIONS[rt]:
        hint = (
            "GGUF quants (Q4_K_M ...) run in llama.cpp"
            if p in GGUF
            else f"use {', '.join(RUNTIME_PRECISIONS[rt])}"
        )
        raise EstimateRequestError("precision", f"{p!r} does not run in {rt}: {hint}")
    if rt == "fsdp_qlora" and (m, p) not in (("qlora", "nf4"), ("qlora", "int4"), ("lora", "bf16")):
        raise EstimateRequestError("method", "fsdp_qlora trains qlora (nf4) or lora (bf16)")
    if req.parallel is not None:
        if m == "inference":
            ok = ("tensor",) if rt == "vllm" else ("tensor", "pipeline")
        elif rt == "fsdp_qlora":
            ok = ("fsdp", "ddp")
        else:
            ok = ("zero3", "ddp")
        if req.parallel not in ok:
            raise EstimateRequestError(
                "parallel", f"{req.parallel!r} does not go with {m} in {rt}; use {' or '.join(ok)}"
            )
    if req.offload != "none":
        if m == "inference":
            raise EstimateRequestError("offload", "offload applies to training only")
        if rt == "fsdp_qlora":
            if req.offload != "params":
                raise EstimateRequestError(
                    "offload", "fsdp_qlora offloads 'params' (FSDP CPU offload) or none"
                )
        elif req.offload == "params":
            raise EstimateRequestError(
                "offload", "'params' is fsdp_qlora's option; hf uses optimizer or optimizer_and_params"
            )
        elif (req.parallel or "zero3") != "zero3":
            raise EstimateRequestError("offload", "CPU offload needs parallel 'zero3'")
    if not 0.05 <= req.gpu_memory_utilization <= 1.0:
        raise EstimateRequestError("gpu_memory_utilization", "must be between 0.05 and 1")


# ---------------------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DecodeConstants:
    """Per-runtime constants of the decode model (see decode_seconds_per_token)."""

    eta_16bit: float  # share of spec bandwidth reached streaming 16-bit weights
    eta_quant: float  # the same for quantized weights (the kernels dequantize on the fly)
    eta_kv: float  # share reached reading the KV cache (attention kernels)
    cap_16bit_gbps: float  # rate (GB/s) at which the runtime's kernels consume 16-bit weights whatever the
    cap_quant_gbps: float  # memory: SM-side limit (dequantize, FMA, reduce)
    cap_sharpness: (
        float  # p of the soft minimum of the two rates: (BW^-p + cap^-p)^(-1/p); large p = hard min
    )
    layer_overhead_s: float  # per layer per token: kernel launches, synchronisation
    fixed_overhead_s: float  # per token: sampling, host round trip
    hop_s: float  # per stage boundary of a layer split: hidden-state copy + sync
    allreduce_latency_s: float  # per all-reduce (tensor parallel / row split), PCIe without NVLink
    allreduce_per_peer_s: float  # added per further GPU (llama.cpp row split gathers through the host)
    range_low: float  # the stated range is expected x [range_low, range_high]: the spread of
    range_high: float  # measured / expected on the rows the constants were fitted on
    source: str


# llama.cpp: fitted on the fit half of catalog/data/speed_measurements.json (bench/speed_holdout.py --fit).
DECODE_CONSTANTS: dict[str, DecodeConstants] = {
    "llama.cpp": DecodeConstants(
        eta_16bit=0.912,
        eta_quant=0.883,
        eta_kv=0.377,
        cap_16bit_gbps=1122.0,
        cap_quant_gbps=1184.0,
        cap_sharpness=6.0,
        layer_overhead_s=76.8e-6,
        fixed_overhead_s=0.274e-3,
        hop_s=0.168e-3,
        allreduce_latency_s=208e-6,
        allreduce_per_peer_s=76e-6,
        range_low=0.715,
        range_high=1.205,
        source="fitted on the fit half of catalog/data/speed_measurements.json (bench/speed_holdout.py --fit): "
        "llama-bench tg rows of Llama 3 8B/70B Q4_K_M/F16 (XiongjieDai) and Llama 2 Q4_0/F16 (mlc-ai llm-perf-bench)",
    ),
    "vllm": DecodeConstants(
        eta_16bit=0.748,
        eta_quant=0.950,
        eta_kv=0.50,
        cap_16bit_gbps=1e6,
        cap_quant_gbps=1e6,
        cap_sharpness=1.0,
        layer_overhead_s=20e-6,
        fixed_overhead_s=0.5e-3,
        hop_s=0.15e-3,
        allreduce_latency_s=219e-6,
        allreduce_per_peer_s=0.0,
        range_low=0.861,
        range_high=1.337,
        source="eta and all-reduce latency fitted on the fit half of the vLLM rows (mlc-ai llm-perf-bench, vLLM "
        "0.2, 70B/34B fp16 and AWQ over PCIe); per-token overheads guessed",
    ),
    # transformers generate(): static cache + torch.compile (CUDA graphs) as expected/high; the eager
    # dynamic-cache path is the low end (Python + launch overhead of every op per layer).
    "transformers": DecodeConstants(
        eta_16bit=0.65,
        eta_quant=0.45,
        eta_kv=0.50,
        cap_16bit_gbps=1e6,
        cap_quant_gbps=1e6,
        cap_sharpness=1.0,
        layer_overhead_s=20e-6,
        fixed_overhead_s=0.55e-3,
        hop_s=0.3e-3,
        allreduce_latency_s=25e-6,
        allreduce_per_peer_s=0.0,
        range_low=0.35,
        range_high=1.25,
        source="H100 compiled-decode calibration rows (../shared/calibration): 8B 119 tok/s, 1B 457 tok/s",
    ),
}
# Link between GPUs for tensor-parallel all-reduces when the rig reports none: PCIe 4.0 x16 (GB/s).
DEFAULT_LINK_GBPS = 16.0
# NVLink bridge (RTX 3090 / A6000 class: 56.25 GB/s per direction, NVIDIA spec); pass ``nvlink`` as a number for
# another generation (H100 SXM NVLink 4: 18 links, 450 GB/s per direction).
NVLINK_GBPS = 50.0
NVLINK_LATENCY_SHARE = (
    0.25  # all-reduce latency over NVLink relative to PCIe (guess; GPU-to-GPU, no host hop)
)


@dataclass(frozen=True, slots=True)
class DecodeBreakdown:
    seconds: float  # expected time per decode step
    bound_seconds: float  # the bandwidth bound: bytes that must stream one after another / spec bandwidth
    weight_bytes: float  # weights read per step (whole model)
    kv_bytes: float  # KV cache read per step (all sequences)
    stages: int  # GPUs that run one after another (layer split) or 1
    shards: int  # GPUs that read their shares at the same time (tensor parallel) or 1
    comm_seconds: float
    overhead_seconds: float
    weight_gbps: float = (
        0.0  # rate at which one GPU streams the weights (GB/s), bandwidth and kernels together
    )


def _resolve_decode(runtime: str | None, precision: str, n: int, parallel: str | None) -> tuple[str, str]:
    rt = runtime or default_runtime("inference", precision)
    if n <= 1:
        return rt, "single"
    if parallel in PARALLEL_ALIASES:
        parallel = PARALLEL_ALIASES[parallel]
    if rt == "vllm":
        return rt, "tensor"
    if parallel is None:
        parallel = "pipeline"  # llama.cpp's layer split, transformers' device_map="auto"
    return rt, parallel


def decode_seconds_per_token(
    arch: ModelArch,
    precision: str,
    bandwidth_gbps: float,
    n_gpus: int = 1,
    link_gbps: float | None = None,
    context: int = 0,
    batch: int = 1,
    parallel: str | None = None,
    runtime: str | None = None,
    nvlink: bool | float = False,
    constants: DecodeConstants | None = None,
) -> DecodeBreakdown:
    """Time of one decode step (one new token for each of ``batch`` sequences), physics made explicit.

    bytes streamed per GPU: its stage's or shard's weights + its share of the KV cache (batch x context).
    time = weights x soft-min-rate(eta_w x BW, kernel cap) + KV / (eta_kv x BW) + layers x per-layer overhead + fixed overhead
           + (layer split) one hop per stage boundary; stages run one after another at batch 1, so the
             whole model streams through one GPU's bandwidth at a time
           + (tensor parallel / row split) two all-reduces of the hidden state per layer over the link
             (latency + bytes / link bandwidth)."""
    n = max(int(n_gpus), 1)
    rt, mode = _resolve_decode(runtime, precision, n, parallel)
    c = constants or DECODE_CONSTANTS[rt]
    prec = "bf16" if precision == "amp" else precision
    if rt == "llama.cpp" and prec in ("bf16", "fp16"):
        prec = "F16"
    weights = streamed_bytes_per_token(arch, prec)
    quantized = prec not in ("bf16", "fp16", "F16")
    eta_w = c.eta_quant if quantized else c.eta_16bit
    cap = (c.cap_quant_gbps if quantized else c.cap_16bit_gbps) * 1e9
    kv = arch.kv_bytes_per_token() * max(context, 0) * max(batch, 1)
    bw = bandwidth_gbps * 1e9
    p = c.cap_sharpness
    # seconds per byte of weights: soft minimum of the DRAM rate and the kernels' own rate
    slow, fast = sorted((1.0 / (eta_w * bw), 1.0 / cap), reverse=True)
    per_byte = slow * (1.0 + (fast / slow) ** p) ** (1.0 / p)  # = (slow^p + fast^p)^(1/p), overflow-safe
    overhead = arch.layers * c.layer_overhead_s + c.fixed_overhead_s
    comm = 0.0
    if mode == "tensor":
        shards, stages = n, 1
        kv_shard = min(n, max(arch.kv_heads, 1)) if not arch.mla_kv_dim else 1
        if rt == "llama.cpp":  # row split: KV cache and attention stay on the main GPU
            kv_shard = 1
        nv_gbps = float(nvlink) if not isinstance(nvlink, bool) else NVLINK_GBPS
        link = (nv_gbps if nvlink else (link_gbps or DEFAULT_LINK_GBPS)) * 1e9
        lat = (c.allreduce_latency_s + c.allreduce_per_peer_s * (n - 2)) * (
            NVLINK_LATENCY_SHARE if nvlink else 1.0
        )
        msg = 2.0 * arch.hidden * max(batch, 1) * 2 * (n - 1) / n
        comm = arch.layers * 2 * (lat + msg / link)
        t_stream = weights / n * per_byte + kv / kv_shard / (c.eta_kv * bw)
        bound = (weights / n + kv / kv_shard) / bw
    else:
        shards = 1
        stages = n if mode == "pipeline" else 1
        # stages run one after another: the sum over stages is the whole model through one GPU at a time
        t_stream = weights * per_byte + kv / (c.eta_kv * bw)
        bound = (weights + kv) / bw
        if stages > 1:
            link = (link_gbps or DEFAULT_LINK_GBPS) * 1e9
            comm = (stages - 1) * (c.hop_s + 2.0 * arch.hidden * max(batch, 1) * 4 / link)
    return DecodeBreakdown(
        seconds=t_stream + overhead + comm,
        bound_seconds=bound,
        weight_bytes=weights,
        kv_bytes=kv,
        stages=stages,
        shards=shards,
        comm_seconds=comm,
        overhead_seconds=overhead,
        weight_gbps=1.0 / per_byte / 1e9,
    )


def _decode_assumption(
    rt: str,
    mode: str,
    n: int,
    precision: str,
    c: DecodeConstants,
    nvlink: bool | float,
    d: DecodeBreakdown | None = None,
    bandwidth_gbps: float | None = None,
) -> str:
    what = {
        "llama.cpp": f"llama.cpp ({gguf_type(precision) if precision in GGUF or precision in ('bf16', 'fp16') else precision})",
        "vllm": "vLLM (CUDA graphs)",
        "transformers": "transformers generate(): static KV cache + torch.compile at the top of the range, "
        "plain eager generate() near the bottom",
    }[rt]
    how = {
        "single": "one GPU",
        "pipeline": f"layers split over {n} GPUs, which work one after another, so batch-1 speed is that of "
        "one GPU reading the whole model, a little slower for the hand-offs",
        "tensor": f"tensor parallel over {n} GPUs"
        + (" (row split: KV cache on the main GPU)" if rt == "llama.cpp" else "")
        + f", two all-reduces per layer over {'NVLink' if nvlink else 'PCIe'}",
    }[mode]
    if d is not None and bandwidth_gbps:
        rate = (
            f"streams them at about {d.weight_gbps:,.0f} GB/s ({d.weight_gbps / bandwidth_gbps:.0%} of the card's "
            f"{bandwidth_gbps:,.0f} GB/s)"
        )
    else:
        rate = f"streams them at up to {c.eta_16bit:.0%} of spec bandwidth"
    return (
        f"{what}, {how}. Each new token reads all the weights once (memory-bound); this runtime {rate}, plus "
        f"a fixed cost per layer and per token. Range {c.range_low:.2f}-{c.range_high:.2f} x expected ("
        + ("the spread on measured rigs" if "fitted" in c.source else "eager to compiled, not fitted")
        + "), never above the bandwidth bound"
    )


def decode_tokens_per_s(
    arch: ModelArch,
    precision: str,
    bandwidth_gbps: float,
    n_gpus: int = 1,
    link_gbps: float | None = None,
    context: int = 0,
    batch: int = 1,
    parallel: str | None = None,
    runtime: str | None = None,
    nvlink: bool | float = False,
) -> SpeedRange:
    """Decode speed, tokens/s per sequence, with a range that never exceeds the bandwidth bound.

    ``runtime`` defaults by precision (GGUF -> llama.cpp, else transformers); ``parallel`` defaults to the
    runtime's multi-GPU mode (llama.cpp: layer split = pipeline; vllm/transformers: tensor)."""
    n = max(int(n_gpus), 1)
    rt, mode = _resolve_decode(runtime, precision, n, parallel)
    c = DECODE_CONSTANTS[rt]
    d = decode_seconds_per_token(
        arch, precision, bandwidth_gbps, n, link_gbps, context, batch, mode, rt, nvlink
    )
    expected = 1.0 / d.seconds
    bound = 1.0 / d.bound_seconds if d.bound_seconds > 0 else math.inf
    high = min(expected * c.range_high, bound)
    expected = min(expected, high)
    low = min(expected * c.range_low, expected)
    return SpeedRange(
        low=low,
        expected=expected,
        high=high,
        unit="tokens/s",
        assumption=_decode_assumption(rt, mode, n, precision, c, nvlink, d, bandwidth_gbps),
    )


def decode_bandwidth_bound(
    arch: ModelArch,
    precision: str,
    bandwidth_gbps: float,
    n_gpus: int = 1,
    context: int = 0,
    batch: int = 1,
    parallel: str | None = None,
    runtime: str | None = None,
) -> float:
    """tokens/s no implementation can beat: bytes that must stream one after another / spec bandwidth."""
    d = decode_seconds_per_token(
        arch, precision, bandwidth_gbps, n_gpus, None, context, batch, parallel, runtime
    )
    return 1.0 / d.bound_seconds


# Serving: vLLM's continuous batching. Each step reads the weights once for the whole batch and each
# sequence's KV; the step is compute-bound once 2 x N_active x batch FLOPs outlast the memory stream.
SERVING_BATCHES = (1, 8, 32)
SERVING_MFU = 0.5  # dense BF16 TFLOPS share a batched decode GEMM reaches (guess)


def serving_throughput(
    arch: ModelArch,
    precision: str,
    bandwidth_gbps: float,
    bf16_tflops: float | None,
    n_gpus: int = 1,
    link_gbps: float | None = None,
    context: int = 2048,
    max_sequences: int | None = None,
    batches: tuple[int, ...] = SERVING_BATCHES,
    nvlink: bool | float = False,
    prompt_tokens: int = 0,
    gen_tokens: int = 0,
) -> list[dict]:
    """Aggregate tokens/s of vLLM serving ``batch`` sequences at once (each at ``context`` tokens), for the
    batch sizes its KV pool allows (``max_sequences``); larger batches are listed with possible=False.

    With continuous batching a finished request is replaced by a new one whose prompt is prefilled in the same
    steps: every ``gen_tokens`` steps each of the ``batch`` slots brings ``prompt_tokens`` of prefill, so each
    step also pays batch x prompt / gen tokens of prompt compute."""
    out = []
    c = DECODE_CONSTANTS["vllm"]
    n = max(int(n_gpus), 1)
    for b in batches:
        if max_sequences is not None and b > max_sequences:
            out.append(
                {"batch": b, "possible": False, "reason": f"the KV pool holds {max_sequences} sequences"}
            )
            continue
        d = decode_seconds_per_token(
            arch, precision, bandwidth_gbps, n, link_gbps, context, b, "tensor", "vllm", nvlink
        )
        t = d.seconds
        rate = SERVING_MFU * (bf16_tflops or 0.0) * 1e12 * n
        if rate > 0:
            t = max(t, 2.0 * arch.total_active_params * b / rate + d.overhead_seconds + d.comm_seconds)
            if prompt_tokens and gen_tokens:
                flops_prompt = 2.0 * arch.total_active_params + 2.0 * arch.layers * prompt_tokens * arch.q_dim
                t += b * prompt_tokens / gen_tokens * flops_prompt / rate
        expected = b / t if t > 0 else 0.0
        bound = b / d.bound_seconds if d.bound_seconds > 0 else math.inf
        high = min(expected * c.range_high, bound)
        expected = min(expected, high)
        rng = SpeedRange(
            low=expected * c.range_low,
            expected=expected,
            high=high,
            unit="tokens/s (all sequences)",
            assumption=f"vLLM, {b} sequences of {context:,} tokens decoding together: one read of the weights "
            "per step for all of them, each reads its own KV cache; compute-bound past "
            f"{SERVING_MFU:.0%} of dense BF16 TFLOPS"
            + (
                f"; new requests' {prompt_tokens:,}-token prompts prefilled between the steps"
                if prompt_tokens and gen_tokens
                else ""
            ),
        )
        out.append({"batch": b, "possible": True, "tokens_per_s": rng.as_dict()})
    return out


# Prefill (prompt processing): compute-bound, 2 x N_active FLOPs per token + attention, at a stated share
# of dense BF16 TFLOPS. llama.cpp's share is fitted on the fit half of the pp rows (GeForce cards run its
# FP16 GEMMs with FP16 accumulate, twice the FP32-accumulate figure we store, hence shares near 1).
PREFILL_EFFICIENCY = {  # (low, expected, high) share of dense BF16 TFLOPS (FP32 accumulate)
    "vllm": (0.30, 0.45, 0.60),
    "transformers": (0.30, 0.40, 0.50),
}
LLAMA_CPP_BATCH = 2048  # llama.cpp n_batch default: up to 4 micro-batches of 512 in flight


@dataclass(frozen=True, slots=True)
class PrefillConstants:
    efficiency: float  # share of dense BF16 TFLOPS (FP32 accumulate) reached, before the cap
    cap_tflops: float  # what llama.cpp's prompt kernels reach at most on any card (TFLOPS)
    sharpness: float  # p of the soft minimum of the two
    quant_share: float  # quantized weights (dequantized per micro-batch) relative to F16
    attention_cost: (
        float  # attention runs this many times slower than the GEMMs per FLOP (no flash attention)
    )
    range_low: float
    range_high: float
    source: str


# llama.cpp prompt processing. GeForce cards run its FP16 GEMMs with FP16 accumulate, twice the FP32-accumulate
# figure we store, so the share comes out near 1 there; on workstation and datacentre cards (full-rate FP32
# accumulate) the kernels of a 512-token micro-batch saturate at the cap.
PREFILL_CONSTANTS = PrefillConstants(
    efficiency=1.668,
    cap_tflops=170.0,
    sharpness=0.835,
    quant_share=0.725,
    attention_cost=3.53,
    range_low=0.411,
    range_high=1.691,
    source="fitted on the fit half of the llama-bench pp rows (XiongjieDai, Llama 3 8B/70B; bench/speed_holdout.py "
    "--fit); the range is the 2.5-97.5 % spread of out-of-fold errors: prompt speed on cloud hosts varies a lot",
)


def prefill_tokens_per_s(
    arch: ModelArch,
    bf16_tflops: float,
    n_gpus: int = 1,
    context: int = 2048,
    runtime: str | None = None,
    parallel: str | None = None,
    precision: str = "bf16",
    constants: PrefillConstants | None = None,
) -> SpeedRange:
    """Prompt processing of a ``context``-token prompt: 2 x active params FLOPs per token plus attention
    (4 x context/2 x q_dim per layer), at the runtime's stated efficiency.

    llama.cpp splits the prompt into micro-batches of 512 and, with its layers split over n GPUs, pipelines up
    to n_batch / n_ubatch = 4 of them: m micro-batches through n stages take (m + n - 1) stage times (the
    pipeline bubble), so more GPUs help long prompts only, and a 512-token prompt runs on one GPU at a time."""
    n = max(int(n_gpus), 1)
    rt, mode = _resolve_decode(runtime, precision, n, parallel)
    context = max(int(context), 1)
    flops_tok = 2.0 * arch.total_active_params + 2.0 * arch.layers * context * arch.q_dim
    if rt != "llama.cpp":
        peak = bf16_tflops * 1e12 * n
        lo, mid, hi = PREFILL_EFFICIENCY[rt]
        return SpeedRange(
            low=lo * peak / flops_tok,
            expected=mid * peak / flops_tok,
            high=hi * peak / flops_tok,
            unit="tokens/s",
            assumption=f"{rt}: {int(lo * 100)}-{int(hi * 100)} % of dense BF16 TFLOPS on {n} GPU"
            f"{'s' if n > 1 else ''}, 2N FLOPs per token + attention",
        )
    c = constants or PREFILL_CONSTANTS
    slow, fast = sorted((1.0 / max(c.efficiency * bf16_tflops, 1e-300), 1.0 / c.cap_tflops), reverse=True)
    eff = 1e12 / (slow * (1.0 + (fast / slow) ** c.sharpness) ** (1.0 / c.sharpness))
    if precision not in ("bf16", "fp16", "F16"):
        eff *= c.quant_share
    # attention (f32 scores without flash attention) is slower per FLOP than the weight GEMMs
    flops_tok = 2.0 * arch.total_active_params + c.attention_cost * 2.0 * arch.layers * context * arch.q_dim
    ubatches = math.ceil(context / LLAMA_CPP_UBATCH)
    if mode == "pipeline":
        in_flight = LLAMA_CPP_BATCH // LLAMA_CPP_UBATCH
        batches, left, stage_slots = 0, ubatches, 0
        while left > 0:
            m = min(left, in_flight)
            stage_slots += m + n - 1
            left -= m
            batches += 1
        t = stage_slots * LLAMA_CPP_UBATCH * flops_tok / n / eff
        how = f"layers split over {n} GPUs: up to 4 micro-batches of 512 tokens in flight (pipeline bubble)"
    else:
        t = ubatches * LLAMA_CPP_UBATCH * flops_tok / n / eff
        how = "one GPU" if n == 1 else f"rows split over {n} GPUs"
    expected = context / t
    return SpeedRange(
        low=expected * c.range_low,
        expected=expected,
        high=expected * c.range_high,
        unit="tokens/s",
        assumption=f"llama.cpp prompt processing, {how}: {c.efficiency:.0%} of dense BF16 TFLOPS up to "
        f"{c.cap_tflops:.0f} TFLOPS per GPU, 2N FLOPs per token + attention; range "
        f"{c.range_low:.2f}-{c.range_high:.2f} x expected",
    )


def training_tokens_per_s(
    arch: ModelArch,
    bf16_tflops: float,
    n_gpus: int = 1,
    gradient_checkpointing: bool = False,
    method: str = "full",
) -> SpeedRange:
    """Training throughput: 6 x N_active FLOPs per token (8 x N with recomputation) at 30-50 % MFU.

    LoRA/QLoRA skip the weight gradients of the frozen base: 4 x N (6 x N with recomputation)."""
    factor = 6.0 if method == "full" else 4.0
    if gradient_checkpointing:
        factor += 2.0
    flops_tok = factor * arch.total_active_params
    peak = bf16_tflops * 1e12 * max(n_gpus, 1)
    lo, hi = MFU_RANGE
    return SpeedRange(
        low=lo * peak / flops_tok,
        expected=(lo + hi) / 2 * peak / flops_tok,
        high=hi * peak / flops_tok,
        unit="tokens/s",
        assumption=f"{int(factor)}N FLOPs per token at {int(lo * 100)}-{int(hi * 100)} % MFU of dense BF16 TFLOPS",
    )


def days_to_train(
    arch: ModelArch, tokens: float, bf16_tflops: float, n_gpus: int = 1, gradient_checkpointing: bool = False
) -> SpeedRange:
    """Days to train ``tokens`` tokens (low = fastest case, high = slowest)."""
    tps = training_tokens_per_s(arch, bf16_tflops, n_gpus, gradient_checkpointing)
    day = 86400.0

    def days(rate: float) -> float:
        return tokens / rate / day if rate > 0 else math.inf

    return SpeedRange(
        low=days(tps.high),
        expected=days(tps.expected),
        high=days(tps.low),
        unit="days",
        assumption=tps.assumption,
    )


# ---------------------------------------------------------------------------------------------------------
# Presets and strict parsing (API body)
# ---------------------------------------------------------------------------------------------------------
PRESETS_PATH = Path(__file__).resolve().parent.parent / "data" / "model_presets.json"
_ARCH_FIELDS = {f.name for f in fields(ModelArch)}
_PRESET_EXTRA = {"source", "sources", "notes", "family", "release_year", "license"}


def arch_from_preset(entry: dict) -> ModelArch:
    values = {k: v for k, v in entry.items() if k in _ARCH_FIELDS}
    for key in entry:
        if key not in _ARCH_FIELDS and key not in _PRESET_EXTRA:
            raise ValueError(f"preset {entry.get('slug')}: unknown field {key}")
    return ModelArch(**values)


@lru_cache(maxsize=4)
def _load_presets(path: str) -> dict[str, ModelArch]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return {entry["slug"]: arch_from_preset(entry) for entry in data}


def load_presets(path: str | Path | None = None) -> dict[str, ModelArch]:
    """Model presets by slug from catalog/data/model_presets.json (the seed the catalogue's ModelPreset rows
    are loaded from; the engine uses it only when the caller passes no presets)."""
    return dict(_load_presets(str(path or PRESETS_PATH)))


class Presets(Mapping):
    """Model presets by slug, as the caller hands them to the engine (the Django side: ModelPreset rows).

    Immutable and hashable by `key`, a signature of its content, so it can sit in a frozen Context, key the
    engine's caches (the workload table is memoised by it) and key a report cache."""

    __slots__ = ("_archs", "key")

    def __init__(self, archs: Mapping[str, ModelArch], key: str | None = None):
        self._archs = dict(archs)
        if key is None:
            raw = json.dumps(
                sorted((slug, repr(arch)) for slug, arch in self._archs.items()), separators=(",", ":")
            )
            key = hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()
        self.key = key

    def __getitem__(self, slug: str) -> ModelArch:
        return self._archs[slug]

    def __iter__(self):
        return iter(self._archs)

    def __len__(self) -> int:
        return len(self._archs)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Presets) and other.key == self.key

    def __repr__(self) -> str:
        return f"Presets({len(self._archs)} presets, key={self.key})"


@lru_cache(maxsize=1)
def file_presets() -> Presets:
    """The seed file's presets as a Presets (what the engine uses when the caller passes none)."""
    return Presets(load_presets())


def _int_field(data: dict, key: str, lo: int, hi: int, default: int | None = None) -> int | None:
    if key not in data or data[key] is None:
        if default is None and key in data:
            raise EstimateRequestError(key, "must not be null")
        return default
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and math.isfinite(v) and v.is_integer():
            v = int(v)
        else:
            raise EstimateRequestError(key, f"must be an integer, got {type(v).__name__}")
    if not lo <= v <= hi:
        raise EstimateRequestError(key, f"{v} out of range ({lo} to {hi})")
    return v


def _choice(data: dict, key: str, values: tuple[str, ...], default: str | None) -> str | None:
    if key not in data or data[key] is None:
        return default
    v = data[key]
    if not isinstance(v, str) or v not in values:
        raise EstimateRequestError(key, f"{v!r} not one of {', '.join(values)}")
    return v


_ARCH_LIMITS: dict[str, tuple[int, int]] = {
    "params": (1_000_000, 10**13),
    "active_params": (1_000_000, 10**13),
    "layers": (1, 1024),
    "hidden": (64, 131_072),
    "heads": (1, 1024),
    "kv_heads": (1, 1024),
    "intermediate": (64, 1_048_576),
    "vocab": (256, 4_194_304),
    "experts": (0, 4096),
    "experts_per_token": (0, 4096),
    "shared_experts": (0, 64),
    "head_dim": (8, 2048),
    "mla_kv_dim": (8, 65_536),
}
_ARCH_REQUIRED = ("layers", "hidden", "heads", "kv_heads", "intermediate", "vocab")


def parse_arch(data: Any, field_prefix: str = "model") -> ModelArch:
    if not isinstance(data, dict):
        raise EstimateRequestError(field_prefix, "must be a preset slug or an object")
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{field_prefix}.{key}"
        if key in _ARCH_LIMITS:
            try:
                v = _int_field({key: value}, key, *_ARCH_LIMITS[key], default=None)
            except EstimateRequestError as exc:
                raise EstimateRequestError(name, exc.message) from None
            if v is not None:
                values[key] = v
        elif key == "tied_embeddings":
            if not isinstance(value, bool):
                raise EstimateRequestError(name, "must be true or false")
            values[key] = value
        elif key in ("name", "slug"):
            if not isinstance(value, str) or len(value) > 200:
                raise EstimateRequestError(name, "must be a string of at most 200 characters")
            values[key] = value
        else:
            raise EstimateRequestError(name, "unknown field")
    for key in _ARCH_REQUIRED:
        if key not in values:
            raise EstimateRequestError(f"{field_prefix}.{key}", "required")
    if values["kv_heads"] > values["heads"] or values["heads"] % values["kv_heads"]:
        raise EstimateRequestError(f"{field_prefix}.kv_heads", "must divide heads")
    if "head_dim" not in values and values["hidden"] % values["heads"]:
        raise EstimateRequestError(f"{field_prefix}.head_dim", "required when heads does not divide hidden")
    experts, k = values.get("experts", 0), values.get("experts_per_token", 0)
    if experts and not 1 <= k <= experts:
        raise EstimateRequestError(
            f"{field_prefix}.experts_per_token", "must be 1 to experts for a MoE model"
        )
    if not experts and k:
        raise EstimateRequestError(f"{field_prefix}.experts", "experts_per_token given without experts")
    return ModelArch(**values)


_REQUEST_KEYS = (
    "model",
    "method",
    "precision",
    "batch",
    "seq_len",
    "new_tokens",
    "gradient_checkpointing",
    "lora_rank",
    "gpus",
    "parallel",
    "offload",
    "gpu_vram_gib",
    "runtime",
    "gpu_memory_utilization",
)


def parse_estimate_request(data: Any, presets: dict[str, ModelArch] | None = None):
    """Strictly validate an API body; returns (arch, request, gpu_vram_gib or None).

    Raises EstimateRequestError (a ValueError) with ``.field`` for unknown fields, wrong types,
    bool given for a number, NaN/inf and out-of-range values, or an unknown preset."""
    if not isinstance(data, dict):
        raise EstimateRequestError("body", "must be a JSON object")
    for key in data:
        if key not in _REQUEST_KEYS:
            raise EstimateRequestError(str(key), "unknown field")
    if "model" not in data:
        raise EstimateRequestError("model", "required")
    model = data["model"]
    if isinstance(model, str):
        presets = presets if presets is not None else load_presets()
        if model not in presets:
            raise EstimateRequestError("model", f"unknown preset {model[:80]!r}")
        arch = presets[model]
    else:
        arch = parse_arch(model)
    method = _choice(data, "method", METHODS, "inference")
    runtime = _choice(data, "runtime", RUNTIMES, None)
    default_prec = {"inference": "bf16", "full": "amp", "lora": "bf16", "qlora": "nf4"}[method]
    if runtime == "llama.cpp":
        default_prec = "Q4_K_M"
    prec_in = data.get("precision")
    if isinstance(prec_in, str) and prec_in not in PRECISIONS:
        # GGUF type names are case-insensitive (q4_k_m = Q4_K_M, f16 = F16)
        upper = {t.upper(): t for t in GGUF_TYPES}
        if prec_in.upper() in upper:
            data = dict(data, precision=upper[prec_in.upper()])
    precision = _choice(data, "precision", PRECISIONS, default_prec)
    par_in = data.get("parallel")
    if isinstance(par_in, str) and par_in in PARALLEL_ALIASES:
        data = dict(data, parallel=PARALLEL_ALIASES[par_in])
    util = data.get("gpu_memory_utilization", VLLM_GPU_MEMORY_UTILIZATION)
    if util is None:
        util = VLLM_GPU_MEMORY_UTILIZATION
    if isinstance(util, bool) or not isinstance(util, int | float) or not math.isfinite(util):
        raise EstimateRequestError("gpu_memory_utilization", "must be a finite number")
    if "gpu_memory_utilization" in data and data["gpu_memory_utilization"] is not None and runtime != "vllm":
        raise EstimateRequestError("gpu_memory_utilization", "applies to runtime 'vllm' only")
    gc = data.get("gradient_checkpointing", True)
    if not isinstance(gc, bool):
        raise EstimateRequestError("gradient_checkpointing", "must be true or false")
    vram = data.get("gpu_vram_gib")
    if vram is not None:
        if isinstance(vram, bool) or not isinstance(vram, int | float) or not math.isfinite(vram):
            raise EstimateRequestError("gpu_vram_gib", "must be a finite number")
        if not 0 < vram <= 4096:
            raise EstimateRequestError("gpu_vram_gib", "out of range (0 to 4096)")
        vram = float(vram)
    req = EstimateRequest(
        method=method,
        precision=precision,
        batch=_int_field(data, "batch", 1, 1024, 1),
        seq_len=_int_field(data, "seq_len", 1, 1_048_576, 4096),
        new_tokens=_int_field(data, "new_tokens", 0, 1_048_576, 0),
        gradient_checkpointing=gc,
        lora_rank=_int_field(data, "lora_rank", 1, 4096, 16),
        gpus=_int_field(data, "gpus", 1, 64, 1),
        parallel=_choice(data, "parallel", PARALLEL, None),
        offload=_choice(data, "offload", OFFLOAD, "none"),
        runtime=runtime,
        gpu_memory_utilization=float(util),
    )
    if req.method != "inference" and req.new_tokens:
        raise EstimateRequestError("new_tokens", "applies to inference only")
    _check_combination(req)
    return arch, req, vram


__all__ = [
    "CUDA_CONTEXT_GIB",
    "DECODE_CONSTANTS",
    "GGUF_TYPES",
    "RUNTIMES",
    "DecodeConstants",
    "decode_bandwidth_bound",
    "decode_seconds_per_token",
    "default_runtime",
    "llama_cpp_memory",
    "serving_throughput",
    "GIB",
    "Estimate",
    "EstimateRequest",
    "EstimateRequestError",
    "ModelArch",
    "Presets",
    "SpeedRange",
    "days_to_train",
    "decode_tokens_per_s",
    "estimate",
    "file_presets",
    "load_presets",
    "lora_params",
    "parse_arch",
    "parse_estimate_request",
    "prefill_tokens_per_s",
    "training_tokens_per_s",
    "weight_bytes",
    "zero3_model_states",
]

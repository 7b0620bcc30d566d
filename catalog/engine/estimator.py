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

import json
import math
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

GIB = 2**30

# Measured on H100 80GB, driver 580 / CUDA 13 / PyTorch 2.11: nvidia-smi used minus
# torch.cuda.max_memory_reserved was 0.6807 GiB in every calibration row (../shared/calibration/README.md).
CUDA_CONTEXT_GIB = 0.68

METHODS = ("inference", "full", "lora", "qlora")
PRECISIONS = ("bf16", "fp16", "int8", "nf4", "int4", "q4", "q5", "q8", "amp")
PARALLEL = ("tensor", "pipeline", "zero3", "ddp")
OFFLOAD = ("none", "optimizer", "optimizer_and_params")
GGUF = ("q4", "q5", "q8")

# llama.cpp GGUF K-quants, whole-model bits per weight (token embedding and output included), from the
# llama.cpp quantize README table for Llama-3.1-8B: Q4_K_M 4.58 GiB -> 4.89 bpw, Q5_K_M 5.33 GiB -> 5.70 bpw,
# Q8_0 = 8.5 bpw (32 int8 + one fp16 scale per block of 32).
# source: https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/README.md
GGUF_BITS_PER_WEIGHT = {"q4": 4.89, "q5": 5.70, "q8": 8.50}

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

# Decode efficiency: a good batch-1 implementation (static KV cache + CUDA graphs, llama.cpp, vLLM)
# reaches ~57 % of spec bandwidth on an H100 for 8B bf16 (measured 119 tok/s; 1B: 457 tok/s). Modelled as
# streamed bytes / (eta x bandwidth) + a fixed per-token overhead (launch/sync/sampling), which is what
# makes small models fall short of the bandwidth bound. (eta, overhead s) for expected / high / low.
DECODE_EXPECTED = (0.62, 1.1e-3)
DECODE_HIGH = (0.80, 0.5e-3)
DECODE_LOW = (0.45, 2.0e-3)
DECODE_ASSUMPTION = (
    "batch 1, bandwidth-bound: weights (active experts) + KV read once per token at 45-80 % of spec "
    "bandwidth plus 0.5-2 ms per-token overhead, as a good implementation (static KV cache + CUDA graphs, "
    "llama.cpp, vLLM) reaches; plain eager transformers is 2-4x slower"
)
# Model FLOPs utilisation for prefill and training (range); 6*N*tokens training FLOPs (Kaplan et al.
# 2020, https://arxiv.org/abs/2001.08361), 8*N with activation recomputation.
MFU_RANGE = (0.30, 0.50)


class EstimateRequestError(ValueError):
    """Invalid estimate input; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


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
    parallel: str | None = None  # inference: tensor (default) | pipeline; training: zero3 (default) | ddp
    offload: str = "none"  # training with zero3: none | optimizer | optimizer_and_params


@dataclass(frozen=True)
class SpeedRange:
    low: float
    expected: float
    high: float
    unit: str
    assumption: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "low": round(self.low, 2),
            "expected": round(self.expected, 2),
            "high": round(self.high, 2),
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "device_gib": round(self.device_gib, 3),
            "breakdown_gib": {k: round(v, 3) for k, v in self.breakdown_gib.items()},
            "ram_gib": round(self.ram_gib, 3),
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
        return GGUF_BITS_PER_WEIGHT[precision] / 8 * p
    raise ValueError(precision)


def streamed_bytes_per_token(arch: ModelArch, precision: str) -> float:
    """Weight bytes a decode step reads: the active Linear weights + the lm_head (embedding = row lookup)."""
    sixteen_bit = 2.0 * (arch.embed_params + arch.norm_params)
    if precision in GGUF:
        per_linear = head = GGUF_BITS_PER_WEIGHT[precision] / 8
    elif precision in ("bf16", "fp16", "amp"):
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
    parallel = req.parallel or "tensor"
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


@lru_cache(maxsize=4096)
def _estimate_cached(arch: ModelArch, req: EstimateRequest, gpu_vram_gib: float | None) -> Estimate:
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
        gpus=req.gpus,
        params_total=arch.total_params,
        params_active=arch.total_active_params,
        trainable_params=trainable,
        peak_phase=name,
        kv_cache_gib=kv_final / GIB,
        fits=fits,
        gpu_vram_gib=gpu_vram_gib,
        notes=tuple(notes),
    )


def estimate(arch: ModelArch, req: EstimateRequest, gpu_vram_gib: float | None = None) -> Estimate:
    """Device memory per GPU (GiB, nvidia-smi view) with breakdown, system RAM for offload, fit."""
    _check_combination(req)
    return _estimate_cached(arch, req, None if gpu_vram_gib is None else float(gpu_vram_gib))


def _check_combination(req: EstimateRequest) -> None:
    m, p = req.method, req.precision
    allowed = {
        "inference": ("bf16", "fp16", "int8", "nf4", "int4", "q4", "q5", "q8"),
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
    if req.parallel is not None:
        ok = ("tensor", "pipeline") if m == "inference" else ("zero3", "ddp")
        if req.parallel not in ok:
            raise EstimateRequestError(
                "parallel", f"{req.parallel!r} does not go with {m}; use {' or '.join(ok)}"
            )
    if req.offload != "none":
        if m == "inference":
            raise EstimateRequestError("offload", "offload applies to training (ZeRO-3) only")
        if (req.parallel or "zero3") != "zero3":
            raise EstimateRequestError("offload", "CPU offload needs parallel 'zero3'")


# ---------------------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------------------
def decode_tokens_per_s(
    arch: ModelArch,
    precision: str,
    bandwidth_gbps: float,
    n_gpus: int = 1,
    link_gbps: float | None = None,
    context: int = 0,
    batch: int = 1,
    parallel: str = "tensor",
) -> SpeedRange:
    """Batch decode speed (tokens/s per sequence), bounded by memory bandwidth.

    Per token each GPU reads its share of the weights and KV cache; tensor parallel adds two all-reduces
    of the hidden state per layer over ``link_gbps`` (GB/s one direction) with a latency per collective;
    pipeline reads the stages one after another (no speed-up at batch 1).
    """
    weights = streamed_bytes_per_token(arch, "bf16" if precision == "amp" else precision)
    kv = arch.kv_bytes_per_token() * context * batch
    n = max(n_gpus, 1)
    comm = (0.0, 0.0, 0.0)
    if n > 1 and parallel == "tensor":
        per_gpu = (weights + kv) / n
        link = link_gbps or 16.0
        msg = 2.0 * arch.hidden * batch * 2 * (n - 1) / n
        # 2 all-reduces per layer; latency per collective over PCIe 15-40 us (NCCL ring, small messages)
        comm = tuple(arch.layers * 2 * (lat + msg / (link * 1e9)) for lat in (25e-6, 15e-6, 40e-6))
    elif n > 1:
        per_gpu = weights + kv
        comm = tuple(n * lat for lat in (50e-6, 20e-6, 100e-6))
    else:
        per_gpu = weights + kv
    bw = bandwidth_gbps * 1e9
    results = []
    for (eta, overhead), c in zip((DECODE_EXPECTED, DECODE_HIGH, DECODE_LOW), comm, strict=True):
        seconds = per_gpu / (eta * bw) + overhead + c
        results.append(1.0 / seconds)
    expected, high, low = results
    return SpeedRange(low=low, expected=expected, high=high, unit="tokens/s", assumption=DECODE_ASSUMPTION)


def prefill_tokens_per_s(
    arch: ModelArch, bf16_tflops: float, n_gpus: int = 1, context: int = 2048
) -> SpeedRange:
    """Prefill (prompt processing) speed from dense BF16 TFLOPS: 2 x active params FLOPs per token plus
    attention (4 x layers x context x q_dim / 2 for causal)."""
    flops_tok = 2.0 * arch.total_active_params + 2.0 * arch.layers * context * arch.q_dim
    peak = bf16_tflops * 1e12 * max(n_gpus, 1)
    lo, hi = MFU_RANGE
    return SpeedRange(
        low=lo * peak / flops_tok,
        expected=(lo + hi) / 2 * peak / flops_tok,
        high=hi * peak / flops_tok,
        unit="tokens/s",
        assumption=f"{int(lo * 100)}-{int(hi * 100)} % of dense BF16 TFLOPS (MFU), 2N FLOPs per token + attention",
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
    """Model presets by slug from catalog/data/model_presets.json."""
    return dict(_load_presets(str(path or PRESETS_PATH)))


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
    default_prec = {"inference": "bf16", "full": "amp", "lora": "bf16", "qlora": "nf4"}[method]
    precision = _choice(data, "precision", PRECISIONS, default_prec)
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
    )
    if req.method != "inference" and req.new_tokens:
        raise EstimateRequestError("new_tokens", "applies to inference only")
    _check_combination(req)
    return arch, req, vram


__all__ = [
    "CUDA_CONTEXT_GIB",
    "GIB",
    "Estimate",
    "EstimateRequest",
    "EstimateRequestError",
    "ModelArch",
    "SpeedRange",
    "days_to_train",
    "decode_tokens_per_s",
    "estimate",
    "load_presets",
    "lora_params",
    "parse_arch",
    "parse_estimate_request",
    "prefill_tokens_per_s",
    "training_tokens_per_s",
    "weight_bytes",
    "zero3_model_states",
]

"""Workload estimator: accuracy against real H100 runs, mechanisms, presets, speed, strict parsing.

Calibration rows: tests/engine/data/h100_measurements.jsonl (copied from ../shared/calibration/, measured on
one H100 80GB with PyTorch 2.11, transformers 5.17, peft 0.21, bitsandbytes 0.50.2; method in that README).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

import pytest

from catalog.engine.estimator import (
    GIB,
    EstimateRequest,
    EstimateRequestError,
    ModelArch,
    days_to_train,
    decode_tokens_per_s,
    estimate,
    load_presets,
    lora_params,
    parse_estimate_request,
    prefill_tokens_per_s,
    training_tokens_per_s,
    weight_bytes,
    zero3_model_states,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.estimator_table import SHAPES, memory_rows, request_for, speed_rows  # noqa: E402

DATA = Path(__file__).parent / "data" / "h100_measurements.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
MEMORY_ROWS = [r for r in ROWS if "device_used_gib" in r]

RTX4090_BW = 1008.0  # GB/s, NVIDIA RTX 4090 spec sheet (21 Gbps x 384-bit)
RTX4090_TFLOPS = 165.2  # dense BF16 with FP32 accumulate (Ada whitepaper; DESIGN.md "Physics")
H100_BW = 3350.0


def _id(row: dict) -> str:
    return "-".join(
        str(row.get(k)) for k in ("kind", "model", "precision", "quant", "seq", "ckpt") if k in row
    )


# ---------------------------------------------------------------------------------------------------------
# Calibration: every measured row within 15 %, median under 8 %
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", MEMORY_ROWS, ids=_id)
def test_calibration_row_within_15_percent(row):
    est = estimate(SHAPES[row["model"]], request_for(row))
    err = (est.device_gib - row["device_used_gib"]) / row["device_used_gib"]
    assert abs(err) < 0.15, (
        f"{_id(row)}: predicted {est.device_gib:.2f} GiB, measured {row['device_used_gib']:.2f}"
    )


def test_calibration_median_error_under_8_percent():
    rows = memory_rows(DATA)
    assert len(rows) == len(MEMORY_ROWS) >= 9
    median = statistics.median(abs(r["error_pct"]) for r in rows)
    assert median < 8.0


def test_calibration_weights_match_measured_weights():
    """Weights alone (what `weights_gib` measured right after loading) within 1 %: bf16, nf4, and the
    QLoRA base after prepare_model_for_kbit_training (embeddings, lm_head, norms upcast to fp32)."""
    for row in MEMORY_ROWS:
        arch = SHAPES[row["model"]]
        if row["kind"] == "infer":
            predicted = weight_bytes(arch, "bf16") / GIB
        elif row["kind"] == "qinfer":
            predicted = weight_bytes(arch, row["quant"]) / GIB
        elif row["kind"] == "qlora":
            base = weight_bytes(arch, "nf4") + 2.0 * (arch.embed_params + arch.norm_params)
            predicted = (base + 4.0 * lora_params(arch, row["rank"])) / GIB
        elif row["kind"] == "lora":
            predicted = (weight_bytes(arch, "bf16") + 4.0 * lora_params(arch, row["rank"])) / GIB
        else:
            continue
        assert predicted == pytest.approx(row["weights_gib"], rel=0.01), _id(row)


def test_lora_trainable_parameter_count_is_exact():
    for row in ROWS:
        if row["kind"] in ("lora", "qlora"):
            assert lora_params(SHAPES[row["model"]], row["rank"]) == row["trainable"]


def test_params_from_shape_match_measured_counts():
    for row in MEMORY_ROWS:
        if row.get("params"):
            assert SHAPES[row["model"]].total_params == pytest.approx(row["params"], rel=0.002)


def test_breakdown_sums_to_device_and_names_the_mechanisms():
    arch = SHAPES["llama3.1-8b"]
    est = estimate(arch, EstimateRequest(method="inference", seq_len=8192, new_tokens=32))
    assert sum(est.breakdown_gib.values()) == pytest.approx(est.device_gib)
    for key in ("cuda_context", "weights", "kv_cache", "activations", "allocator_reserve"):
        assert key in est.breakdown_gib
    full = estimate(SHAPES["llama3.2-1b"], EstimateRequest(method="full", precision="amp", seq_len=2048))
    for key in ("weights", "optimizer", "gradients", "optimizer_step_temp", "allocator_reserve"):
        assert key in full.breakdown_gib
    assert full.peak_phase == "optimizer_step"


# ---------------------------------------------------------------------------------------------------------
# Mechanisms
# ---------------------------------------------------------------------------------------------------------
def test_kv_cache_uses_real_kv_heads():
    # Llama 3.1 8B: 32 layers x 8 kv heads x 128 x (K+V) x 2 bytes = 128 KiB per token; Llama 2 7B (MHA) 512 KiB
    assert SHAPES["llama3.1-8b"].kv_bytes_per_token() == 128 * 1024
    assert SHAPES["llama2-7b"].kv_bytes_per_token() == 512 * 1024
    est = estimate(SHAPES["llama3.1-8b"], EstimateRequest(seq_len=32768, new_tokens=0))
    assert est.breakdown_gib["kv_cache"] == pytest.approx(4.0, rel=1e-6)


def test_kv_cache_scales_with_batch_times_prompt_plus_new_tokens():
    arch = SHAPES["llama3.1-8b"]
    a = estimate(arch, EstimateRequest(batch=1, seq_len=4096, new_tokens=1024))
    b = estimate(arch, EstimateRequest(batch=4, seq_len=4096, new_tokens=1024))
    kv = arch.kv_bytes_per_token() * 4 * (4096 + 1024) / GIB
    assert b.kv_cache_gib == pytest.approx(kv)
    assert a.kv_cache_gib == pytest.approx(kv / 4)
    assert b.device_gib > a.device_gib + 3 * kv / 4


def test_generation_logits_are_last_token_only():
    est = estimate(SHAPES["qwen2.5-32b"], EstimateRequest(seq_len=4096, new_tokens=32))
    assert est.breakdown_gib["logits"] < 0.01  # not 4096 x 152064 x 4 bytes = 2.3 GiB


def test_training_logits_are_fp32_over_the_vocabulary():
    small_vocab = ModelArch(16, 2048, 32, 8, 8192, 32000, True)
    big_vocab = ModelArch(16, 2048, 32, 8, 8192, 128256, True)
    req = EstimateRequest(method="lora", seq_len=2048)
    a, b = estimate(small_vocab, req), estimate(big_vocab, req)
    # 3 fp32 [tokens x vocab] tensors live at the start of backward
    assert b.breakdown_gib["logits"] - a.breakdown_gib["logits"] == pytest.approx(
        3 * 4 * 2048 * (128256 - 32000) / GIB, rel=0.01
    )


def test_amp_costs_about_twice_pure_bf16_and_16_bytes_per_param_plus_temp():
    arch = SHAPES["llama3.2-3b"]
    amp = estimate(arch, EstimateRequest(method="full", precision="amp", seq_len=1024))
    pure = estimate(arch, EstimateRequest(method="full", precision="bf16", seq_len=1024))
    p = arch.total_params
    model_states = sum(amp.breakdown_gib[k] for k in ("weights", "optimizer", "gradients"))
    assert model_states == pytest.approx(16 * p / GIB, rel=1e-6)
    assert amp.breakdown_gib["optimizer_step_temp"] == pytest.approx(4 * p / GIB)  # foreach AdamW sqrt(v)
    assert 1.8 < amp.device_gib / pure.device_gib < 2.1


def test_gradient_checkpointing_saves_activation_memory():
    arch = SHAPES["llama3.1-8b"]
    on = estimate(arch, EstimateRequest(method="lora", seq_len=4096, gradient_checkpointing=True))
    off = estimate(arch, EstimateRequest(method="lora", seq_len=4096, gradient_checkpointing=False))
    assert off.breakdown_gib["activations"] > 10 * on.breakdown_gib["activations"]
    # with checkpointing only one hidden state per layer is kept: 32 x 4096 tokens x 4096 x 2 bytes
    assert on.breakdown_gib["activations"] >= 32 * 4096 * 4096 * 2 / GIB


def test_nf4_layout_is_4_bits_plus_fp32_absmax_per_64_on_linear_layers_only():
    arch = SHAPES["llama3.1-8b"]
    linear = arch.linear_params
    expected = 0.5 * linear + 4 * linear / 64 + 2 * (arch.embed_params + arch.norm_params)
    assert weight_bytes(arch, "nf4") == pytest.approx(expected)
    assert weight_bytes(arch, "int8") < 0.6 * weight_bytes(arch, "bf16")


def test_moe_weights_count_all_experts_speed_uses_active():
    presets = load_presets()
    mixtral = presets["mixtral-8x7b"]
    assert mixtral.total_params == pytest.approx(46.7e9, rel=0.01)  # Mistral AI: 46.7B total
    assert mixtral.total_active_params == pytest.approx(12.9e9, rel=0.01)  # 12.9B used per token
    dense_like = presets["llama-2-70b"]
    assert weight_bytes(mixtral, "q4") < weight_bytes(dense_like, "q4")
    fast = decode_tokens_per_s(mixtral, "q4", RTX4090_BW, n_gpus=2, link_gbps=16)
    slow = decode_tokens_per_s(dense_like, "q4", RTX4090_BW, n_gpus=2, link_gbps=16)
    assert fast.expected > 2 * slow.expected


def test_tensor_parallel_splits_weights_and_kv_heads():
    arch = load_presets()["llama-3.1-70b"]
    one = estimate(arch, EstimateRequest(precision="nf4", seq_len=4096))
    two = estimate(arch, EstimateRequest(precision="nf4", seq_len=4096, gpus=2, parallel="tensor"))
    assert two.breakdown_gib["weights"] == pytest.approx(one.breakdown_gib["weights"] / 2)
    assert two.breakdown_gib["kv_cache"] == pytest.approx(one.breakdown_gib["kv_cache"] / 2)
    pipe = estimate(arch, EstimateRequest(precision="nf4", seq_len=4096, gpus=2, parallel="pipeline"))
    assert pipe.device_gib > two.device_gib * 0.9


def test_zero3_follows_deepspeed_published_formulas():
    p, largest = 10_000_000_000, 500_000_000
    # deepspeed.runtime.zero.stage3.estimate_zero3_model_states_mem_needs (zero_init=True)
    assert zero3_model_states(p, largest, 4, "none")["gpu_bytes"] == 4 * largest + 18 * p / 4
    assert zero3_model_states(p, largest, 4, "optimizer") == {
        "gpu_bytes": 4 * largest + 2 * p / 4,
        "cpu_bytes": p * 16 * 1.5,
    }
    assert zero3_model_states(p, largest, 4, "optimizer_and_params") == {
        "gpu_bytes": 4 * largest,
        "cpu_bytes": p * 18 * 1.5,
    }


def test_offload_moves_memory_to_system_ram():
    arch = load_presets()["codellama-34b"]
    base = dict(method="full", precision="amp", seq_len=2048, gpus=2, parallel="zero3")
    sharded = estimate(arch, EstimateRequest(**base))
    opt = estimate(arch, EstimateRequest(**base, offload="optimizer"))
    both = estimate(arch, EstimateRequest(**base, offload="optimizer_and_params"))
    assert sharded.ram_gib == 0
    assert sharded.device_gib > opt.device_gib > both.device_gib
    assert both.ram_gib == pytest.approx(18 * 1.5 * arch.total_params / GIB)


def test_single_gpu_zero3_offload_zero_infinity():
    arch = load_presets()["llama-3.1-8b"]
    plain = estimate(arch, EstimateRequest(method="full", precision="amp", seq_len=2048))
    off = estimate(
        arch,
        EstimateRequest(
            method="full", precision="amp", seq_len=2048, parallel="zero3", offload="optimizer_and_params"
        ),
    )
    assert plain.ram_gib == 0 and plain.device_gib > 100
    assert off.device_gib < 24 and off.ram_gib == pytest.approx(18 * 1.5 * arch.total_params / GIB)


def test_fits_flag():
    arch = SHAPES["llama3.1-8b"]
    assert estimate(arch, EstimateRequest(seq_len=4096), gpu_vram_gib=24).fits is True
    assert estimate(arch, EstimateRequest(seq_len=4096), gpu_vram_gib=16).fits is False
    assert estimate(arch, EstimateRequest(seq_len=4096)).fits is None


# ---------------------------------------------------------------------------------------------------------
# LLaMA-Factory's published table (README "Hardware Requirement", said to be at sequence length 1024).
# We agree on LoRA and QLoRA within ~30 %. We are higher on full fine-tuning because we count the
# foreach-AdamW temporary (+4 B/param fp32, +2 B/param bf16), autocast's bf16 weight copy outside the
# step, the fp32 logits chain and the allocator reserve; LLaMA-Factory's "18x" rule is 16 B/param plus
# a margin, and its cells do not follow its own rules (see ../shared/calibration/llama-factory-table.md).
# ---------------------------------------------------------------------------------------------------------
LF_TABLE = {  # model preset: (full amp, full bf16, lora, qlora 8-bit, qlora 4-bit) in GB
    "llama-2-7b": (120, 60, 16, 10, 6),
    "qwen2.5-14b": (240, 120, 32, 20, 12),
    "llama-3.1-70b": (1200, 600, 160, 80, 48),
}


@pytest.mark.parametrize("slug", sorted(LF_TABLE))
def test_against_llama_factory_table(slug):
    arch = load_presets()[slug]
    amp, pure, lora, q8, q4 = LF_TABLE[slug]

    def gb(method, precision):
        req = EstimateRequest(method=method, precision=precision, seq_len=1024)
        return estimate(arch, req).device_gib * GIB / 1e9

    # full fine-tuning: we are above their figure, by at most a third
    assert amp <= gb("full", "amp") <= amp * 1.33
    assert pure <= gb("full", "bf16") <= pure * 1.33
    # LoRA / QLoRA: close to their figures. Qwen's 152k vocabulary costs more than they allow for
    # (fp32 embeddings after prepare_model_for_kbit_training, fp32 logits).
    tolerance = 0.6 if slug.startswith("qwen") else 0.3
    for ours, theirs in ((gb("lora", "bf16"), lora), (gb("qlora", "int8"), q8), (gb("qlora", "nf4"), q4)):
        assert abs(ours - theirs) / theirs < tolerance, (ours, theirs)


# ---------------------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------------------
def test_decode_range_contains_measured_h100_rows():
    rows = speed_rows(DATA)
    assert len(rows) == 2
    for row in rows:
        assert row["in_range"], row
        assert row["low"] < row["expected"] < row["high"]


def test_decode_expected_is_close_to_measured():
    for row in ROWS:
        if row["kind"] == "decode_graph":
            rng = decode_tokens_per_s(SHAPES[row["model"]], "bf16", H100_BW, context=512)
            assert rng.expected == pytest.approx(row["decode_tok_s"], rel=0.15)
            assert "bandwidth" in rng.assumption


def test_decode_slows_with_context_and_tensor_split_pays_for_links():
    arch = SHAPES["llama3.1-8b"]
    short = decode_tokens_per_s(arch, "bf16", RTX4090_BW, context=512)
    long = decode_tokens_per_s(arch, "bf16", RTX4090_BW, context=65536)
    assert long.expected < short.expected
    fast_link = decode_tokens_per_s(arch, "bf16", RTX4090_BW, n_gpus=2, link_gbps=31.5, parallel="tensor")
    slow_link = decode_tokens_per_s(arch, "bf16", RTX4090_BW, n_gpus=2, link_gbps=0.985, parallel="tensor")
    assert fast_link.expected > short.expected
    assert slow_link.expected < fast_link.expected


def test_training_throughput_and_days():
    arch = load_presets()["llama-3.2-1b"]
    tps = training_tokens_per_s(arch, RTX4090_TFLOPS, n_gpus=4)
    # 6 x N FLOPs per token at 30-50 % MFU of 4 x 165 TFLOPS
    assert tps.low == pytest.approx(0.3 * 4 * RTX4090_TFLOPS * 1e12 / (6 * arch.total_params))
    days = days_to_train(arch, 20 * arch.total_params, RTX4090_TFLOPS, n_gpus=4)
    assert days.low < days.expected < days.high
    pre = prefill_tokens_per_s(arch, RTX4090_TFLOPS)
    assert pre.expected > 10_000


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
def test_presets_load_with_sources_and_sane_shapes():
    presets = load_presets()
    assert len(presets) >= 25
    raw = json.loads((ROOT / "catalog" / "data" / "model_presets.json").read_text())
    for entry in raw:
        assert entry["source"].startswith("https://huggingface.co/") and entry["source"].endswith(
            "config.json"
        )
    for slug, arch in presets.items():
        assert arch.slug == slug and arch.name
        assert arch.heads % arch.kv_heads == 0
        assert arch.total_active_params <= arch.total_params
        if arch.params and not arch.mla_kv_dim:
            # a published count agrees with the shape within 1 %
            shape = arch.shape_params + arch.norm_params
            assert shape == pytest.approx(arch.params, rel=0.01), slug
    for slug in (
        "llama-3.1-405b",
        "qwen3-30b-a3b",
        "qwen3-235b-a22b",
        "mixtral-8x22b",
        "deepseek-v3",
        "phi-4",
    ):
        assert slug in presets
    assert presets["qwen3-30b-a3b"].total_params == pytest.approx(30.5e9, rel=0.01)  # model card
    assert presets["qwen3-30b-a3b"].total_active_params == pytest.approx(3.3e9, rel=0.03)
    assert presets["qwen3-235b-a22b"].total_active_params == pytest.approx(22e9, rel=0.03)


# ---------------------------------------------------------------------------------------------------------
# Seeds' claims
# ---------------------------------------------------------------------------------------------------------
def test_seed_48gb_runs_70b_class_at_4_bit():
    presets = load_presets()
    for slug in ("llama-3.1-70b", "qwen2.5-72b"):
        for prec in ("q4", "nf4"):
            est = estimate(
                presets[slug], EstimateRequest(precision=prec, seq_len=4096, new_tokens=256, gpus=2), 24
            )
            assert est.fits, (slug, prec, est.device_gib)
        assert not estimate(presets[slug], EstimateRequest(precision="q4", seq_len=4096), 24).fits


def test_seed_24gb_runs_13b_at_decent_speed_and_lora_is_tight():
    presets = load_presets()
    l13 = presets["llama-2-13b"]
    assert not estimate(l13, EstimateRequest(precision="bf16", seq_len=4096), 24).fits  # 26 GB of weights
    for prec in ("int8", "nf4", "q4"):
        assert estimate(l13, EstimateRequest(precision=prec, seq_len=4096, new_tokens=256), 24).fits
    assert decode_tokens_per_s(l13, "q4", RTX4090_BW, context=4096).expected > 30
    lora8 = estimate(presets["llama-3.1-8b"], EstimateRequest(method="lora", seq_len=2048), 24)
    assert lora8.fits and lora8.device_gib > 0.8 * 24  # fits, with under 20 % headroom
    assert not estimate(l13, EstimateRequest(method="lora", seq_len=2048), 24).fits
    assert estimate(l13, EstimateRequest(method="qlora", precision="nf4", seq_len=2048), 24).fits


def test_seed_zero3_offload_lets_two_24gb_cards_fine_tune_34b():
    arch = load_presets()["codellama-34b"]
    common = dict(seq_len=2048, gpus=2, parallel="zero3", offload="optimizer_and_params")
    lora = estimate(arch, EstimateRequest(method="lora", **common), 24)
    assert lora.fits and 60 < lora.ram_gib < 128  # bf16 base in RAM with DeepSpeed's 1.5x buffer
    full = estimate(arch, EstimateRequest(method="full", precision="amp", **common), 24)
    assert full.fits and full.ram_gib > 500  # full fine-tuning needs ~0.85 TiB of RAM: "given enough RAM"
    assert not estimate(arch, EstimateRequest(method="lora", seq_len=2048, gpus=2, parallel="zero3"), 24).fits


def test_seed_4x4090_trains_small_models_from_scratch():
    arch = load_presets()["llama-3.2-1b"]
    est = estimate(arch, EstimateRequest(method="full", precision="amp", seq_len=2048, gpus=4), 24)
    assert est.fits
    days = days_to_train(arch, 20 * arch.total_params, RTX4090_TFLOPS, n_gpus=4, gradient_checkpointing=True)
    assert days.expected < 21  # Chinchilla-optimal 1B run in about two weeks
    small = load_presets()["qwen2.5-0.5b"]
    assert days_to_train(small, 20 * small.total_params, RTX4090_TFLOPS, n_gpus=4).expected < 3


# ---------------------------------------------------------------------------------------------------------
# Strict parsing of the API body
# ---------------------------------------------------------------------------------------------------------
def test_parse_preset_and_inline_arch():
    arch, req, vram = parse_estimate_request(
        {"model": "llama-3.1-8b", "method": "qlora", "precision": "nf4", "seq_len": 2048, "lora_rank": 8}
    )
    assert arch.slug == "llama-3.1-8b" and req.method == "qlora" and req.lora_rank == 8 and vram is None
    inline = {
        "params": 46_700_000_000,
        "layers": 32,
        "hidden": 4096,
        "heads": 32,
        "kv_heads": 8,
        "intermediate": 14336,
        "vocab": 32000,
        "tied_embeddings": False,
        "experts": 8,
        "experts_per_token": 2,
    }
    arch, req, _ = parse_estimate_request({"model": inline, "gpus": 2, "new_tokens": 32})
    assert arch.total_params == 46_700_000_000 and arch.is_moe and req.gpus == 2 and req.new_tokens == 32
    assert estimate(arch, req).device_gib > 0


@pytest.mark.parametrize(
    "body,field",
    [
        ({"model": "llama-3.1-8b", "colour": "red"}, "colour"),
        ({"model": "no-such-model"}, "model"),
        ({}, "model"),
        ({"model": 42}, "model"),
        ({"model": "llama-3.1-8b", "batch": True}, "batch"),
        ({"model": "llama-3.1-8b", "batch": "4"}, "batch"),
        ({"model": "llama-3.1-8b", "batch": 0}, "batch"),
        ({"model": "llama-3.1-8b", "seq_len": 1.5}, "seq_len"),
        ({"model": "llama-3.1-8b", "seq_len": math.nan}, "seq_len"),
        ({"model": "llama-3.1-8b", "seq_len": math.inf}, "seq_len"),
        ({"model": "llama-3.1-8b", "seq_len": 10**9}, "seq_len"),
        ({"model": "llama-3.1-8b", "gpus": 65}, "gpus"),
        ({"model": "llama-3.1-8b", "method": "dpo"}, "method"),
        ({"model": "llama-3.1-8b", "precision": "fp8"}, "precision"),
        ({"model": "llama-3.1-8b", "method": "inference", "precision": "amp"}, "precision"),
        ({"model": "llama-3.1-8b", "method": "qlora", "precision": "bf16"}, "precision"),
        ({"model": "llama-3.1-8b", "gradient_checkpointing": 1}, "gradient_checkpointing"),
        ({"model": "llama-3.1-8b", "method": "full", "new_tokens": 32}, "new_tokens"),
        ({"model": "llama-3.1-8b", "method": "inference", "offload": "optimizer"}, "offload"),
        ({"model": "llama-3.1-8b", "method": "full", "parallel": "tensor"}, "parallel"),
        ({"model": "llama-3.1-8b", "gpu_vram_gib": math.inf}, "gpu_vram_gib"),
        (
            {"model": {"layers": 2, "hidden": 64, "heads": 2, "kv_heads": 2, "intermediate": 128}},
            "model.vocab",
        ),
        (
            {
                "model": {
                    "layers": 2,
                    "hidden": 64,
                    "heads": 2,
                    "kv_heads": 2,
                    "intermediate": 128,
                    "vocab": 300,
                    "colour": 1,
                }
            },
            "model.colour",
        ),
        (
            {
                "model": {
                    "layers": 2,
                    "hidden": 64,
                    "heads": 4,
                    "kv_heads": 3,
                    "intermediate": 128,
                    "vocab": 300,
                }
            },
            "model.kv_heads",
        ),
        (
            {
                "model": {
                    "layers": True,
                    "hidden": 64,
                    "heads": 2,
                    "kv_heads": 2,
                    "intermediate": 128,
                    "vocab": 300,
                }
            },
            "model.layers",
        ),
        (
            {
                "model": {
                    "layers": 2,
                    "hidden": 64,
                    "heads": 2,
                    "kv_heads": 2,
                    "intermediate": 128,
                    "vocab": 300,
                    "experts": 8,
                }
            },
            "model.experts_per_token",
        ),
        ("not an object", "body"),
    ],
)
def test_parse_rejects_bad_input_naming_the_field(body, field):
    with pytest.raises(EstimateRequestError) as exc:
        parse_estimate_request(body)
    assert exc.value.field == field
    assert isinstance(exc.value, ValueError)


def test_estimate_rejects_incompatible_method_and_precision():
    with pytest.raises(EstimateRequestError) as exc:
        estimate(SHAPES["llama3.1-8b"], EstimateRequest(method="lora", precision="nf4"))
    assert exc.value.field == "precision"


def test_as_dict_is_json_ready():
    est = estimate(SHAPES["llama3.1-8b"], EstimateRequest(seq_len=4096), 24)
    data = json.loads(json.dumps(est.as_dict()))
    assert data["fits"] is True and data["breakdown_gib"]["weights"] == pytest.approx(14.958, abs=0.001)

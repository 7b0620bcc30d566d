"""/plan/: pick a model and a method; see the memory breakdown, which GPUs (how many) and which example
builds fit, and how fast."""

from dataclasses import replace

from django import forms
from django.utils.html import format_html, format_html_join

from builds import selectors
from builds.configurator.state import state_from_build
from builds.models import Build, Visibility
from builds.reports import report_for
from catalog.engine import estimator, workload
from catalog.models import Gpu, ModelPreset
from catalog.workloads import presets

GPU_COUNTS = (1, 2, 4, 8)
GIB_PER_GB = 1e9 / 2**30


# The workload choices of the forms that take one (/plan/, /recommend/): the engine's names, in words.
METHOD_CHOICES = [
    ("inference", "Inference"),
    ("lora", "LoRA"),
    ("qlora", "QLoRA"),
    ("full", "Full fine-tuning"),
]
RUNTIME_LABELS = {
    "llama.cpp": "llama.cpp",
    "vllm": "vLLM",
    "transformers": "transformers",
    "hf": "HF Trainer + peft",
    "fsdp_qlora": "FSDP + QLoRA",
}


def runtime_choices(runtimes, default_label: str) -> list[tuple[str, str]]:
    return [("", default_label)] + [(r, RUNTIME_LABELS[r]) for r in runtimes]


class PlanForm(forms.Form):
    model = forms.ChoiceField(choices=())
    method = forms.ChoiceField(choices=METHOD_CHOICES)
    precision = forms.ChoiceField(
        choices=[
            (p, p)
            for p in ("bf16", "fp16", "int8", "nf4", "int4", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16", "amp")
        ],
        help_text="Inference: bf16, int8, nf4, int4 or a GGUF type (Q4_K_M ... F16, llama.cpp). "
        "Full fine-tuning: amp or bf16. QLoRA uses nf4.",
    )
    runtime = forms.ChoiceField(
        required=False,
        choices=runtime_choices(estimator.RUNTIMES, "usual for the precision"),
        help_text="GGUF types run in llama.cpp; bf16/int8/nf4 default to transformers (pick vLLM for serving); "
        "training defaults to HF Trainer + peft.",
    )
    seq_len = forms.IntegerField(min_value=128, max_value=131072, initial=4096, label="Context (tokens)")
    batch = forms.IntegerField(min_value=1, max_value=256, initial=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = list(ModelPreset.objects.values_list("slug", "name"))

    def clean(self):
        data = super().clean()
        method, precision = data.get("method"), data.get("precision")
        if method == "qlora":
            data["precision"] = "nf4"
        elif method == "lora" and precision not in ("bf16",):
            data["precision"] = "bf16"
        elif method == "full" and precision not in ("amp", "bf16"):
            self.add_error("precision", "full fine-tuning takes amp or bf16")
        elif method == "inference" and precision == "amp":
            self.add_error(
                "precision", "amp is a training precision; pick bf16 or a quantization for inference"
            )
        return data


# The memory breakdown's parts as people say them (catalog/engine/estimator.py names them in code).
BREAKDOWN_LABELS = {
    "weights": "Model weights",
    "kv_cache": "KV cache",
    "activations": "Activations",
    "logits": "Logits (fp32)",
    "optimizer": "Optimizer states",
    "gradients": "Gradients",
    "optimizer_step_temp": "Optimizer step (temporary)",
    "lora": "LoRA adapters, their gradients and optimizer",
    "autocast_adapter_dtype": "Adapter copies (autocast)",
    "autocast_copy": "Autocast weight copies",
    "gathered": "Layer gathered for compute (FSDP)",
    "compute_buffer": "Compute buffer (llama.cpp)",
    "cuda_graphs": "CUDA graphs",
    "cuda_context": "CUDA context",
    "allocator_reserve": "Allocator reserve (PyTorch caching)",
}


def breakdown_label(key: str) -> str:
    return BREAKDOWN_LABELS.get(key, key.replace("_", " ").capitalize())


def breakdown_items(breakdown: dict) -> list[dict]:
    """The breakdown, largest first, with its human label and its colour (the bar and the legend agree)."""
    ordered = sorted(breakdown.items(), key=lambda kv: -kv[1])
    return [
        {"key": key, "label": breakdown_label(key), "gib": gib, "series": i % 6}
        for i, (key, gib) in enumerate(ordered)
    ]


def breakdown_svg(items: list[dict]) -> str:
    """The stacked bar; its legend is the HTML list beside it (complete, and readable on a phone)."""
    total = sum(item["gib"] for item in items) or 1
    x = 0.0
    pieces = []
    for item in items:
        width = 560 * item["gib"] / total
        pieces.append((f"{x:.1f}", f"{width:.1f}", item["series"], item["label"], f"{item['gib']:.2f}"))
        x += width
    bars = format_html_join(
        "",
        '<rect x="{}" y="4" width="{}" height="26" class="svg-series-{}"><title>{}: {} GiB</title></rect>',
        pieces,
    )
    return format_html(
        '<svg viewBox="0 0 560 34" role="img" aria-label="Memory per GPU by component (GiB); legend below" '
        'class="diagram">{}</svg>',
        bars,
    )


def gpu_fits(arch, request: estimator.EstimateRequest, gpus) -> list[dict]:
    """Each catalogue GPU at the fewest of GPU_COUNTS cards that hold the workload, planned as a rig's
    workload table plans it (catalog.engine.workload.plan_on): without offload where some count allows it,
    else with CPU offload (its RAM need said). System RAM is not known here, so offload is not ruled out."""
    rows = []
    for gpu in gpus:
        plain = offload = None
        for count in GPU_COUNTS:
            try:
                row = workload.plan_on(
                    arch,
                    request,
                    count=count,
                    vram_gib=gpu.vram_gb,  # a card's "GB" are GiB to nvidia-smi (catalog/engine/workload.py)
                    bandwidth_gbps=gpu.memory_bandwidth_gbps,
                    bf16_tflops=gpu.bf16_tflops,
                )
            except ValueError:
                break
            if row["verdict"] == workload.FITS:
                plain = (count, row)
                break
            if row["verdict"] == workload.FITS_WITH_OFFLOAD and offload is None:
                offload = (count, row)
        chosen = plain or offload
        if chosen is None:
            continue
        count, row = chosen
        used = row["gpus_used"] or count
        rows.append(
            row
            | {
                "gpu": gpu,
                "count": used,
                "per_gpu_gib": row["memory_per_gpu_gib"],
                "price": (gpu.price_usd * used) if gpu.price_usd else None,
            }
        )
    rows.sort(key=lambda r: (r["verdict"] != workload.FITS, r["price"] is None, r["price"] or 0))
    return rows


def plan_context(params) -> dict:
    form = PlanForm(
        params or None, initial={"model": "llama-3.1-8b", "method": "inference", "precision": "bf16"}
    )
    context = {"form": form}
    if not params or not form.is_valid():
        return context
    data = form.cleaned_data
    asked = params.get("precision")
    if asked and asked != data["precision"]:
        # The method implies the precision (QLoRA: nf4; LoRA: bf16): show what is used, and say so.
        context["precision_note"] = (
            f"{dict(form.fields['method'].choices)[data['method']]} uses {data['precision']}: "
            f"the estimate is for {data['precision']}, not {asked}."
        )
        form.data = form.data.copy()
        form.data["precision"] = data["precision"]
    arch = presets().get(data["model"])
    if arch is None:
        form.add_error("model", "unknown model")
        return context
    request = estimator.EstimateRequest(
        method=data["method"],
        precision=data["precision"],
        batch=data["batch"],
        seq_len=data["seq_len"],
        new_tokens=256 if data["method"] == "inference" else 0,
        runtime=data.get("runtime") or None,
    )
    try:
        single = estimator.estimate(arch, request)
    except estimator.EstimateRequestError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return context
    except ValueError as exc:
        form.add_error(None, str(exc))
        return context
    items = breakdown_items(single.breakdown_gib)
    gpus = Gpu.objects.filter(retired=False, curated=True, vram_gb__isnull=False).order_by("vram_gb")
    workload = {
        "model": data["model"],
        "method": data["method"],
        "precision": data["precision"],
        "seq_len": data["seq_len"],
        "batch": data["batch"],
    }
    if data.get("runtime"):
        workload["runtime"] = data["runtime"]
    builds = []
    for build in Build.objects.filter(visibility=Visibility.FEATURED).order_by("name"):
        state = state_from_build(build, selectors.build_lines(build))
        context_engine = replace(state.context(), workloads=(workload,))
        report = report_for(state.lines, context_engine)
        row = next(iter(report.get("workloads") or []), None)
        builds.append(
            {
                "build": build,
                "row": row,
                "gpus": sum(line.quantity for line in state.lines if line.category == "gpu"),
            }
        )
    gpu_rows = gpu_fits(arch, request, gpus)
    context |= {
        "estimate": single,
        "breakdown": items,
        "breakdown_svg": breakdown_svg(items),
        "gpu_rows": gpu_rows,
        "any_offload": any(r["offload"] not in (None, "none") for r in gpu_rows)
        or any((b["row"] or {}).get("offload") not in (None, "none") for b in builds),
        "builds": builds,
        "arch": arch,
        "model_name": dict(form.fields["model"].choices).get(data["model"]),
    }
    return context

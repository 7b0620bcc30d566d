"""/plan/: pick a model and a method; see the memory breakdown, which GPUs (how many) and which example
builds fit, and how fast."""

from dataclasses import replace

from django import forms
from django.utils.html import format_html, format_html_join

from builds import selectors
from builds.models import Build, Visibility
from builds.reports import report_for
from builds.state import state_from_build
from catalog.engine import estimator
from catalog.models import Gpu, ModelPreset
from catalog.workloads import presets

GPU_COUNTS = (1, 2, 4, 8)
GIB_PER_GB = 1e9 / 2**30


class PlanForm(forms.Form):
    model = forms.ChoiceField(choices=())
    method = forms.ChoiceField(
        choices=[
            ("inference", "Inference"),
            ("lora", "LoRA"),
            ("qlora", "QLoRA"),
            ("full", "Full fine-tuning"),
        ]
    )
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
        choices=[
            ("", "usual for the precision"),
            ("llama.cpp", "llama.cpp"),
            ("vllm", "vLLM"),
            ("transformers", "transformers"),
            ("hf", "HF Trainer + peft"),
            ("fsdp_qlora", "FSDP + QLoRA"),
        ],
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


def breakdown_svg(breakdown: dict) -> str:
    total = sum(breakdown.values()) or 1
    x = 0.0
    pieces = []
    for i, (name, gib) in enumerate(sorted(breakdown.items(), key=lambda kv: -kv[1])):
        width = 560 * gib / total
        pieces.append((f"{x:.1f}", f"{width:.1f}", i % 6, name, f"{gib:.2f}"))
        x += width
    bars = format_html_join(
        "",
        '<rect x="{}" y="4" width="{}" height="26" class="svg-series-{}"><title>{}: {} GiB</title></rect>',
        pieces,
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="44" width="10" height="10" class="svg-series-{}"></rect><text x="{}" y="53" class="svg-muted">{} {}</text>',
        (
            (140 * (i % 4), i % 6, 140 * (i % 4) + 14, name, gib)
            for i, (_, _, _, name, gib) in enumerate(pieces[:4])
        ),
    )
    return format_html(
        '<svg viewBox="0 0 560 60" role="img" aria-label="Memory per GPU by component (GiB)" class="diagram">{}{}</svg>',
        bars,
        legend,
    )


def gpu_fits(arch, request: estimator.EstimateRequest, gpus) -> list[dict]:
    rows = []
    for gpu in gpus:
        vram_gib = gpu.vram_gb * GIB_PER_GB
        for count in GPU_COUNTS:
            try:
                est = estimator.estimate(arch, replace(request, gpus=count), vram_gib)
            except ValueError:
                break
            if est.fits:
                speed = None
                if request.method == "inference" and gpu.memory_bandwidth_gbps:
                    speed = estimator.decode_tokens_per_s(
                        arch,
                        request.precision,
                        gpu.memory_bandwidth_gbps,
                        n_gpus=count,
                        context=request.seq_len,
                        parallel=est.parallel,
                        runtime=est.runtime,
                    )
                elif gpu.bf16_tflops:
                    speed = estimator.training_tokens_per_s(
                        arch,
                        gpu.bf16_tflops,
                        n_gpus=count,
                        gradient_checkpointing=True,
                        method=request.method,
                    )
                rows.append(
                    {
                        "gpu": gpu,
                        "count": count,
                        "per_gpu_gib": est.device_gib,
                        "speed": speed,
                        "price": (gpu.price_usd * count) if gpu.price_usd else None,
                    }
                )
                break
    rows.sort(key=lambda r: (r["price"] is None, r["price"] or 0))
    return rows


def plan_context(params) -> dict:
    form = PlanForm(
        params or None, initial={"model": "llama-3.1-8b", "method": "inference", "precision": "bf16"}
    )
    context = {"form": form}
    if not params or not form.is_valid():
        return context
    data = form.cleaned_data
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
        builds.append({"build": build, "row": row})
    context |= {
        "estimate": single,
        "breakdown_svg": breakdown_svg(single.breakdown_gib),
        "gpu_rows": gpu_fits(arch, request, gpus),
        "builds": builds,
        "arch": arch,
        "model_name": dict(form.fields["model"].choices).get(data["model"]),
    }
    return context

"""Issue 15, item 8: the planner sets what the method implies, plans its GPU table exactly as a rig's own
workload table does (so the two tables agree), names the strategy, says why a rig does not fit, and labels
the memory breakdown in words with a complete legend."""

import re
from dataclasses import replace

import pytest

from builds import selectors
from builds.configurator.state import state_from_build
from builds.planner import BREAKDOWN_LABELS, breakdown_items, breakdown_label
from builds.reports import report_for
from catalog.bootstrap import load_model_presets
from catalog.engine import estimator, workload
from catalog.workloads import presets


@pytest.fixture
def planner_presets(seed_catalogue):
    """The model presets the form offers (the test seed holds parts, rates and examples only)."""
    load_model_presets()
    return seed_catalogue


QLORA_70B = {"model": "llama-3.1-70b", "method": "qlora", "precision": "bf16", "seq_len": 4096, "batch": 1}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def table(html: str, table_id: str) -> list[str]:
    body = html[html.index(f'id="{table_id}"') :]
    body = body[: body.index("</table>")]
    return [text(row).strip() for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]]


def test_qlora_sets_nf4_and_says_so(client, planner_presets):
    html = client.get("/plan/", QLORA_70B).content.decode()
    assert re.search(r'<option value="nf4" selected>', html)
    assert not re.search(r'<option value="bf16" selected>', html)
    assert "QLoRA uses nf4" in text(html)


def test_24_gb_cards_and_example_builds_agree_and_name_the_strategy(client, planner_presets):
    html = client.get("/plan/", QLORA_70B).content.decode()
    gpu_rows = table(html, "gpu-fit")
    rtx4090 = [r for r in gpu_rows if "RTX 4090 Founders" in r]
    assert rtx4090, "a 24 GB card is listed (with offload) since the example builds with it fit with offload"
    assert "fits with offload" in rtx4090[0] and "offloaded to CPU RAM" in rtx4090[0]
    build_rows = table(html, "build-fit")
    dual = next(r for r in build_rows if r.startswith("Dual RTX 4090"))
    assert "fits with offload" in dual and "over 2 GPUs" in dual
    for row in build_rows + gpu_rows:
        assert re.search(r"one GPU|over \d+ GPUs", row), row  # every verdict names its strategy


def test_a_rig_that_does_not_fit_says_why(client, planner_presets):
    html = client.get("/plan/", QLORA_70B).content.decode()
    mining = next(r for r in table(html, "build-fit") if r.startswith("3x RTX 3090"))
    assert "does not fit" in mining
    assert re.search(r"needs about [\d,]+ GiB of system RAM; the rig has 4 GiB", mining)


@pytest.mark.parametrize(
    "request_data",
    [
        QLORA_70B | {"precision": "nf4"},
        {"model": "llama-3.1-8b", "method": "lora", "precision": "bf16", "seq_len": 2048, "batch": 1},
        {
            "model": "llama-3.1-70b",
            "method": "inference",
            "precision": "Q4_K_M",
            "seq_len": 4096,
            "batch": 1,
            "new_tokens": 256,
        },
    ],
)
def test_plan_on_matches_every_example_builds_own_workload_row(planner_presets, request_data):
    """The class of bug: two planners. plan_on with a rig's GPU count, card and RAM gives the verdict,
    GPU count, strategy and GiB per GPU that the rig's own report gives."""
    arch = presets()[request_data["model"]]
    req = estimator.EstimateRequest(
        method=request_data["method"],
        precision=request_data["precision"],
        seq_len=request_data["seq_len"],
        batch=request_data["batch"],
        new_tokens=request_data.get("new_tokens", 0),
    )
    for build in planner_presets.values():
        state = state_from_build(build, selectors.build_lines(build))
        gpu_lines = [line for line in state.lines if line.category == "gpu"]
        context = replace(state.context(), workloads=(request_data,))
        report = report_for(state.lines, context)
        row = report["workloads"][0]
        ram = report["capacity"]["ram_gb"]
        card = gpu_lines[0].part.gpu if hasattr(gpu_lines[0].part, "gpu") else gpu_lines[0].part
        mine = workload.plan_on(
            arch,
            req,
            count=sum(line.quantity for line in gpu_lines),
            vram_gib=min(line.part.typed().vram_gb for line in gpu_lines),
            bandwidth_gbps=card.memory_bandwidth_gbps,
            bf16_tflops=card.bf16_tflops,
            ram_gib=ram,
        )
        assert (mine["verdict"], mine["gpus_used"], mine["memory_per_gpu_gib"]) == (
            row["verdict"],
            row["gpus_used"],
            row["memory_per_gpu_gib"],
        ), build.name
        assert mine["strategy"] == row["strategy"]
        assert bool(row["reason"]) == (row["verdict"] == workload.DOES_NOT_FIT)


def test_breakdown_labels_are_words_and_the_legend_is_complete(client, planner_presets):
    html = client.get("/plan/", QLORA_70B).content.decode()
    legend = html[html.index("breakdown-legend") :]
    legend = legend[: legend.index("</ul>")]
    items = [text(li).strip() for li in re.findall(r"<li>(.*?)</li>", legend, re.S)]
    assert len(items) >= 6  # weights, activations, logits, reserve, LoRA, CUDA context
    for item in items:
        assert "_" not in item and re.search(r": [\d.]+ GiB$", item), item
    assert "Model weights" in legend and "CUDA context" in legend


def test_every_estimator_breakdown_key_has_a_label(planner_presets):
    arch = presets()["llama-3.1-8b"]
    keys = set()
    for method, precision, runtime in [
        ("inference", "bf16", None),
        ("inference", "Q4_K_M", None),
        ("inference", "bf16", "vllm"),
        ("lora", "bf16", None),
        ("qlora", "nf4", None),
        ("full", "amp", None),
        ("qlora", "nf4", "fsdp_qlora"),
    ]:
        req = estimator.EstimateRequest(method=method, precision=precision, runtime=runtime, seq_len=1024)
        keys |= set(estimator.estimate(arch, req).breakdown_gib)
    assert keys <= set(BREAKDOWN_LABELS), keys - set(BREAKDOWN_LABELS)
    assert breakdown_label("some_new_part") == "Some new part"
    items = breakdown_items({"weights": 2.0, "cuda_context": 0.5})
    assert [i["label"] for i in items] == ["Model weights", "CUDA context"]


def test_build_page_says_why_a_workload_does_not_fit(client, planner_presets):
    build = planner_presets["3x-3090-mining-rig-conversion"]
    html = client.get(f"/b/{build.share_id}/").content.decode()
    reasons = [
        text(r).strip() for r in re.findall(r'class="small text-body-secondary fit-reason">(.*?)</div>', html)
    ]
    assert reasons and all(re.search(r"GiB", r) for r in reasons)
    rows = re.findall(r'<tr class="wl-does_not_fit">', html)
    assert len(rows) == len(reasons)  # every row that does not fit says why, and only those

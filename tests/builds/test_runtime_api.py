"""Runtime (llama.cpp / vllm / transformers / hf / fsdp_qlora) and GGUF quant names through the API and /plan/."""

import json

import pytest

pytestmark = pytest.mark.django_db

GPU_3090 = "nvidia-geforce-rtx-3090-fe"
BOARD = "msi-mpg-x670e-carbon-wifi"


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def presets(db):
    from catalog.bootstrap import load_model_presets

    load_model_presets()


def test_estimate_accepts_runtime_and_gguf_names(client, presets):
    r = post(
        client,
        "/api/v1/estimate",
        {"model": "llama-3.1-70b", "precision": "F16", "gpus": 6, "seq_len": 4096, "gpu_vram_gib": 23.88},
    )
    assert r.status_code == 200
    data = r.json()
    assert data["runtime"] == "llama.cpp" and data["parallel"] == "pipeline" and data["fits"] is True
    r = post(
        client, "/api/v1/estimate", {"model": "llama-3.1-8b", "precision": "q4_k_m", "runtime": "llama.cpp"}
    )
    assert r.status_code == 200 and r.json()["runtime"] == "llama.cpp"
    r = post(
        client,
        "/api/v1/estimate",
        {"model": "llama-3.1-8b", "runtime": "vllm", "gpu_vram_gib": 23.88, "gpu_memory_utilization": 0.85},
    )
    data = r.json()
    assert r.status_code == 200 and data["max_concurrent_sequences"] >= 1 and data["kv_pool_gib"] > 1
    r = post(
        client,
        "/api/v1/estimate",
        {
            "model": "llama-2-70b",
            "method": "qlora",
            "runtime": "fsdp_qlora",
            "gpus": 2,
            "offload": "params",
            "lora_rank": 64,
        },
    )
    assert r.status_code == 200 and r.json()["runtime"] == "fsdp_qlora" and r.json()["ram_gib"] > 30


@pytest.mark.parametrize(
    "body,field",
    [
        ({"runtime": "ollama"}, "runtime"),
        ({"runtime": ["vllm"]}, "runtime"),
        ({"precision": "Q4_K_M", "runtime": "vllm"}, "precision"),
        ({"precision": "Q2_K"}, "precision"),
        ({"runtime": "vllm", "gpu_memory_utilization": 2}, "gpu_memory_utilization"),
        ({"method": "qlora", "runtime": "fsdp_qlora", "offload": "optimizer"}, "offload"),
    ],
)
def test_estimate_bad_runtime_values_are_400_naming_the_field(client, presets, body, field):
    r = post(client, "/api/v1/estimate", {"model": "llama-3.1-8b"} | body)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == field


def test_check_workloads_take_runtime(client, seed_catalogue, presets):
    parts = [
        {"slug": BOARD},
        {"slug": "amd-ryzen-9-7900x"},
        {"slug": "corsair-ax1600i"},
        {"slug": GPU_3090, "quantity": 2},
    ]
    body = {
        "parts": parts,
        "workloads": [
            {"model": "llama-3.1-70b", "precision": "Q4_K_M", "seq_len": 4096},
            {"model": "llama-3.1-8b", "runtime": "vllm", "seq_len": 4096},
        ],
    }
    r = post(client, "/api/v1/check", body)
    assert r.status_code == 200, r.content
    rows = r.json()["workloads"]
    assert rows[0]["runtime"] == "llama.cpp" and rows[0]["parallel"] == "pipeline"
    assert "llama.cpp" in rows[0]["speed"]["assumption"]
    assert rows[1]["runtime"] == "vllm" and rows[1]["speed"]["serving"][0]["batch"] == 1
    bad = post(
        client, "/api/v1/check", {"parts": parts, "workloads": [{"model": "llama-3.1-8b", "runtime": "x"}]}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["field"].endswith("workloads[0].runtime")


def test_openapi_documents_runtime(client):
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/estimate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    props = (
        body["properties"]
        if "properties" in body
        else schema["components"]["schemas"]["Estimate"]["properties"]
    )
    assert set(props["runtime"]["enum"]) == {"llama.cpp", "vllm", "transformers", "hf", "fsdp_qlora"}
    assert "Q4_K_M" in props["precision"]["description"]


def test_plan_page_takes_runtime_and_names_it(client, seed_catalogue, presets):
    r = client.get(
        "/plan/",
        {
            "model": "llama-3.1-8b",
            "method": "inference",
            "precision": "Q4_K_M",
            "runtime": "",
            "seq_len": 4096,
            "batch": 1,
        },
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "(llama.cpp)" in html
    r = client.get(
        "/plan/",
        {
            "model": "llama-3.1-8b",
            "method": "inference",
            "precision": "Q4_K_M",
            "runtime": "vllm",
            "seq_len": 4096,
            "batch": 1,
        },
    )
    assert r.status_code == 400
    assert r.context["form"].errors.get("precision")  # GGUF does not run in vLLM: the field is named
    r = client.get(
        "/plan/",
        {
            "model": "llama-3.1-8b",
            "method": "inference",
            "precision": "Q4_K_M",
            "runtime": "ollama",
            "seq_len": 4096,
            "batch": 1,
        },
    )
    assert r.status_code == 400 and r.context["form"].errors.get("runtime")

import json

import pytest

from builds.models import Build, BuildRevision

pytestmark = pytest.mark.django_db

GPU_4090 = "nvidia-geforce-rtx-4090-fe"
BOARD = "msi-mpg-x670e-carbon-wifi"


def post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def test_check_reports_obstruction_then_riser_fixes_it(client, seed_catalogue):
    base = [{"slug": BOARD}, {"slug": "amd-ryzen-9-7900x"}, {"slug": "corsair-ax1600i"}]
    adjacent = post(
        client, "/api/v1/check", {"parts": base + [{"slug": GPU_4090, "quantity": 2, "slots": [2, 6]}]}
    )
    assert adjacent.status_code == 200
    assert "GPU_SLOT_OBSTRUCTED" not in {f["code"] for f in adjacent.json()["findings"]}
    # Crosshair VIII Hero: x16 slots in rows 2 and 4; a 3-slot card in row 2 covers rows 3 and 4
    hero = [
        {"slug": "asus-rog-crosshair-viii-hero-wifi"},
        {"slug": "amd-ryzen-9-5900x"},
        {"slug": "corsair-ax1600i"},
    ]
    tight = post(
        client, "/api/v1/check", {"parts": hero + [{"slug": GPU_4090, "quantity": 2, "slots": [2, 4]}]}
    )
    assert "GPU_SLOT_OBSTRUCTED" in {f["code"] for f in tight.json()["findings"]}
    riser = post(
        client,
        "/api/v1/check",
        {"parts": base + [{"slug": GPU_4090, "slots": [2]}, {"slug": GPU_4090, "slots": [6], "riser": True}]},
    )
    report = riser.json()
    assert "GPU_SLOT_OBSTRUCTED" not in {f["code"] for f in report["findings"]}
    widths = sorted(lane["width"] for lane in report["lanes"] if lane["kind"] == "gpu")
    assert widths == [8, 8]  # x8/x8 once the second slot is used
    for key in ("findings", "lanes", "power", "thermal", "capacity", "workloads", "cost"):
        assert key in report


def test_check_inline_parts_and_circuit(client):
    body = {
        "inline_parts": [
            {"category": "gpu", "name": "Card", "spec": {"board_power_w": 450, "vram_gb": 24}, "quantity": 4},
            {
                "category": "psu",
                "name": "PSU",
                "spec": {"wattage_w": 1500, "efficiency": "gold"},
                "quantity": 2,
            },
        ],
        "context": {"circuit": "120v-15a"},
    }
    small = post(client, "/api/v1/check", body).json()
    assert "CIRCUIT_OVERLOAD" in {f["code"] for f in small["findings"]}
    body["context"]["circuit"] = {"volts": 240, "amps": 30}
    big = post(client, "/api/v1/check", body).json()
    assert "CIRCUIT_OVERLOAD" not in {f["code"] for f in big["findings"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"parts": [{"slug": "no-such-part"}]}, "parts[0].slug"),
        ({"parts": [{"slug": GPU_4090, "quantity": 0}]}, "parts[0].quantity"),
        ({"parts": [{"slug": GPU_4090, "quantity": True}]}, "parts[0].quantity"),
        ({"parts": [{"slug": GPU_4090, "colour": "red"}]}, "parts[0].colour"),
        ({"inline_parts": [{"category": "gpu", "spec": {"vram_gb": -1}}]}, "inline_parts[0].spec.vram_gb"),
        ({"inline_parts": [{"category": "gpu", "spec": {"vram_gb": "24"}}]}, "inline_parts[0].spec.vram_gb"),
        ({"context": {"circuit": "999v"}}, "context.circuit"),
        ({"context": {"kwh_price": -1}}, "context.kwh_price"),
        ({"surprise": 1}, "surprise"),
        ({"parts": [{"slug": GPU_4090}] * 65}, "parts"),
    ],
)
def test_check_rejects_bad_input_naming_the_field(client, seed_catalogue, body, field):
    response = post(client, "/api/v1/check", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_check_rejects_non_json_and_nan(client):
    assert client.post("/api/v1/check", data="x", content_type="text/plain").status_code == 400
    response = client.post(
        "/api/v1/check", data='{"context": {"kwh_price": NaN}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "body"


def test_check_refuses_oversized_body(client):
    response = client.post("/api/v1/check", data="[" + " " * 300_000 + "]", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_estimate_preset_and_inline(client, seed_catalogue):
    from catalog.bootstrap import load_model_presets

    load_model_presets()
    ok = post(client, "/api/v1/estimate", {"model": "llama-3.1-8b", "method": "inference", "seq_len": 4096})
    assert ok.status_code == 200
    data = ok.json()
    assert 16 < data["device_gib"] < 20 and "weights" in data["breakdown_gib"]
    inline = post(
        client,
        "/api/v1/estimate",
        {
            "model": {
                "layers": 32,
                "hidden": 4096,
                "heads": 32,
                "kv_heads": 8,
                "intermediate": 14336,
                "vocab": 128256,
            },
            "method": "qlora",
            "seq_len": 2048,
        },
    )
    assert inline.status_code == 200
    bad = post(client, "/api/v1/estimate", {"model": "llama-3.1-8b", "batch": -3})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "batch"
    unknown = post(client, "/api/v1/estimate", {"model": "gpt-17"})
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "model"


def test_builds_create_get_patch_with_token(client, seed_catalogue):
    created = post(
        client,
        "/api/v1/builds",
        {"name": "API rig", "description": "two cards", "parts": [{"slug": GPU_4090, "quantity": 2}]},
    )
    assert created.status_code == 201
    data = created.json()
    share_id, token = data["share_id"], data["edit_token"]
    assert len(share_id) == 22 and data["url"] == f"/b/{share_id}/"
    build = Build.objects.get(share_id=share_id)
    assert token not in build.edit_token_hash

    got = client.get(f"/api/v1/builds/{share_id}")
    assert got.status_code == 200
    assert got.json()["parts"][0]["quantity"] == 2 and "report" in got.json()

    forbidden = client.patch(
        f"/api/v1/builds/{share_id}", data=json.dumps({"name": "hijack"}), content_type="application/json"
    )
    assert forbidden.status_code == 403
    wrong = client.patch(
        f"/api/v1/builds/{share_id}",
        data=json.dumps({"name": "hijack"}),
        content_type="application/json",
        headers={"X-Edit-Token": "nope"},
    )
    assert wrong.status_code == 403
    build.refresh_from_db()
    assert build.name == "API rig" and build.revision_count == 1

    patched = client.patch(
        f"/api/v1/builds/{share_id}",
        data=json.dumps({"name": "API rig v2", "parts": [{"slug": GPU_4090, "quantity": 1}]}),
        content_type="application/json",
        headers={"X-Edit-Token": token},
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "API rig v2" and patched.json()["parts"][0]["quantity"] == 1
    assert list(
        BuildRevision.objects.filter(build=build).values_list("number", flat=True).order_by("number")
    ) == [1, 2]
    assert client.get("/api/v1/builds/doesnotexist").status_code == 404


def test_openapi_schema_lists_the_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/check", "/api/v1/estimate", "/api/v1/builds", "/api/v1/builds/{share_id}"} <= set(
        schema["paths"]
    )

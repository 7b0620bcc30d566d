"""One source of model presets (issue 14, item 3): a preset added in the admin (a ModelPreset row) is known
to /plan/ (its example builds' workload rows), /api/v1/estimate and /api/v1/check alike; the engine takes the
presets from the Django side and the report cache is keyed by them."""

import json

import pytest
from django.contrib.auth.models import User

from catalog.bootstrap import load_model_presets
from catalog.models import ModelPreset
from tests.admin_forms import form_as_post

NEW = "admin-only-llama-8b"  # not in catalog/data/model_presets.json
GPU_4090 = "nvidia-geforce-rtx-4090-fe"


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def admin_preset(client, seed_catalogue, django_capture_on_commit_callbacks):
    """A copy of Llama 3.1 8B under a new slug, added through the admin's add form (committed: the catalogue
    version bumps as in production)."""
    load_model_presets()
    admin = User.objects.create_superuser("root", password="pw-rigsite-123")
    client.force_login(admin)
    source = client.get(
        f"/admin/catalog/modelpreset/{ModelPreset.objects.get(slug='llama-3.1-8b').pk}/change/"
    )
    data = form_as_post(source.context["adminform"].form) | {
        "slug": NEW,
        "name": "Admin-only 8B",
        "_save": "Save",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/catalog/modelpreset/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ModelPreset.objects.filter(slug=NEW).exists()
    client.logout()
    return NEW


def test_admin_preset_is_unknown_before_it_is_added(client, seed_catalogue):
    load_model_presets()
    body = {"parts": [{"slug": GPU_4090}], "workloads": [{"model": NEW, "method": "inference"}]}
    response = post(client, "/api/v1/check", body)
    assert response.status_code == 400
    assert "unknown preset" in response.json()["error"]["message"]
    assert post(client, "/api/v1/estimate", {"model": NEW}).status_code == 400


def test_admin_preset_works_in_check_estimate_and_plan(client, admin_preset):
    body = {"parts": [{"slug": GPU_4090}], "workloads": [{"model": admin_preset, "method": "inference"}]}
    check = post(client, "/api/v1/check", body)
    assert check.status_code == 200, check.content
    rows = check.json()["workloads"]
    assert len(rows) == 1 and rows[0]["verdict"] == "fits" and rows[0]["model"] == admin_preset

    estimate = post(
        client, "/api/v1/estimate", {"model": admin_preset, "method": "inference", "seq_len": 4096}
    )
    assert estimate.status_code == 200
    assert 16 < estimate.json()["device_gib"] < 20

    plan = client.get(
        "/plan/",
        {"model": admin_preset, "method": "inference", "precision": "bf16", "seq_len": 4096, "batch": 1},
    )
    assert plan.status_code == 200
    builds = plan.context["builds"]
    assert len(builds) == 5
    verdicts = [b["row"]["verdict"] for b in builds]
    assert "invalid" not in verdicts and verdicts.count("fits") >= 4, verdicts


def test_preset_edit_in_the_admin_reaches_the_cached_report(
    client, admin_preset, django_capture_on_commit_callbacks
):
    """The report cache is keyed by the presets: an edited preset gives a new report, not the cached one."""
    body = {"parts": [{"slug": GPU_4090}], "workloads": [{"model": admin_preset, "method": "inference"}]}
    before = post(client, "/api/v1/check", body).json()["workloads"][0]
    with django_capture_on_commit_callbacks(execute=True):
        preset = ModelPreset.objects.get(slug=admin_preset)
        preset.layers *= 4  # a model four times as deep (4x the parameters) no longer fits one 24 GB card
        preset.params *= 4
        preset.save()
    after = post(client, "/api/v1/check", body).json()["workloads"][0]
    assert before["verdict"] == "fits" and after["verdict"] != "fits"
    assert after["memory_per_gpu_gib"] != before["memory_per_gpu_gib"]

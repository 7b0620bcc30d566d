"""Model presets in the admin: every bootstrapped preset saves unchanged (issue 17, item 8), dense = NULL."""

import json

import pytest
from django.contrib.auth.models import User

from catalog.bootstrap import DATA_DIR, load_model_presets
from catalog.models import ModelPreset
from catalog.workloads import presets
from tests.admin_forms import form_as_post

PRESET_ROWS = json.loads((DATA_DIR / "model_presets.json").read_text())


@pytest.fixture
def admin_client(client, db):
    load_model_presets()
    client.force_login(User.objects.create_superuser("root", password="pw-rigsite-123"))
    return client


def change(client, preset, edit=None):
    url = f"/admin/catalog/modelpreset/{preset.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_as_post(page.context["adminform"].form) | (edit or {}) | {"_save": "Save"}
    return client.post(url, data)


def snapshot(preset):
    return {f.name: getattr(preset, f.name) for f in ModelPreset._meta.fields}


@pytest.mark.parametrize("slug", [row["slug"] for row in PRESET_ROWS])
def test_every_bootstrapped_preset_saves_unchanged_in_the_admin(admin_client, slug):
    preset = ModelPreset.objects.get(slug=slug)
    before = snapshot(preset)
    response = change(admin_client, preset)
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    preset.refresh_from_db()
    assert snapshot(preset) == before


def test_dense_presets_are_stored_as_null_experts_and_estimate_as_dense(db):
    load_model_presets()
    for row in PRESET_ROWS:
        preset = ModelPreset.objects.get(slug=row["slug"])
        preset.full_clean()
        if row.get("experts"):
            assert (preset.experts, preset.experts_per_token) == (row["experts"], row["experts_per_token"])
        else:
            assert preset.experts is None and preset.experts_per_token is None
    archs = presets()
    assert not archs["llama-3.1-8b"].is_moe and archs["mixtral-8x7b"].is_moe
    assert archs["mixtral-8x7b"].experts == 8 and archs["mixtral-8x7b"].experts_per_token == 2


def test_bootstrap_again_leaves_null_experts_alone(db):
    load_model_presets()
    load_model_presets()
    assert ModelPreset.objects.filter(experts=0).count() == 0


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"experts": "8", "experts_per_token": ""}, "experts_per_token"),
        ({"experts": "", "experts_per_token": "2"}, "experts_per_token"),
        ({"experts": "4", "experts_per_token": "8"}, "experts_per_token"),
        ({"experts": "0", "experts_per_token": "0"}, "experts"),
        ({"slug": "Llama 3"}, "slug"),
        ({"slug": ".hidden"}, "slug"),
    ],
)
def test_inconsistent_expert_counts_and_bad_slugs_are_refused_naming_the_field(admin_client, edit, field):
    preset = ModelPreset.objects.get(slug="llama-3.2-1b")
    response = change(admin_client, preset, edit)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors


def test_a_dotted_slug_is_valid_and_a_moe_preset_can_be_made_dense(admin_client):
    preset = ModelPreset.objects.get(slug="mixtral-8x7b")
    response = change(
        admin_client, preset, {"slug": "mixtral-8x7b-v0.1", "experts": "", "experts_per_token": ""}
    )
    assert response.status_code == 302
    preset.refresh_from_db()
    assert preset.slug == "mixtral-8x7b-v0.1" and preset.experts is None

"""Builds in the admin: every save there is a revision too, and revisions cannot be added or deleted by
hand (issue 17: nothing lost; the history must never skip a state)."""

import pytest
from django.contrib.auth.models import User

from builds.models import Build, BuildRevision
from tests.admin_forms import form_as_post


@pytest.fixture
def admin_client(client, seed_catalogue):
    client.force_login(User.objects.create_superuser("root", password="pw-rigsite-123"))
    return client


def form_post(page) -> dict:
    data = form_as_post(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data |= {f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()}
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if isinstance(value, bool):
                    if value:
                        data[sub.add_prefix(name)] = "on"
                elif value is not None:
                    data[sub.add_prefix(name)] = str(value)
    return data


def test_an_admin_edit_of_a_build_is_a_revision(admin_client):
    build = Build.objects.filter(items__isnull=False).first()
    count = build.revision_count
    url = f"/admin/builds/build/{build.pk}/change/"
    page = admin_client.get(url)
    response = admin_client.post(url, form_post(page) | {"name": "Renamed by a curator"})
    assert response.status_code == 302, page.content.decode()[:200]
    build.refresh_from_db()
    assert build.name == "Renamed by a curator" and build.revision_count == count + 1
    latest = build.revisions.get(number=count + 1)
    assert latest.snapshot["name"] == "Renamed by a curator" and latest.note == "edited in the admin"
    assert len(latest.snapshot["items"]) == build.items.count()
    assert sorted(build.revisions.values_list("number", flat=True)) == list(range(1, count + 2))


def test_revisions_cannot_be_added_or_deleted_in_the_admin(admin_client):
    revision = BuildRevision.objects.first()
    assert admin_client.get("/admin/builds/buildrevision/add/").status_code == 403
    assert admin_client.get(f"/admin/builds/buildrevision/{revision.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/builds/buildrevision/{revision.pk}/change/").status_code == 200
    assert BuildRevision.objects.filter(pk=revision.pk).exists()

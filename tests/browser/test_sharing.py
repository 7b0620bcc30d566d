"""Save, share, edit and fork in the browser: the creator's cookie edits, a stranger only reads and forks."""

import pytest

from builds.models import Build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_save_share_edit_and_fork(open_page, browser, live_server, seed_catalogue):
    watch = open_page("/builds/new/?l=nvidia-geforce-rtx-4090-fe*2&l=corsair-ax1600i*1")
    page = watch.page
    page.fill("#id_name", "Browser rig")
    page.click("text=Save build")
    page.wait_for_url("**/b/*/edit/")
    build = Build.objects.get(name="Browser rig")
    assert page.url.endswith(f"/b/{build.share_id}/edit/")

    # The creator edits: a new revision.
    page.fill("#id_name", "Browser rig v2")
    page.click("text=Save revision")
    page.wait_for_url(f"**/b/{build.share_id}/")
    assert "Browser rig v2" in page.locator("h1").inner_text()
    build.refresh_from_db()
    assert build.revision_count == 2
    watch.screenshot("shared-page-desktop")

    # A stranger (fresh browser context, no edit cookie) gets the read-only page and can fork it.
    stranger = browser.new_context()
    other = stranger.new_page()
    other.goto(f"{live_server.url}/b/{build.share_id}/")
    assert other.get_by_role("link", name="Edit", exact=True).count() == 0
    denied = other.goto(f"{live_server.url}/b/{build.share_id}/edit/")
    assert denied.status == 403
    other.goto(f"{live_server.url}/b/{build.share_id}/")
    other.click("button:has-text('Fork')")
    other.wait_for_url("**/edit/")
    fork = Build.objects.get(forked_from=build)
    assert other.url.endswith(f"/b/{fork.share_id}/edit/")
    stranger.close()
    build.refresh_from_db()
    assert build.name == "Browser rig v2" and build.revision_count == 2
    assert watch.console_errors == [] and watch.external_requests == []

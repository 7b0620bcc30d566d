"""Without JavaScript the configurator still works (issue 14): the pickers and the custom-part form carry the
state in their <noscript> fields, the save form in its own, since hx-include needs htmx."""

import pytest

from builds.models import Build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GPU = "nvidia-geforce-rtx-4090-fe"
PSU = "corsair-ax1600i"


def saved_items(page, name: str) -> list[tuple[str, int]]:
    """Save the page's build under `name`; its saved lines as (slug or custom name, quantity), sorted."""
    page.locator("#id_name").fill(name)
    page.locator("button", has_text="Save build").click()
    page.wait_for_url("**/edit/")
    build = Build.objects.get(name=name)
    return sorted((i.part.slug if i.part_id else i.custom_name, i.quantity) for i in build.items.all())


def test_picker_custom_part_and_save_without_javascript(open_page, seed_catalogue):
    watch = open_page(f"/builds/new/?l={GPU}*2", java_script_enabled=False)
    page = watch.page
    # The PSU picker: search, then "Add" on the picker page keeps the two GPUs.
    page.locator("#picker-psu summary").click()
    page.locator("#picker-psu input[name=q]").fill("AX1600i")
    page.locator("#picker-psu button[type=submit]").click()
    page.wait_for_url("**/builds/pick/psu/**")
    page.locator(f"a.pick-add[data-slug='{PSU}']").first.click()
    page.wait_for_url("**/builds/new/?**")
    assert f"l={GPU}*2" in page.url and f"l={PSU}*1" in page.url
    # A custom part is added to the same state.
    page.locator("#custom-part summary").click()
    page.locator("#custom-form input[name=name]").fill("Own fan")
    page.locator("#custom-form select[name=category]").select_option("fan")
    page.locator("#custom-form button[type=submit]").click()
    page.wait_for_url("**/builds/new/?**")
    assert page.locator("#r-row-fan").inner_text().count("Own fan") == 1
    assert f"l={GPU}*2" in page.url and f"l={PSU}*1" in page.url
    # Save: every line reaches the saved build.
    assert saved_items(page, "No script rig") == [("Own fan", 1), (PSU, 1), (GPU, 2)]


def test_custom_part_and_save_with_javascript_send_the_state_form(open_page, seed_catalogue):
    """With JavaScript the custom-part form sends the state form (hx-include), and the save form's one
    state field follows every re-check."""
    watch = open_page(f"/builds/new/?l={GPU}*1")
    page = watch.page
    page.locator("#q0").select_option("2")  # a re-check: the GPU line now has two cards
    page.wait_for_url(f"**/builds/new/?l={GPU}*2**")
    page.locator("#custom-part summary").click()
    page.locator("#custom-form input[name=name]").fill("Own fan")
    page.locator("#custom-form select[name=category]").select_option("fan")
    with page.expect_response(lambda r: "/builds/custom/" in r.url):
        page.locator("#custom-form button[type=submit]").click()
    page.locator("#r-row-fan", has_text="Own fan").wait_for()
    assert f"l={GPU}*2" in page.url
    assert saved_items(page, "Script rig") == [("Own fan", 1), (GPU, 2)]

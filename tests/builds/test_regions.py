"""The htmx re-check sends only the regions whose signature the browser does not have
(builds/configurator/page.py and render.py)."""

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from builds import selectors
from builds.configurator.state import state_from_build

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
OOB_TARGET = re.compile(r'hx-swap-oob="innerHTML:#r-([a-z-]+)"')


def page_signatures(client, url: str) -> list[str]:
    """What a browser showing `url` sends back with each change: the page's `v` inputs."""
    page = client.get(url)
    assert page.status_code == 200
    return re.findall(r'name="v" value="([^"]+)"', page.content.decode())


def swapped(response) -> set[str]:
    return set(OOB_TARGET.findall(response.content.decode()))


@pytest.fixture
def trainer(seed_catalogue):
    build = seed_catalogue["4x-4090-threadripper-pro-trainer"]
    return state_from_build(build, selectors.build_lines(build))


def test_page_carries_a_signature_per_region(client, trainer):
    signatures = page_signatures(client, f"/builds/new/?{trainer.query()}")
    names = {s.partition(":")[0] for s in signatures}
    assert {"totals", "findings", "lanes", "power", "thermal", "workloads", "interconnect"} <= names
    assert {"row-gpu", "row-psu", "row-cpu", "where", "errors", "custom"} <= names


def test_unchanged_state_swaps_nothing_but_the_state(client, trainer):
    url = f"/builds/new/?{trainer.query()}"
    signatures = page_signatures(client, url)
    again = client.get(f"{url}&{urlencode([('v', s) for s in signatures])}", headers=HX)
    assert again.status_code == 200
    assert swapped(again) == set()
    body = again.content.decode()
    # The state travels in the state form (its `l` inputs) and the save form's one field, nowhere else.
    assert 'id="build-form"' in body and '<input type="hidden" name="state" id="save-state"' in body
    assert body.count('name="state"') == 1


def test_psu_swap_sends_its_row_and_the_power_regions_only(client, trainer, seed_catalogue):
    url = f"/builds/new/?{trainer.query()}"
    signatures = urlencode([("v", s) for s in page_signatures(client, url)])
    response = client.get(f"{url}&add=seasonic-prime-tx-1600-atx3&{signatures}", headers=HX)
    assert response.status_code == 200
    sent = swapped(response)
    assert {"row-psu", "power", "totals"} <= sent
    # The cards, their slots and what they can run do not depend on the PSU: not re-sent.
    assert not {"lanes", "workloads", "row-cpu", "row-motherboard", "where"} & sent
    assert "seasonic-prime-tx-1600-atx3" in response["HX-Push-Url"]


def test_quantity_change_resends_lanes_and_workloads(client, trainer):
    gpu = next(i for i, line in enumerate(trainer.lines) if line.category == "gpu")
    url = f"/builds/new/?{trainer.query()}"
    signatures = urlencode([("v", s) for s in page_signatures(client, url)])
    response = client.get(f"{url}&q{gpu}=2&{signatures}", headers=HX)
    assert {"row-gpu", "lanes", "workloads", "power", "totals"} <= swapped(response)


def test_without_signatures_every_region_is_sent(client, trainer):
    response = client.get(f"/builds/new/?{trainer.query()}", headers=HX)
    assert {"totals", "lanes", "workloads", "row-gpu", "row-brace", "where"} <= swapped(response)


def test_report_region_html_is_the_same_from_the_cache(client, trainer):
    url = f"/builds/new/?{trainer.query()}"
    first = client.get(url, headers=HX).content.decode()
    second = client.get(url, headers=HX).content.decode()  # report regions now come from the cache
    assert first == second


def test_add_swaps_a_one_per_build_part_and_appends_the_others(client, trainer):
    url = f"/builds/new/?{trainer.query()}"
    cpu_swap = client.get(f"{url}&add=amd-ryzen-9-7900x")
    assert cpu_swap.status_code == 302
    location = cpu_swap["Location"]
    assert "amd-ryzen-9-7900x" in location and "threadripper" not in location.lower()
    gpus_before = trainer.query().count("nvidia-geforce-rtx-4090-fe")
    more = client.get(f"{url}&add=nvidia-geforce-rtx-4090-fe")["Location"]
    assert more.count("nvidia-geforce-rtx-4090-fe") == gpus_before + 1


def test_add_applies_to_the_state_the_page_holds_now(client, trainer):
    """A picker list fetched earlier adds to the current state: other changes made since are kept."""
    psu = next(i for i, line in enumerate(trainer.lines) if line.category == "psu")
    quantity = 1 if trainer.lines[psu].quantity != 1 else 2
    url = f"/builds/new/?{trainer.query()}&q{psu}={quantity}&add=seasonic-prime-tx-1600-atx3"
    tokens = parse_qs(urlsplit(client.get(url, headers=HX)["HX-Push-Url"]).query)["l"]
    assert f"{trainer.lines[psu].slug}*{quantity}" in tokens
    assert "seasonic-prime-tx-1600-atx3*1" in tokens


def test_add_of_an_unknown_part_is_an_error_not_a_500(client, trainer):
    response = client.get(f"/builds/new/?{trainer.query()}&add=no-such-part", headers=HX)
    assert response.status_code == 200
    assert "add: no part" in response.content.decode()
    assert "errors" in swapped(response)
    junk = client.get("/builds/new/?add=%00%00&x=99999999999999999999&v=" + "x" * 5000, headers=HX)
    assert junk.status_code == 200


def test_remove_drops_the_line_and_redirects_without_javascript(client, trainer):
    removed = client.get(f"/builds/new/?{trainer.query()}&x=0")
    assert removed.status_code == 302
    assert trainer.lines[0].slug not in removed["Location"]
    assert removed["Location"].count("l=") == len(trainer.lines) - 1


def test_other_forms_send_the_state_form_and_carry_no_copy(client, trainer):
    """Pickers and the custom-part form send the state with hx-include="#build-form"; only the no-JS path
    (inside <noscript>, full pages only) and the save form carry the query."""
    body = client.get(f"/builds/new/?{trainer.query()}").content.decode()
    picker_forms = re.findall(r'<form id="pick-form-[a-z]+"[^>]*>', body)
    assert len(picker_forms) == 11 and all('hx-include="#build-form"' in f for f in picker_forms)
    assert 'hx-include="#build-form"' in re.search(r'<form id="custom-form"[^>]*>', body)[0]
    noscript = re.search(r"<noscript>(.*?)</noscript>", body, re.S)[1]
    outside = body.replace(noscript, "")
    assert outside.count('name="state"') == 1  # the save form's
    assert noscript.count('name="state"') == 12  # one per picker form and the custom form, by form=


def test_each_region_is_signed_by_its_own_data(client, trainer, seed_catalogue):
    """A region's signature is the hash of the data its template sees, whatever the region."""
    from builds.configurator.edits import resolve_state
    from builds.configurator.page import build_page, signature

    resolve_state(trainer)
    page = build_page(trainer, "/builds/new/")
    assert (
        len({r.name for r in page.regions}) == len(page.regions) == 11 + 4 + 7
    )  # + errors, summary, custom, where
    for region in page.regions:
        assert region.signature == signature(region.data)
    changed = build_page(trainer, "/b/xyz/edit/")  # the rows' links and controls name the base path
    moved = {r.name for r, s in zip(page.regions, changed.regions, strict=True) if r.token != s.token}
    assert moved == {r.name for r in page.regions if r.name.startswith("row-")} | {"where", "custom"}

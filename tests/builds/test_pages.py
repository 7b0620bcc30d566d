import csv
import io
import json

import pytest
from django.db.models import ProtectedError

from builds import selectors
from builds.configurator.state import state_from_build
from builds.models import Build, BuildRevision
from catalog.models import Part
from catalog.services import price_quote_add

pytestmark = pytest.mark.django_db

GPU = "nvidia-geforce-rtx-4090-fe"


def test_configurator_state_in_url_rechecks(client, seed_catalogue):
    page = client.get(f"/builds/new/?l={GPU}*2&l=corsair-ax1600i*1&circuit=120v-20a")
    assert page.status_code == 200
    body = page.content.decode()
    assert "NVIDIA GeForce RTX 4090" in body and 'id="findings"' in body
    partial = client.get(f"/builds/new/?l={GPU}*2", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()  # only the configurator region
    assert partial["HX-Push-Url"].startswith("/builds/new/?l=")
    assert "HX-Request" in partial["Vary"]


def test_configurator_per_line_controls_redirect_to_canonical_url_without_js(client, seed_catalogue):
    response = client.get(f"/builds/new/?l={GPU}*1&q0=2&r0=16")
    assert response.status_code == 302
    assert response["Location"].endswith(f"l={GPU}*2~r")


def test_configurator_bad_lines_are_reported_not_500(client, seed_catalogue):
    response = client.get("/builds/new/?l=nope*1&l=" + GPU + "*99&l=" + GPU + "*1~zz&kwh=abc&circuit=9000v")
    assert response.status_code == 200
    text = response.content.decode()
    assert "no part" in text and "quantity must be between 1 and 16" in text and "kwh" in text


@pytest.mark.parametrize("n_lines", [2, 10])
def test_recheck_query_count_is_constant(client, seed_catalogue, django_assert_max_num_queries, n_lines):
    build = seed_catalogue["4x-4090-threadripper-pro-trainer"]
    state = state_from_build(build, selectors.build_lines(build))
    state.lines = (state.lines * 3)[:n_lines]
    with django_assert_max_num_queries(10):
        response = client.get(
            f"/builds/new/?{state.query()}&nocache={n_lines}", headers={"HX-Request": "true"}
        )
    assert response.status_code == 200


def test_picker_marks_incompatible_parts(client, seed_catalogue):
    state = "l=msi-mpg-x670e-carbon-wifi*1"
    compatible = client.get(f"/builds/pick/cpu/?{state}", headers={"HX-Request": "true"}).content.decode()
    every = client.get(f"/builds/pick/cpu/?{state}&all=on", headers={"HX-Request": "true"}).content.decode()
    assert "AMD Ryzen 9 7900X" in compatible  # AM5 on an AM5 board
    assert "Ryzen 5 1600" not in compatible  # AM4
    assert "Ryzen 5 1600" in every and "Incompatible" in every and "AM4" in every


def test_save_share_edit_fork_and_revisions(client, seed_catalogue):
    response = client.post(
        "/builds/new/", {"l": [f"{GPU}*2", "corsair-ax1600i*1"], "name": "My rig", "visibility": "unlisted"}
    )
    assert response.status_code == 302
    build = Build.objects.get(name="My rig")
    assert response["Location"] == f"/b/{build.share_id}/edit/"
    assert client.get(response["Location"]).status_code == 200  # the creator's cookie holds the edit token

    stranger = client.__class__()
    assert stranger.get(f"/b/{build.share_id}/edit/").status_code == 403
    shared = stranger.get(f"/b/{build.share_id}/")
    assert shared.status_code == 200 and "My rig" in shared.content.decode()
    for region in ('id="totals"', 'id="findings"', 'id="power"', 'id="workloads"'):
        assert region in shared.content.decode()  # the shared page shows the whole report

    client.post(
        f"/b/{build.share_id}/edit/", {"l": [f"{GPU}*1"], "name": "My rig v2", "visibility": "public"}
    )
    build.refresh_from_db()
    assert build.name == "My rig v2" and build.revision_count == 2
    first = client.get(f"/b/{build.share_id}/r/1/")
    assert first.status_code == 200 and "My rig" in first.content.decode()
    assert BuildRevision.objects.get(build=build, number=1).snapshot["items"][0]["quantity"] == 2

    fork = stranger.post(f"/b/{build.share_id}/fork/")
    forked = Build.objects.exclude(pk=build.pk).get(forked_from=build)
    assert fork["Location"] == f"/b/{forked.share_id}/edit/"
    assert stranger.get(fork["Location"]).status_code == 200
    build.refresh_from_db()
    assert build.revision_count == 2  # forking never edits the original


def test_exports_open_correctly(client, seed_catalogue):
    build = seed_catalogue["dual-4090-home-server"]
    md = client.get(f"/b/{build.share_id}/?format=md")
    assert md["Content-Type"].startswith("text/markdown")
    table = [line for line in md.content.decode().splitlines() if line.startswith("|")]
    assert table[0] == "| Category | Part | Qty | Price today |" and len(table) >= 4
    rows = list(csv.DictReader(io.StringIO(client.get(f"/b/{build.share_id}/?format=csv").content.decode())))
    assert {r["slug"] for r in rows} >= {GPU, "msi-mpg-x670e-carbon-wifi"}
    data = json.loads(client.get(f"/b/{build.share_id}/?format=json").content)
    assert data["share_id"] == build.share_id and data["report"]["findings"] is not None
    assert client.get(f"/b/{build.share_id}/?format=xls").status_code == 400


def test_compare_three_seed_rigs(client, seed_catalogue):
    ids = [
        seed_catalogue[k].share_id
        for k in ("dual-4090-home-server", "iva-2x-3090-open-frame", "single-3090-build-out")
    ]
    page = client.get("/compare/?b=" + ",".join(ids))
    text = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in text
    # Best and worst marked where one build stands out (issue 15, item 10), not every row that differs.
    assert text.count('class="cmp-best"') >= 5 and text.count('class="cmp-worst"') >= 5
    assert 'class="diff"' not in text
    for key in (
        "VRAM",
        "Lanes per GPU",
        "Transient peak",
        "Circuit use",
        "Price per GB VRAM",
        "Workloads that fit",
    ):
        assert key in text
    assert "x8 / x8" in text  # dual 4090 and Iva both run their cards at x8/x8


def test_home_links_the_example_builds(client, seed_catalogue):
    text = client.get("/").content.decode()
    for build in seed_catalogue.values():
        assert f'href="/b/{build.share_id}/"' in text


def test_retired_part_stays_in_builds_and_saved_price_beside_today(client, seed_catalogue):
    build = seed_catalogue["single-3090-build-out"]
    part = Part.objects.get(slug="evga-geforce-rtx-3090-ftw3-ultra")
    with pytest.raises(ProtectedError):
        part.delete()
    Part.objects.filter(pk=part.pk).update(retired=True)
    price_quote_add(part=part, amount=450, currency="USD", condition="new", source="test")
    page = client.get(f"/b/{build.share_id}/").content.decode()
    assert "EVGA" in page and "$450" in page  # today's price beside the one saved with the build


def test_example_builds_show_the_verdicts_their_authors_met(client, seed_catalogue):
    def codes(key):
        build = seed_catalogue[key]
        data = json.loads(client.get(f"/b/{build.share_id}/?format=json").content)
        return {f["code"] for f in data["report"]["findings"]}, data["report"]

    trainer, _ = codes("4x-4090-threadripper-pro-trainer")
    assert "CIRCUIT_OVERLOAD" in trainer  # two 1500 W PSUs on one 120 V / 15 A line
    mining, report = codes("3x-3090-mining-rig-conversion")
    assert {"GPU_LINK_X1", "RAM_BELOW_2X_VRAM"} <= mining
    dual, report = codes("dual-4090-home-server")
    assert "GPU_SLOT_OBSTRUCTED" not in dual and "SLOTS_EXHAUSTED" not in dual
    assert sorted(lane["width"] for lane in report["lanes"] if lane["kind"] == "gpu") == [8, 8]
    single, _ = codes("single-3090-build-out")
    assert not {f for f in single if f in {"PSU_INSUFFICIENT", "GPU_SLOT_OBSTRUCTED", "CIRCUIT_OVERLOAD"}}
    iva, _ = codes("iva-2x-3090-open-frame")
    assert not {"TRANSIENT_RISK", "PSU_INSUFFICIENT"} & iva


def test_custom_part_with_typed_specs(client, seed_catalogue):
    ok = client.get(
        "/builds/custom/",
        {
            "l": f"{GPU}*1",
            "category": "gpu",
            "name": "Blower 48G",
            "spec": "vram_gb = 48\nboard_power_w = 300\ncooler = blower",
        },
    )
    assert ok.status_code == 302 and "~" not in ok["Location"].split("&l=c:")[0]
    page = client.get(ok["Location"]).content.decode()
    assert "Blower 48G" in page and "72 GB" in page  # 24 + 48 GB of VRAM
    bad = client.get("/builds/custom/", {"category": "gpu", "name": "x", "spec": "vram_gb = -1"})
    assert bad.status_code == 200 and "gpu.vram_gb" in bad.content.decode()
    junk = client.get("/builds/custom/", {"category": "gpu", "name": "x", "spec": "colour = red"})
    assert "gpu.colour" in junk.content.decode()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/builds/new/?l=a%00b*1", 200),  # PostgreSQL refuses NUL in text: never let one reach a query
        ("/builds/pick/gpu/?l=%00*1", 200),
        ("/b/a%00b/", 404),
        ("/api/v1/builds/a%00b", 404),
        ("/compare/?b=a%00b,c", 200),
        ("/parts/gpu/?q=%00", 200),
    ],
)
def test_nul_bytes_never_reach_the_database(client, seed_catalogue, url, status):
    assert client.get(url).status_code == status


def test_revision_page_names_placement_in_words(client, seed_catalogue):
    """Issue 14: the revision page printed placement as a Python dict ({'riser': True, 'psu': [0, 0, 1, 1]})."""
    response = client.post(
        "/builds/new/",
        {
            "l": [f"{GPU}*2~s1.4~r~p0.1~w300", "corsair-ax1600i*2", "msi-mpg-x670e-carbon-wifi*1"],
            "name": "Placed",
            "visibility": "unlisted",
        },
    )
    assert response.status_code == 302
    build = Build.objects.get(name="Placed")
    page = client.get(f"/b/{build.share_id}/r/1/").content.decode()
    assert "slots 1, 4; on a riser cable; PSUs 1, 2; power limit 300 W" in page
    assert "automatic" in page  # the PSU line: nothing set
    assert "{" not in page.split("<tbody>")[1].split("</tbody>")[0]  # no dict or JSON in the table


def test_placement_words_and_round_trips():
    from catalog.engine.placement import Placement

    placement = Placement.from_json({"riser": True, "psu": [0, 0, 1, 1]})
    assert placement.describe() == "on a riser cable; PSUs 1, 1, 2, 2"
    assert Placement.from_json({"riser": True, "riser_width": 1}).describe() == "on an x1 extender"
    assert Placement.from_json({"riser": False, "slots": [2]}).describe() == "slot 2; in the slot"
    assert Placement().describe() == "automatic"
    full = Placement(slots=(1, 4), riser=True, riser_width=8, psu=(0, 1), power_limit_w=287.5)
    assert Placement.from_json(full.as_json()) == full
    assert Placement.from_flags(full.flags(), "line 1") == full
    assert full.flags() == ["s1.4", "r8", "p0.1", "w287.5"]
    engine = full.engine_fields()
    assert engine == {"slots": (1, 4), "riser": True, "riser_width": 8, "psu": (0, 1), "power_limit_w": 287.5}

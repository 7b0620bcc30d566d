"""Nothing lost (issue 17, items 1, 2 and 16): a PATCH changes exactly the fields it names, saving the edit
page keeps what the page does not show, one validation range for the page and the API, and the JSON export
posted back through the API gives the same build."""

import html
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from builds.models import Build

pytestmark = pytest.mark.django_db

GPU = "nvidia-geforce-rtx-4090-fe"
BOARD = "msi-mpg-x670e-carbon-wifi"
PSU = "corsair-ax1600i"
CPU = "amd-ryzen-9-7900x"
WORKLOAD = {"model": "codellama-34b", "method": "inference"}
# Fields of a build as the API shows them (GET and the JSON export), each compared when not named.
FIELDS = ("name", "description", "visibility", "currency", "context", "workloads", "parts", "inline_parts")
FULL = {
    "name": "Everything set",
    "description": "all fields",
    "visibility": "public",
    "currency": "EUR",
    "context": {"circuit": {"volts": 230.5, "amps": 13}, "kwh_price": 55.5, "hours_per_day": 12.25},
    "workloads": [WORKLOAD],
    "parts": [
        {
            "slug": GPU,
            "quantity": 2,
            "slots": [1, 3],
            "price_paid": {"amount": "1599.99", "currency": "EUR", "condition": "used"},
            "saved_price_usd": "1234.56",
        },
        {"slug": BOARD, "price_paid": {"amount": "300", "currency": "USD", "condition": "new"}},
        {"slug": PSU},
    ],
    "inline_parts": [
        {
            "category": "cpu",
            "name": "Engineering sample",
            "spec": {"socket": "AM5", "cores": 16},
            "price_paid": {"amount": "99.5", "currency": "GBP", "condition": "used"},
        }
    ],
}
# Other valid values for each field, which a PATCH may name.
NEW_VALUES = {
    "name": st.text(min_size=1, max_size=60).filter(lambda s: s.strip() and "\x00" not in s),
    "description": st.text(max_size=80).filter(lambda s: "\x00" not in s),
    "visibility": st.sampled_from(["unlisted", "public"]),
    "currency": st.sampled_from(["USD", "EUR", "GBP", "JPY", "CNY"]),
    "context": st.sampled_from(
        [{}, {"circuit": "230v-16a"}, {"kwh_price": 0.31}, {"circuit": {"volts": 120, "amps": 20.5}}]
    ),
    "workloads": st.sampled_from([[], [WORKLOAD], [WORKLOAD, {"model": "codellama-34b", "method": "lora"}]]),
    "parts": st.sampled_from([[], [{"slug": GPU}], [{"slug": CPU}, {"slug": PSU, "quantity": 2}]]),
    "inline_parts": st.sampled_from(
        [[], [{"category": "gpu", "name": "Blower 48G", "spec": {"vram_gb": 48}, "quantity": 2}]]
    ),
}


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def patch(client, share_id, token, body):
    return client.patch(
        f"/api/v1/builds/{share_id}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-Edit-Token": token},
    )


def shown(client, share_id) -> dict:
    """The build's fields as GET shows them; a part's `position` (its index among all lines, which moves
    when lines of the other kind are added or removed) is left out: the lists themselves are in order."""
    data = client.get(f"/api/v1/builds/{share_id}").json()
    for part in data["parts"] + data["inline_parts"]:
        part.pop("position")
    return {key: data[key] for key in FIELDS}


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000


def without_prices(body: dict) -> dict:
    def strip(parts):
        return [{k: v for k, v in p.items() if k not in ("price_paid", "saved_price_usd")} for p in parts]

    return body | {"parts": strip(body["parts"]), "inline_parts": strip(body["inline_parts"])}


@pytest.fixture
def full_build(client, seed_catalogue):
    created = post(client, "/api/v1/builds", FULL)
    assert created.status_code == 201, created.content
    return created.json()["share_id"], created.json()["edit_token"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.fixed_dictionaries({}, optional=NEW_VALUES))
def test_patch_changes_exactly_the_fields_it_names(client, seed_catalogue, changes):
    # A fresh build with every field set (prices paid and saved left to their defaults) for each example.
    created = post(client, "/api/v1/builds", without_prices(FULL)).json()
    share_id, token = created["share_id"], created["edit_token"]
    before = shown(client, share_id)
    response = patch(client, share_id, token, changes)
    assert response.status_code == 200, response.content
    after = shown(client, share_id)
    for key in FIELDS:
        if key not in changes:
            assert after[key] == before[key], key  # every field the PATCH does not name, exactly as it was
    if "name" in changes:
        assert after["name"] == changes["name"].strip()
    for key in ("description", "visibility", "currency", "context", "workloads"):
        if key in changes:
            assert after[key] == changes[key]
    for key, ident in (("parts", "slug"), ("inline_parts", "name")):
        if key in changes:
            assert [(p[ident], p.get("quantity", 1)) for p in changes[key]] == [
                (p[ident], p["quantity"]) for p in after[key]
            ]


def test_patching_parts_keeps_the_prices_of_lines_it_continues(client, full_build):
    share_id, token = full_build
    before = shown(client, share_id)
    # The same parts, as a client that knows nothing of prices would send them, one quantity changed.
    body = {"parts": [{"slug": GPU, "quantity": 1}, {"slug": BOARD}, {"slug": PSU}]}
    assert patch(client, share_id, token, body).status_code == 200
    after = shown(client, share_id)
    assert [p["price_paid"] for p in after["parts"]] == [p["price_paid"] for p in before["parts"]]
    assert after["parts"][0]["saved_price_usd"] == "1234.56"
    assert after["inline_parts"] == before["inline_parts"]
    # Named explicitly, a price is replaced or cleared.
    body["parts"][1]["price_paid"] = None
    body["parts"][2]["saved_price_usd"] = "10.00"
    assert patch(client, share_id, token, body).status_code == 200
    after = shown(client, share_id)
    assert after["parts"][1]["price_paid"] is None and after["parts"][2]["saved_price_usd"] == "10.00"


def save_form_post(client, share_id) -> dict:
    """What the edit page's save form posts, read from the page itself (the state field and the form)."""
    page = client.get(f"/b/{share_id}/edit/")
    assert page.status_code == 200
    form = re.search(r'<form method="post".*?</form>', page.content.decode(), re.S)[0]
    data = {"state": html.unescape(re.search(r'name="state"[^>]*value="([^"]*)"', form)[1])}
    data["name"] = html.unescape(re.search(r'name="name"[^>]*value="([^"]*)"', form)[1])
    data["description"] = html.unescape(re.search(r'name="description"[^>]*>([^<]*)</textarea>', form)[1])
    data["visibility"] = re.search(r'<option value="(\w+)" selected', form)[1]
    return data


@pytest.fixture
def owner_client(client):
    user = get_user_model().objects.create_user("owner", password="x" * 20)
    client.force_login(user)
    return client


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kwh=st.floats(0, 100),
    hours=st.floats(0, 24),
    volts=st.floats(90, 480),
    amps=st.floats(1, 100),
    paid=st.decimals("0.01", "99999", places=2),
    power_limit=st.floats(10, 5000),
    riser_width=st.sampled_from([1, 4, 8, 16]),
)
def test_saving_the_edit_page_unchanged_keeps_every_field(
    owner_client, seed_catalogue, kwh, hours, volts, amps, paid, power_limit, riser_width
):
    """Anything the API accepts survives a save of the edit page: context figures across the API's whole
    range (one range everywhere), custom circuits with decimals, prices paid and saved."""
    client = owner_client
    body = FULL | {
        "context": {"circuit": {"volts": volts, "amps": amps}, "kwh_price": kwh, "hours_per_day": hours}
    }
    gpu = dict(
        FULL["parts"][0], price_paid={"amount": str(paid), "currency": "USD"}, power_limit_w=power_limit
    )
    body["parts"] = [gpu | {"riser": True, "riser_width": riser_width}]
    created = post(client, "/api/v1/builds", body)
    assert created.status_code == 201, created.content
    share_id = created.json()["share_id"]
    before = shown(client, share_id)
    saved = client.post(f"/b/{share_id}/edit/", save_form_post(client, share_id))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    after = shown(client, share_id)
    assert after == before
    assert Build.objects.get(share_id=share_id).revision_count == 2


def test_edit_page_changes_only_what_the_user_changed(owner_client, seed_catalogue):
    client = owner_client
    share_id = post(client, "/api/v1/builds", FULL).json()["share_id"]
    before = shown(client, share_id)
    data = save_form_post(client, share_id)
    data["state"] = data["state"].replace("kwh=55.5", "kwh=0.2")  # the user sets another electricity price
    data["name"] = "Renamed"
    assert client.post(f"/b/{share_id}/edit/", data).status_code == 302
    after = shown(client, share_id)
    assert after["context"] == before["context"] | {"kwh_price": 0.2}
    assert after["name"] == "Renamed" and after["parts"] == before["parts"]


@pytest.mark.parametrize(
    ("query_value", "api_value"), [("kwh=55", 55), ("kwh=100", 100), ("hours=24", 24), ("kwh=0", 0)]
)
def test_page_and_api_share_one_range(client, seed_catalogue, query_value, api_value):
    key = {"kwh": "kwh_price", "hours": "hours_per_day"}[query_value.split("=")[0]]
    assert post(client, "/api/v1/check", {"context": {key: api_value}}).status_code == 200
    page = client.get(f"/builds/new/?l={GPU}*1&{query_value}").content.decode()
    assert f"{query_value.split('=')[0]}:" not in page  # no error line: the page takes what the API takes
    over = query_value.split("=")[0] + "=" + str(api_value + 100.5)
    assert post(client, "/api/v1/check", {"context": {key: api_value + 100.5}}).status_code == 400
    assert f"{over.split('=')[0]}: " in client.get(f"/builds/new/?l={GPU}*1&{over}").content.decode()


def test_power_limit_range_is_the_apis(client, seed_catalogue):
    body = {"parts": [{"slug": GPU, "power_limit_w": 1500}]}
    assert post(client, "/api/v1/check", body).status_code == 200
    # The page's power-limit control takes the same value: the state's clean address keeps it.
    response = client.get(f"/builds/new/?l={GPU}*1&w0=1500")
    assert response.status_code == 302 and "~w1500" in response["Location"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.fixed_dictionaries({}, optional=NEW_VALUES))
def test_json_export_posted_back_gives_the_same_build(client, full_build, changes):
    share_id, token = full_build
    assert patch(client, share_id, token, changes).status_code == 200
    export = client.get(f"/b/{share_id}/?format=json")
    assert export.status_code == 200
    document = json.loads(export.content)
    imported = post(client, "/api/v1/builds", document)  # the export as it is, read-only fields and all
    assert imported.status_code == 201, imported.content
    copy = json.loads(client.get(f"/b/{imported.json()['share_id']}/?format=json").content)
    for key in FIELDS:
        assert copy[key] == document[key], key
    assert copy["report"] == document["report"]


class BuildForm(HTMLParser):
    """The fields the edit page's re-check form submits (controls join it with form="build-form")."""

    def __init__(self):
        super().__init__()
        self.fields, self.in_form, self.select = [], False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_form = a.get("id") == "build-form"
        mine = self.in_form or a.get("form") == "build-form"
        if tag == "input" and mine and a.get("name"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and mine:
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    placement=st.fixed_dictionaries(
        {},
        optional={
            "riser": st.booleans(),
            "riser_width": st.sampled_from([1, 4, 8, 16]),
            "power_limit_w": st.floats(10, 5000),
            "slots": st.just([2]),
        },
    )
)
def test_a_recheck_with_the_controls_as_shown_changes_nothing(client, seed_catalogue, placement):
    """Whatever placement the API accepts, the page's controls show it so that submitting them unchanged
    (as every re-check of another control does) keeps it exactly."""
    from builds.configurator.state import State
    from builds.inputs import Line
    from catalog.engine.placement import Placement

    assume(post(client, "/api/v1/check", {"parts": [{"slug": GPU} | placement]}).status_code == 200)
    query = State(lines=[Line(slug=GPU, placement=Placement.from_json(placement)), Line(slug=PSU)]).query()
    page = client.get(f"/builds/new/?{query}")
    assert page.status_code == 200
    form = BuildForm()
    form.feed(page.content.decode())
    fields = [(k, v) for k, v in form.fields if k != "v"]
    recheck = client.get("/builds/new/?" + urlencode(fields), headers={"HX-Request": "true"})
    assert recheck.status_code == 200
    assert recheck["HX-Push-Url"] == f"/builds/new/?{query}"


def test_export_and_import_keep_the_order_of_catalogue_and_custom_lines(client, seed_catalogue):
    """A build made on the page mixes catalogue and custom lines; PSU units are numbered in line order, so
    the order is part of the build: the export's positions give it back on import."""
    from builds.configurator.state import State
    from builds.inputs import Line
    from catalog.engine.placement import Placement

    custom_psu = Line(category="psu", name="Own PSU", spec={"wattage_w": 850})
    custom_gpu = Line(category="gpu", name="Own GPU", spec={"board_power_w": 300, "vram_gb": 24})
    lines = [
        custom_psu,
        Line(slug=GPU, placement=Placement(psu=(1,))),
        Line(slug=PSU),
        custom_gpu,
        Line(slug=GPU, placement=Placement(psu=(0,))),
    ]
    state = State(lines=lines).query()
    made = client.post("/builds/new/", {"state": state, "name": "mixed", "visibility": "unlisted"})
    assert made.status_code == 302
    share_id = made["Location"].split("/")[2]
    document = json.loads(client.get(f"/b/{share_id}/?format=json").content)
    assert [p["position"] for p in document["inline_parts"]] == [0, 3]
    imported = post(client, "/api/v1/builds", document)
    assert imported.status_code == 201, imported.content
    copy = json.loads(client.get(f"/b/{imported.json()['share_id']}/?format=json").content)
    for key in FIELDS:
        assert copy[key] == document[key], key
    assert copy["report"] == document["report"]


def test_the_edit_page_and_patch_change_a_build_through_one_service(
    owner_client, seed_catalogue, monkeypatch
):
    # One way a saved build changes (issue 14): both paths go through services.build_update, which keeps
    # what the change does not touch; a second path that skips it could lose data again.
    from builds import services

    calls = []
    real = services.build_update

    def spy(**kwargs):
        calls.append(kwargs["note"])
        return real(**kwargs)

    monkeypatch.setattr(services, "build_update", spy)
    created = post(owner_client, "/api/v1/builds", FULL).json()
    share_id, token = created["share_id"], created["edit_token"]
    assert patch(owner_client, share_id, token, {"name": "By the API"}).status_code == 200
    data = save_form_post(owner_client, share_id)
    data["name"] = "By the page"
    assert owner_client.post(f"/b/{share_id}/edit/", data).status_code == 302
    assert calls == ["api", "saved"]
    assert Build.objects.get(share_id=share_id).revision_count == 3

"""Issue 15, item 5: after a save the page shows the share link (once) with a copy button; "Add to compare" on
every build page keeps a list of at most 4 (the newest replaces the oldest); the compare page takes builds
by name from a list, still reads ?b= links, and names the problem when the choice is not 2 to 4 builds."""

import html
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builds import compare
from builds.models import Build

pytestmark = pytest.mark.django_db

GPU = "nvidia-geforce-rtx-4090-fe"
SAVED = "Anyone with this link can view it"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def save_new(client, name="Shared rig"):
    response = client.post(
        "/builds/new/", {"l": [f"{GPU}*1", "corsair-ax1600i*1"], "name": name, "visibility": "unlisted"}
    )
    assert response.status_code == 302, response.content[:500]
    return Build.objects.get(name=name), response["Location"]


def share_input(page: str) -> re.Match | None:
    return re.search(r'<input id="share-link"[^>]*value="([^"]+)"', page)


def test_saving_a_new_build_shows_the_share_link_once(client, seed_catalogue):
    build, location = save_new(client)
    assert location == f"/b/{build.share_id}/edit/"
    page = text_of(client.get(location))
    assert "Saved." in page and SAVED in page
    field = share_input(page)
    assert field and field.group(1) == f"http://testserver/b/{build.share_id}/"
    # The input is labelled by the sentence, read-only; the copy button names its input and live status.
    assert '<label for="share-link">Anyone with this link can view it:</label>' in page
    assert re.search(r'<input id="share-link"[^>]*readonly', page)
    button = re.search(r'<button[^>]*data-copy="share-link"[^>]*>Copy link</button>', page)
    assert button and 'data-copy-status="share-link-status"' in button.group(0)
    assert re.search(r'id="share-link-status"[^>]*aria-live="polite"', page)
    assert re.search(r'<script src="/static/js/share.js" nonce="[^"]+" defer></script>', page)
    # Once: the next visit has the compact share row, not the confirmation.
    again = text_of(client.get(location))
    assert SAVED not in again and "Saved." not in again
    assert share_input(again) and "Share link" in again


def test_saving_a_revision_confirms_on_the_shared_page_once(client, seed_catalogue):
    build, _ = save_new(client)
    response = client.post(
        f"/b/{build.share_id}/edit/",
        {"l": [f"{GPU}*2", "corsair-ax1600i*1"], "name": "Shared rig v2", "visibility": "unlisted"},
    )
    assert response.status_code == 302 and response["Location"] == f"/b/{build.share_id}/"
    page = text_of(client.get(response["Location"]))
    assert "Saved (revision 2)." in page and SAVED in page
    assert share_input(page).group(1) == f"http://testserver/b/{build.share_id}/"
    later = text_of(client.get(response["Location"]))
    assert SAVED not in later
    assert share_input(later), "the editor keeps a compact share link on the shared page"


def test_strangers_get_no_share_panel_and_a_failed_save_no_confirmation(
    client, seed_catalogue, django_user_model
):
    from django.test import Client

    build, _ = save_new(client)
    stranger = text_of(Client().get(f"/b/{build.share_id}/"))
    assert share_input(stranger) is None and "Add to compare" in stranger
    refused = client.post("/builds/new/", {"l": [f"{GPU}*1"], "name": "", "visibility": "unlisted"})
    assert refused.status_code == 200 and SAVED not in text_of(refused)


def add(client, build, next_url="/"):
    return client.post("/compare/", {"add": build.share_id, "next": next_url})


def test_add_to_compare_adds_limits_to_four_and_removes(client, seed_catalogue):
    examples = sorted(seed_catalogue.values(), key=lambda b: b.name)
    assert len(examples) >= 5
    first = examples[0]
    detail = text_of(client.get(first.get_absolute_url()))
    assert f'name="add" value="{first.share_id}"' in detail and "Compare (0)" in detail

    response = add(client, first, first.get_absolute_url())
    assert response.status_code == 302 and response["Location"] == first.get_absolute_url()
    page = text_of(client.get(first.get_absolute_url()))
    assert f"Added “{first.name}” to your compare list (1 of 4)." in page
    assert "Compare (1)" in page and f'name="remove" value="{first.share_id}"' in page

    add(client, first)  # twice: still once
    assert compare.compare_list(client.get("/").wsgi_request) == [first.share_id]

    for build in examples[1:4]:
        add(client, build)
    ids = [b.share_id for b in examples[:4]]
    assert client.cookies[compare.COOKIE].value == ".".join(ids)
    page = text_of(client.get(examples[3].get_absolute_url()))
    assert "Compare (4)" in page and f'href="/compare/?b={",".join(ids)}"' in page
    assert "List full: adding replaces the oldest." in text_of(client.get(examples[4].get_absolute_url()))

    add(client, examples[4], examples[4].get_absolute_url())
    page = text_of(client.get(examples[4].get_absolute_url()))
    assert f"it replaced the oldest, “{first.name}”" in page
    assert client.cookies[compare.COOKIE].value == ".".join(ids[1:] + [examples[4].share_id])

    client.post("/compare/", {"remove": examples[2].share_id, "next": "/compare/"})
    page = text_of(client.get("/compare/", follow=True))
    assert f"Removed “{examples[2].name}” from your compare list (3 of 4 left)." in page
    assert client.cookies[compare.COOKIE].value == ".".join(
        [examples[1].share_id, examples[3].share_id, examples[4].share_id]
    )


def test_add_to_compare_from_the_revision_and_edit_pages(client, seed_catalogue):
    build, location = save_new(client)
    client.get(location)  # the confirmation, read
    edit = text_of(client.get(location))
    assert f'name="add" value="{build.share_id}"' in edit and "Compare (0)" in edit
    revision = text_of(client.get(f"/b/{build.share_id}/r/1/"))
    assert f'name="add" value="{build.share_id}"' in revision
    add(client, build, f"/b/{build.share_id}/r/1/")
    assert "Compare (1)" in text_of(client.get(f"/b/{build.share_id}/r/1/"))


def test_compare_list_changes_refuse_bad_input_clearly(client, seed_catalogue):
    example = next(iter(seed_catalogue.values()))
    for body in ({"add": "no-such-build"}, {"add": "<script>"}, {"remove": ""}, {}):
        response = client.post("/compare/", body | {"next": "https://evil.example/"})
        assert response.status_code == 302 and response["Location"] == "/compare/"  # never off-site
        page = text_of(client.get("/compare/"))
        assert "Compare list unchanged: no build with the id" in page
        assert "<script>" not in response.content.decode()
    assert (
        client.post("/compare/", {"add": example.share_id, "next": "//evil.example/x"})["Location"]
        == "/compare/"
    )
    assert client.get("/compare/", {"b": "x"}).status_code == 200
    assert client.put("/compare/").status_code == 405


def checkbox_names(page: str) -> dict[str, list[str]]:
    """legend -> the names of the checkboxes in its fieldset."""
    groups = {}
    for legend, body in re.findall(r'<legend class="h6">([^<]+)</legend>(.*?)</fieldset>', page, re.S):
        groups[legend] = re.findall(
            r'<label class="form-check-label text-break" for="[^"]+">([^<]+)</label>', body
        )
    return groups


def test_compare_page_lists_builds_by_name_in_groups(client, seed_catalogue):
    mine, _ = save_new(client, "My own rig")
    featured = [b for b in seed_catalogue.values() if b.visibility == "featured"]
    listed = sorted(seed_catalogue.values(), key=lambda b: b.name)[0]
    add(client, listed)
    page = text_of(client.get("/compare/"))
    groups = checkbox_names(page)
    assert groups["Your compare list"] == [listed.name]
    assert groups["Your builds"] == ["My own rig"]
    assert set(groups["Examples"]) == {b.name for b in featured} - {listed.name}
    # No raw-id text box as the main control; the compare list is ticked by default.
    assert re.search(rf'value="{listed.share_id}" id="choose-list-1" checked', page)
    assert not re.search(rf'value="{mine.share_id}" id="choose-yours-1" checked', page)
    assert f'aria-label="Remove “{listed.name}” from your compare list"' in page
    # A build of yours in the compare list shows once; its group says where it is.
    add(client, mine)
    page = text_of(client.get("/compare/", follow=True))
    groups = checkbox_names(page)
    assert groups["Your compare list"] == [listed.name, "My own rig"] and groups["Your builds"] == []
    assert "Already listed above (1)." in page


def test_compare_page_compares_the_chosen_builds(client, seed_catalogue):
    chosen = [seed_catalogue["dual-4090-home-server"], seed_catalogue["single-3090-build-out"]]
    # Checkboxes submit b=<id>&b=<id>; the old comma form and pasted links still work.
    for query in (
        {"b": [b.share_id for b in chosen]},
        {"b": ",".join(b.share_id for b in chosen)},
        {
            "b": [
                f"http://testserver/b/{chosen[0].share_id}/",
                f"https://x.example/b/{chosen[1].share_id}/edit/",
            ]
        },
    ):
        response = client.get("/compare/", query)
        page = text_of(response)
        assert response.status_code == 200 and "<svg" in page and 'role="alert"' not in page, query
        headers = re.findall(r'<th scope="col"><a class="text-break" href="[^"]+">([^<]+)</a>', page)
        assert headers == [b.name for b in chosen]
        for build in chosen:
            assert re.search(rf'value="{build.share_id}" id="choose-[a-z]+-\d+" checked', page)
    # Each column's Remove comes back to the comparison without it.
    three = chosen + [seed_catalogue["iva-2x-3090-open-frame"]]
    page = text_of(client.get("/compare/", {"b": [b.share_id for b in three]}))
    assert f'name="next" value="/compare/?b={three[1].share_id},{three[2].share_id}"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"b": ""}, "You chose 0 builds: choose at least 2 to compare."),
        ({"b": "ONE"}, "You chose 1 build (“{0}”): choose at least 2 to compare."),
        ({"b": "nosuchbuild00,ONE"}, "No build with the id nosuchbuild00."),
        ({"b": "ONE,<b>x</b>"}, "Not a share id or build link: <b>x</b>."),
        (
            {"b": ["ONE", "TWO", "THREE", "FOUR", "FIVE"]},
            "You chose 5 builds: compare takes 2 to 4. Untick 1.",
        ),
    ],
)
def test_bad_choices_are_named(client, seed_catalogue, query, message):
    builds = sorted(seed_catalogue.values(), key=lambda b: b.name)
    names = dict(zip(["ONE", "TWO", "THREE", "FOUR", "FIVE"], builds, strict=False))

    def fill(value: str) -> str:
        for key, build in names.items():
            value = value.replace(key, build.share_id)
        return value

    query = {k: [fill(x) for x in v] if isinstance(v, list) else fill(v) for k, v in query.items()}
    response = client.get("/compare/", query)
    assert response.status_code == 200
    problem = re.search(r'role="alert" id="compare-problem">(.*?)</div>', response.content.decode(), re.S)
    assert problem, "no message"
    assert message.format(builds[0].name) in html.unescape(problem.group(1))
    assert "<b>x</b>" not in response.content.decode()  # escaped
    assert "<svg" not in response.content.decode() or "compare-table" not in response.content.decode()


def test_bare_compare_page_is_not_an_error_and_opens_the_list(client, seed_catalogue):
    page = client.get("/compare/").content.decode()
    assert 'role="alert"' not in page and "Tick 2 to 4 builds" in page
    first, second = sorted(seed_catalogue.values(), key=lambda b: b.name)[:2]
    add(client, first)
    assert client.get("/compare/").status_code == 200  # one build: the page to choose more
    add(client, second)
    response = client.get("/compare/")
    assert (
        response.status_code == 302
        and response["Location"] == f"/compare/?b={first.share_id},{second.share_id}"
    )


@pytest.fixture
def roomy(settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.one_of(
            st.text(max_size=80),
            st.sampled_from(["", ",", "/b/", "/b/x/", "a,b,c,d,e", "\x00", "é" * 70, "/b/" + "a" * 65]),
        ),
        max_size=8,
    ),
    cookie=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100),  # a header is ASCII
)
def test_compare_never_500(client, seed_catalogue, roomy, values, cookie):
    client.cookies[compare.COOKIE] = cookie
    response = client.get("/compare/", {"b": values})
    assert response.status_code == 200
    post = client.post(
        "/compare/", {"add": values[0] if values else "", "next": values[-1] if values else ""}
    )
    assert post.status_code == 302 and post["Location"].startswith("/")

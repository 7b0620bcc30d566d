"""Django's {# #} comments are one line only: a multi-line one is printed on the page."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_no_multiline_single_brace_comments():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "{#" in line and "#}" not in line:
                offenders.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert offenders == []


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".svg")

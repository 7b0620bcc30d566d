"""The deployment the README gives (gunicorn with the repo's gunicorn.conf.py) serves every state the app
accepts (issue 17, item 15: a 4.4 KB configurator URL was a 414 from gunicorn's default 4094-byte limit)."""

import base64
import json
import runpy
from urllib.parse import urlencode

import pytest
import requests

from builds.configurator.state import MAX_STATE_CHARS, MAX_TOKEN_CHARS
from builds.inputs import MAX_ITEMS

from .servers import ROOT, gunicorn

CONFIG = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
GPU_SPEC = {"vram_gb": 24, "bf16_tflops": 165, "board_power_w": 450, "slot_width": 3, "length_mm": 300}


def longest_accepted_request_line() -> int:
    """The longest request line the app itself accepts, in bytes: a saved build's edit page with
    MAX_ITEMS lines of MAX_TOKEN_CHARS each (decode_line's limit) and every context parameter; or a picker
    with a MAX_STATE_CHARS state, every character percent-encoded (3 bytes) in the worst case."""
    edit = len("GET /b/" + "x" * 64 + "/edit/?") + MAX_ITEMS * len("l=" + "x" * MAX_TOKEN_CHARS + "&")
    edit += len("circuit=480v-100a&kwh=10&hours=24&cur=USD") + len(" HTTP/1.1")
    picker = len("GET /builds/pick/motherboard/?state=") + 3 * MAX_STATE_CHARS
    picker += len("&base=/b/" + "x" * 64 + "/edit/&q=" + "%FF" * 100 + "&sort=-price&all=on HTTP/1.1")
    return max(edit, picker)


def custom_line(n: int, name_chars: int = 40) -> str:
    payload = {"category": "gpu", "name": f"Custom GPU {n:02d} " + "n" * name_chars, "spec": GPU_SPEC}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return "c:" + base64.urlsafe_b64encode(raw).decode().rstrip("=") + "*1"


def test_the_configured_request_line_limit_exceeds_the_longest_state_the_app_accepts():
    longest = longest_accepted_request_line()
    assert longest > 500_000  # 64 lines of 8 KB: gunicorn's finite maximum (8190) cannot hold it
    limit = CONFIG["limit_request_line"]
    # gunicorn: 0 = no limit of its own (its C parser, when installed, caps an unlimited line at 1 MB).
    assert limit == 0 or limit >= longest
    assert limit != 0 or 1024 * 1024 >= longest
    assert CONFIG["limit_request_field_size"] >= 16384  # legacy edit cookies get through once


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_the_repo_config_serves_long_configurator_urls():
    six_kb = "&".join("l=" + custom_line(n, name_chars=90) for n in range(20))
    assert 5500 < len(six_kb) < 7000
    big = "&".join("l=" + custom_line(n, name_chars=150) for n in range(MAX_ITEMS))
    assert len(big) > 3 * 8190
    with gunicorn({}) as url:
        page = requests.get(f"{url}/builds/new/?{six_kb}", timeout=60)
        assert page.status_code == 200, page.text[:500]
        assert "Custom GPU 19" in page.text
        page = requests.get(f"{url}/builds/new/?{big}", timeout=60)
        assert page.status_code == 200 and f"Custom GPU {MAX_ITEMS - 1:02d}" in page.text
        picker = requests.get(f"{url}/builds/pick/gpu/?" + urlencode({"state": big, "all": "on"}), timeout=60)
        assert picker.status_code == 200
        # A browser with many old per-build edit cookies still reaches the app (which folds them into one).
        jar = "; ".join(f"rigsite_edit_{n:022d}=" + "t" * 32 for n in range(150))
        assert len(jar) > 8190
        assert requests.get(f"{url}/", headers={"Cookie": jar}, timeout=60).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_without_the_config_gunicorn_refuses_the_same_url(tmp_path):
    """The contrast that shows the config is what serves them: gunicorn's defaults answer 414."""
    empty = tmp_path / "empty.conf.py"
    empty.write_text("")
    six_kb = "&".join("l=" + custom_line(n, name_chars=90) for n in range(20))
    with gunicorn({}, extra_args=["-c", str(empty)]) as url:
        assert requests.get(f"{url}/builds/new/?{six_kb}", timeout=60).status_code == 414

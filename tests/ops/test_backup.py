"""Backups, as the README's "Deploying" section says: dump, wipe, restore, same builds (PostgreSQL only)."""

import os
import subprocess

import pytest
from django.db import connection

from builds.inputs import Line
from builds.models import Build
from builds.services import build_create, build_save
from catalog.models import Gpu

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("RIGSITE_PG_BIN"), reason="needs the private PostgreSQL of the test run"
    ),
]


def pg_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    cmd = [
        os.path.join(os.environ["RIGSITE_PG_BIN"], name),
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
        "-U",
        db["USER"] or "postgres",
        *args,
    ]
    return subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def snapshot():
    return sorted(
        (
            b.share_id,
            b.name,
            b.revision_count,
            tuple((i.part.slug, i.quantity) for i in b.items.select_related("part")),
        )
        for b in Build.objects.all()
    )


def test_dump_wipe_restore_gives_the_same_builds(tmp_path):
    gpu = Gpu.objects.create(slug="backup-gpu", name="Backup GPU", category="gpu", vram_gb=24)
    build, _ = build_create(name="kept", items=[Line.for_part(gpu, quantity=2)])
    build_save(build=build, items=[Line.for_part(gpu, quantity=3)], note="second")
    before = snapshot()
    dump = tmp_path / "rigsite.dump"
    name = connection.settings_dict["NAME"]
    pg_tool("pg_dump", "-Fc", "-f", str(dump), name)
    Build.objects.all().delete()
    assert Build.objects.count() == 0
    connection.close()
    pg_tool("pg_restore", "--clean", "--if-exists", "-d", name, str(dump))
    assert snapshot() == before
    assert Build.objects.get(share_id=build.share_id).revisions.count() == 2

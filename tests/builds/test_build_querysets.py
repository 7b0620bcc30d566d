"""Build.objects.featured() / .public() / .listed(): the one definition of which builds lists may show."""

import pytest

from builds.models import Build, Visibility
from tests.catalog.factories import BuildFactory


@pytest.mark.django_db
def test_visibility_querysets():
    made = {v: BuildFactory(visibility=v, name=v) for v in Visibility.values}
    assert list(Build.objects.featured()) == [made[Visibility.FEATURED]]
    assert list(Build.objects.public()) == [made[Visibility.PUBLIC]]
    assert set(Build.objects.listed()) == {made[Visibility.FEATURED], made[Visibility.PUBLIC]}
    assert made[Visibility.UNLISTED] not in Build.objects.listed()

from django.apps import AppConfig


class BuildsConfig(AppConfig):
    name = "builds"
    verbose_name = "Builds"

    def ready(self):
        # The parts list's "compatible with build" filter reads saved builds; catalog cannot import builds
        # (the layers in pyproject.toml [tool.importlinter]), so builds hands it the reader.
        from builds.selectors import build_constraints
        from catalog import selectors

        selectors.build_constraints_reader = build_constraints

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Parts catalogue"

    def ready(self):
        from catalog import signals

        signals.connect(self)  # every catalogue write bumps the catalogue version on commit

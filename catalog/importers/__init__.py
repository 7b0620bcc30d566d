"""Importers that load third-party parts data into the catalogue (never over curated parts)."""

"""Readers for what parties send: GeoJSON notices (tracks readers join later)."""

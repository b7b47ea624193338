"""Shapes on the WGS84 ellipsoid: volumes, a local azimuthal-equidistant frame, exact distances."""

"""GET /v1/isochrone on the demo server (Monaco) against the reference H3 library and shapely.

The cells must be valid H3 cells at the asked resolution, and the GeoJSON MultiPolygon must be a valid geometry that
covers exactly the same area as h3-py's own outline of those cells (cells_to_h3shape), so Hexfleet's
H3.cellsToMultiPolygon is checked against an independent implementation.
"""
import h3
import pytest
from shapely.geometry import shape

from hexfleet_client import ADMIN, DEMO_HTTP, http

CENTRES = [(43.7384, 7.4246), (43.7311, 7.4197), (43.7502, 7.4363)]


@pytest.mark.parametrize("lat,lng", CENTRES)
@pytest.mark.parametrize("max_s,resolution", [(120, 9), (300, 9), (300, 10)])
def test_geojson_outline_matches_h3_reference(lat, lng, max_s, resolution):
    query = f"/v1/isochrone?lat={lat}&lng={lng}&max_s={max_s}&resolution={resolution}"
    status, body = http("GET", query, token=ADMIN, address=DEMO_HTTP)
    assert status == 200, body
    cells = body["cells"]
    assert cells, body
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == resolution for c in cells)
    assert len(set(cells)) == len(cells)
    status, geo = http("GET", query + "&format=geojson", token=ADMIN, address=DEMO_HTTP)
    assert status == 200, geo
    assert geo["type"] == "MultiPolygon"
    ours = shape(geo)
    assert ours.is_valid
    outline = h3.cells_to_h3shape(cells, tight=False)   # always a multipolygon
    reference = shape(outline.__geo_interface__)
    assert abs(ours.area - reference.area) <= 1e-6 * reference.area
    assert ours.symmetric_difference(reference).area <= 1e-6 * reference.area
    assert len(geo["coordinates"]) == len(outline)
    assert sum(len(polygon) - 1 for polygon in geo["coordinates"]) == sum(len(p.holes) for p in outline)


def test_longer_limit_reaches_more():
    short = http("GET", "/v1/isochrone?lat=43.7384&lng=7.4246&max_s=60", token=ADMIN, address=DEMO_HTTP)[1]["cells"]
    long = http("GET", "/v1/isochrone?lat=43.7384&lng=7.4246&max_s=600", token=ADMIN, address=DEMO_HTTP)[1]["cells"]
    assert len(long) > len(short)

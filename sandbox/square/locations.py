"""The Locations API: the seller's locations are the ledger's `square_location_ids` (the first is the main
location, where WooCommerce payments go)."""

from __future__ import annotations

from starlette.responses import Response

from .errors import SquareError
from .rendering import location
from .rest import Req, json_response
from .state import SquareState

__all__ = ["check_location", "get_location", "list_locations"]


def check_location(st: SquareState, location_id: str, field: str = "location_id") -> str:
    """A location id the token can see, or Square's 404."""
    if location_id not in st.location_ids:
        raise SquareError(404, "NOT_FOUND", f"Location `{location_id}` not found.", field=field)
    return location_id


def list_locations(st: SquareState, req: Req) -> Response:
    return json_response({"locations": [location(st, lid) for lid in st.location_ids]}, req)


def get_location(st: SquareState, req: Req) -> Response:
    lid = req.params["id"]
    if lid == "main":  # Square's alias for the main location
        lid = st.main_location
    return json_response({"location": location(st, check_location(st, lid, field="location_id"))}, req)

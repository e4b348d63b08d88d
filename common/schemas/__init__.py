"""API schemas (pydantic v2), shared by the server (validation, OpenAPI) and the client.

One module per feature; import from the feature module, e.g.
``from common.schemas.staff import StaffCreate``.
"""

"""The OpenAPI description, generated from the command table so it cannot drift from the code
(written by congress.routes.protocol.openapi, served at /api/openapi.json)."""

from __future__ import annotations

from congress.routes.protocol.openapi import openapi_document

__all__ = ["openapi_document"]

"""The protocol a client speaks, described from the command table so it cannot drift from the code.

`shapes` holds the small vocabulary the table declares arguments and results with; `markdown` and
`openapi` write docs/protocol.md's commands section and the OpenAPI document from the table;
`http` describes the HTTP endpoints that are not commands (pages, uploads, exports) from the
route tables; `raises` reads the actions' source (ast) for the error codes and permissions they
can answer, which a test holds against what the table declares. `docs/generate.py` rewrites the
generated text.
"""

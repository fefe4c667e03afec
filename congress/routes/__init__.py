"""The HTTP and websocket interface: the one websocket endpoint (ws.py), the HTTP API (api.py,
admin.py), documents and attachments, replay, the static pages (pages.py), OpenAPI (openapi.py),
security headers, the Origin check (origin.py) and bounded JSON reading (wire.py). Routes parse,
call the application layer and answer; they hold no rules.
"""

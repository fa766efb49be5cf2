"""`minutes-live serve`: the read API, its event stream and the operator dashboard, on one ASGI app
(FastAPI + uvicorn; docs/api.md).

    app.py         create_app: the guard (Host check, headers), the error mapping, the routers
    security.py    the Host rule, the per-start token of pin / unpin, loopback
    selection.py   which run a read names: latest, as_of, served_at (the publication history), run
    views.py       what each /v1 route returns, as plain data (projections with provenance, runs, diff, worlds)
    routes.py      the /v1 read routes and their value checks
    schemas.py     the bodies of the /v1 answers and errors, as pydantic models (for /openapi.json and /docs)
    events.py      /v1/slates/{date}/events: server-sent events (publications, new runs, alerts)
    pages.py       the dashboard's page and its /api/* calls, pin and unpin
    docs_page.py   /docs: the OpenAPI document as one offline HTML page
    server.py      uvicorn on a pre-bound socket, with its bounds; foreground or in a thread
"""

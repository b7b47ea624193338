"""The duty officer's web page: static assets built from ``console/`` (npm, Vite) into
``static/``, served by the service at ``/`` without a token (the page itself logs in with an
officer's token and sends it on every API call).

The assets are built output, not source: ``pip install`` builds them (see ``setup.py``), and in a
checkout ``npm ci && npm run build`` in ``console/`` does. Without them ``/`` says how to build.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

NOT_BUILT = """<!doctype html><title>deconfliction console</title>
<h1>The console is not built</h1>
<p>Run <code>npm ci &amp;&amp; npm run build</code> in <code>console/</code>, or reinstall the
package with <code>pip install .</code>, which builds it. The API works without it: see
<a href="/docs">/docs</a>.</p>"""


def mount(app: FastAPI, static: Path = STATIC) -> None:
    """Serve the page at ``/`` and its assets under ``/assets``, outside the API and its schema.

    Explicit routes rather than a catch-all mount at ``/``, so that routes added after this call
    are not shadowed and unknown paths still answer the API's problem+json 404.
    """

    @app.get("/", include_in_schema=False)
    def console() -> Response:
        index = static / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.mount("/assets", StaticFiles(directory=static / "assets", check_dir=False), "console")

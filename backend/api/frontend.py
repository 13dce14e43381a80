"""The static frontend and its libraries, served from this repository and node_modules: the app
works on a closed network (no CDN)."""

from flask import Blueprint, abort, send_from_directory

from backend.core.config import PROJECT_ROOT

bp = Blueprint("frontend", __name__)
FRONTEND = PROJECT_ROOT / "frontend"
VENDOR = {  # URL name → file under node_modules
    "ethers.min.js": "ethers/dist/ethers.min.js",
    "chart.umd.js": "chart.js/dist/chart.umd.js",
}


def _send(directory, name: str, **kwargs):
    # Whole files, never 304s: hypercorn's WSGI path sends a 304 with the file's Content-Length,
    # which chromium refuses on reload. The files are small and served on a local network.
    response = send_from_directory(directory, name, conditional=False, etag=False, max_age=0, **kwargs)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def index():
    return _send(FRONTEND, "index.html")


@bp.get("/vendor/<name>")
def vendor(name: str):
    if name not in VENDOR:
        abort(404)
    path = PROJECT_ROOT / "node_modules" / VENDOR[name]
    return _send(path.parent, path.name, mimetype="text/javascript")


@bp.get("/<path:name>")
def static(name: str):
    return _send(FRONTEND, name)

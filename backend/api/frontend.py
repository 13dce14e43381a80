"""The static frontend and its libraries, served from this repository and node_modules: the app
works on a closed network (no CDN)."""

from flask import Blueprint, abort, send_from_directory

from backend.config import PROJECT_ROOT

bp = Blueprint("frontend", __name__)
FRONTEND = PROJECT_ROOT / "frontend"
VENDOR = {  # URL name → file under node_modules
    "ethers.min.js": "ethers/dist/ethers.min.js",
    "chart.umd.js": "chart.js/dist/chart.umd.js",
}


@bp.get("/")
def index():
    return send_from_directory(FRONTEND, "index.html")


@bp.get("/vendor/<name>")
def vendor(name: str):
    if name not in VENDOR:
        abort(404)
    path = PROJECT_ROOT / "node_modules" / VENDOR[name]
    return send_from_directory(path.parent, path.name, mimetype="text/javascript")


@bp.get("/<path:name>")
def static(name: str):
    return send_from_directory(FRONTEND, name)

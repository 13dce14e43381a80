"""The read-only HTTP API and the static frontend, as a Flask application factory.

The backend holds no user keys and signs nothing: every user action is a transaction the user's own
wallet signs in the browser. The API lists and counts from the event index and reads live values
from the chain; its OpenAPI document is generated from the blueprints' schemas (flask-smorest) and
served at ``/api/openapi.json``.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from backend.api import alerts, audit, credit, frontend, health, kpis, leases, participants, receivables
from backend.api.config import ApiConfig
from backend.api.context import YinqiContext
from backend.api.wire import JsSafeJSONProvider
from backend.core.errors import ChainError, YinqiError

log = logging.getLogger(__name__)


class YinqiApi(Api):
    """flask-smorest's Api whose every error carries a message: ``{"code", "status", "message",
    "errors"?}`` (validation errors name the fields in ``errors``)."""

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", "invalid request parameters" if "errors" in payload else error.description)
        return payload, code, headers


def create_app(config: ApiConfig | None = None) -> Flask:
    config = config or ApiConfig.from_env()
    app = Flask(__name__, static_folder=None)
    app.json = JsSafeJSONProvider(app)
    app.config.update(
        API_TITLE="Yinqi API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Amounts are integers in token units (1 DCNY = 10^6); one beyond 2^53 − 1, "
                "which JavaScript cannot hold exactly, comes as a decimal string."
            }
        },
    )
    app.extensions["yinqi"] = YinqiContext(config)
    api = YinqiApi(app)
    for module in (health, participants, receivables, credit, leases, alerts, kpis, audit):
        api.register_blueprint(module.blp)
    app.register_blueprint(frontend.bp)

    @app.errorhandler(ChainError)
    def chain_unavailable(exc: ChainError):
        return jsonify(code=503, status="Service Unavailable", message=str(exc)), 503

    @app.errorhandler(YinqiError)
    def bad_request(exc: YinqiError):
        return jsonify(code=400, status="Bad Request", message=str(exc)), 400

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        if isinstance(exc, HTTPException):  # routing errors outside the blueprints (404, 405)
            return jsonify(code=exc.code, status=exc.name, message=exc.description), exc.code
        log.exception("unhandled error")
        return jsonify(code=500, status="Internal Server Error", message="unexpected error; see the server log"), 500

    return app

"""Request schemas shared by the blueprints (marshmallow): pages, addresses, event filters. Bad input
is refused with 422 and the fields at fault, in flask-smorest's error shape
``{"code", "status", "message", "errors"}`` — the same shape every error of this API has."""

from __future__ import annotations

from typing import Any

from flask import abort
from marshmallow import Schema, ValidationError, fields, validate
from web3 import Web3

MAX_PAGE_SIZE = 200


class Address(fields.String):
    """An EVM address; comes out checksummed."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        if not Web3.is_address(raw):
            raise ValidationError("not an EVM address (0x followed by 40 hex digits)")
        return Web3.to_checksum_address(raw)


def checked_address(raw: str) -> str:
    """A path parameter that must be an address, or a 400."""
    if not Web3.is_address(raw):
        abort(400, f"not an EVM address: {raw[:64]!r}")
    return Web3.to_checksum_address(raw)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class PartyPageArgs(PageArgs):
    party = Address(load_default=None, metadata={"description": "only what this address owes, holds or leases"})


class Page(Schema):
    items = fields.List(fields.Dict())
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


def page_of(rows: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    start = (args["page"] - 1) * args["page_size"]
    return {
        "items": rows[start : start + args["page_size"]],
        "page": args["page"],
        "page_size": args["page_size"],
        "total": len(rows),
    }

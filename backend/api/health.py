"""Health and the deployment manifest (where the frontend gets addresses and ABIs)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from backend.api.context import ctx
from backend.core.chain import GAS_MARGIN_PERCENT, MAX_TX_GAS

blp = Blueprint("health", __name__, url_prefix="/api", description="Health and deployment")


class Health(Schema):
    status = fields.String()
    chain_id = fields.Integer()
    latest_block = fields.Integer()
    indexed_block = fields.Integer()


@blp.route("/health")
class HealthView(MethodView):
    @blp.response(200, Health)
    def get(self):
        """The chain this API reads, its latest block and how far the index has read."""
        c = ctx()
        c.index()
        return {
            "status": "ok",
            "chain_id": c.w3.eth.chain_id,
            "latest_block": c.w3.eth.block_number,
            "indexed_block": c.indexer.indexed_block,
        }


class ContractOut(Schema):
    address = fields.String()
    abi = fields.List(fields.Dict())


class ManifestOut(Schema):
    chain_id = fields.Integer()
    rpc_url = fields.String()
    contracts = fields.Dict(keys=fields.String(), values=fields.Nested(ContractOut))
    facts = fields.Dict()  # enum names, role and risk-flag bits, the token's decimals (backend.core.facts)
    gas = fields.Dict()  # how a wallet's gas limit is set from the node's estimate (backend.core.chain)


@blp.route("/manifest")
class ManifestView(MethodView):
    @blp.response(200, ManifestOut)
    def get(self):
        """Addresses and ABIs of the deployed contracts, and the contracts' facts (enum names by uint8,
        role and risk-flag bits, the settlement token's decimals): the frontend's only source for them."""
        c = ctx()
        m = c.manifest
        return {
            "chain_id": m.chain_id,
            "rpc_url": c.config.settings.rpc_url,
            "contracts": {name: {"address": r.address, "abi": r.abi} for name, r in m.contracts.items()},
            "facts": m.facts,
            "gas": {"margin_percent": GAS_MARGIN_PERCENT, "max_tx_gas": MAX_TX_GAS},
        }

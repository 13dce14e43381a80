"""MQTT plumbing shared by the IoT oracle, the device simulator and the bench: gmqtt clients that
connect with backoff, and a publisher that respects the broker's receive-maximum.

Under MQTT 5 mosquitto advertises receive-maximum 20: at most 20 QoS 1 messages may await their
PUBACK. gmqtt does not wait for room (it raises ``OverflowError``), so :class:`FlowControlledClient`
waits and retries.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv50

from oracles.errors import OracleError

log = logging.getLogger(__name__)

TOPIC = "device/+/data"


def shared(topic: str, group: str | None) -> str:
    """`topic` as an MQTT 5 shared subscription of `group` (each message to one member), or as is."""
    return f"$share/{group}/{topic}" if group else topic


class FlowControlledClient(Client):
    """A gmqtt client whose QoS 1 :meth:`send` waits while the broker's receive-maximum is used up.

    gmqtt sizes its packet-id pool to the broker's receive-maximum and raises ``OverflowError``
    when it is empty instead of waiting; ids come back with the PUBACKs, so we wait and retry.
    """

    def __init__(self, client_id: str | None = None, **kwargs) -> None:
        super().__init__(client_id or f"yinqi-{uuid.uuid4().hex[:12]}", **kwargs)

    async def send(self, topic: str, payload: bytes, qos: int = 1) -> None:
        delay = 0.0005
        while True:
            try:
                self.publish(topic, payload, qos=qos)
                return
            except OverflowError:  # every packet id in flight: wait for PUBACKs
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.02)

    async def drain(self) -> None:
        """Wait until every QoS 1 message sent has its PUBACK."""
        await self._persistent_storage.wait_empty()


async def connect(
    client: Client,
    host: str,
    port: int,
    *,
    attempts: int = 8,
    first_delay: float = 0.25,
    stop: asyncio.Event | None = None,
) -> None:
    """Connect with exponential backoff; after that gmqtt reconnects on its own (every second)."""
    client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            await client.connect(host, port, version=MQTTv50, keepalive=30)
            return
        except (TimeoutError, OSError) as exc:
            if attempt == attempts or (stop is not None and stop.is_set()):
                raise OracleError(f"MQTT broker {host}:{port} did not answer after {attempt} tries ({exc})") from None
            log.info("MQTT broker %s:%d: %s; retrying in %.1fs", host, port, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

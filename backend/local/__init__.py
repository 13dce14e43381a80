"""Local infrastructure the CLI and the demo start: the anvil chain and the mosquitto broker."""

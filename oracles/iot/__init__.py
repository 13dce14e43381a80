"""IoT equipment telemetry: parsing the article's device messages and the bank's risk rules."""

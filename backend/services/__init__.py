"""Write-side services: deploy the contracts and send the transactions of each product. Used by
the entry points (CLI, demo), tests and benches; never by the read side (index, API)."""

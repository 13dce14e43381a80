"""The products' services: deploy the contracts, send each product's transactions and read one
position live from the chain. Used by the entry points (CLI, demo), the API's live reads, tests and
benches; never by the event index, which folds events alone."""

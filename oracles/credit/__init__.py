"""Merchant credit scoring: data → features → xgboost → policy → score, limit, reasons."""

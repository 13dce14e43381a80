"""Yinqi's oracle daemons and what they share."""

"""Yinqi's Python core: chain access, accounts, the deployment manifest, deploy, CLI."""

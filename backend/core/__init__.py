"""The shared core every Yinqi process uses: settings, keys, the chain, the deployment manifest, the
contracts' facts and codecs, errors. It imports nothing from the rest of ``backend`` or from ``oracles``."""

"""Fall detection from a wearable's acceleration stream: resample, detect (offline scoring: falls_eval/)."""

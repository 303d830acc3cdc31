"""Fall detection from a wearable's acceleration stream: resample, detect, evaluate."""

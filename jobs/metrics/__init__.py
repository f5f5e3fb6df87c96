"""What a run logged, read for pages and the API: chart series (series.py, downsampled with LTTB in
downsample.py) and the last value of each metric for run tables (values.py). Writing metrics is the
tracking app's MLflow API; per-run history and summaries are in jobs.tracking."""

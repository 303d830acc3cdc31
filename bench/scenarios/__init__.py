"""The six system scenarios of `python -m bench <scenario>`; each module has `run(quick) -> Result`."""

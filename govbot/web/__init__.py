"""What people see over HTTP: the guideline pages and RefStack's API, served live from a repo."""

"""The intake HTTP routes, one module per sender: read the body, resolve the key, validate
with the sender's format (`intake/formats/`), store one inbox row and answer in the
sender's own shapes. Gathered by `intake/api.py`; the hot ones are also served by
`intake/fastlane.py`."""

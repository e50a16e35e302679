"""Reports rendered from the marts into the output archive (see ``rendering``)."""

"""Feeds for security products that do not speak TAXII (block-lists, CSV, MISP feed, STIX bundle), derived per
collection from exactly what the caller may read there. `service.FeedExports` is the entry point; the web
layer and the command line both go through it.

Must not: know HTTP, decide access itself (it asks `Feeds.readable`), or read storage outside the caller's
ObjectScope.
"""

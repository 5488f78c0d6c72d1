"""taxii-hub: a STIX 2.1 / TAXII 2.1 threat-feed hub with per-organisation access control.

Nothing happens at import time; `taxii_server.app.create_app` composes the service.
"""

__version__ = "0.1.0"

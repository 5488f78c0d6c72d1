"""The sharing workflow: intake of member reports, correlation into campaign candidates, vetting and
anonymised publishing into TAXII collections, revocation, statistics and the audit trail.

Used by both HTTP and the command line; every operation takes the acting principal first and no access
decision is made outside these services (collection access itself is enforced by `feeds`). Never HTTP here.
"""

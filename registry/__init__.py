"""The receivables registry core: records, hashing, proofs, chain anchoring, verifying.

This package never imports a web framework or an ORM, so a script or an auditor's tool
can use it alone.
"""

__version__ = "0.1.0"

"""Published JSON Schemas of the format-1 files (part of the contract)."""

"""Machine-readable exports of the site (data/)."""

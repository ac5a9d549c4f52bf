"""The public verification site: a static site of every issued certificate, built from the register.

``build_site`` writes ``cert/<number>.html`` for each certificate, ``index.html`` (search in the
page itself) and ``certificates.json`` into a folder the office uploads to its web host as it
is; a rebuild rewrites only the files whose content changed.
"""

from certdocs.site._build import QrMismatch, SiteReport, build_site, site_files
from certdocs.site._pages import page_file

__all__ = ["QrMismatch", "SiteReport", "build_site", "page_file", "site_files"]

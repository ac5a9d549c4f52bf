"""The archive of signed documents: write-once BagIt bags, recorded in the register.

A signed PDF (digitally signed, or scanned after a wet-ink signature and seal) is archived as
one bag per document::

    <archive_root>/<certificate number>/<kind>-<n>/     kind: certificate, report, scoresheet,
        bagit.txt                                          issue_pack, …; n = 1, 2, … (supersede)
        bag-info.txt          Source-Organization, External-Identifier (the number),
                              Bagging-Date, Payload-Oxum, Certdocs-Kind, Certdocs-Signature
                              (digital / scan), Certdocs-Original-SHA256 (digital),
                              Certdocs-Issued-SHA256, Certdocs-Signer, Certdocs-Signed-At,
                              Certdocs-Identified-By, Certdocs-Source-File, Certdocs-Supersedes
        manifest-sha256.txt
        tagmanifest-sha256.txt
        data/<kind>.pdf       the file exactly as given
        data/certificate.json the register's record of the certificate

Bags are built beside their place and renamed into it, then left read-only (files 0o444,
folders 0o555). The register's archive entry holds the bag path relative to the archive root
and the PDF's SHA-256; :func:`verify_archive` checks the two against each other.
"""

from certdocs._quiet import quiet_libraries
from certdocs.archive._archive import ArchiveResult, archive_files, refusals
from certdocs.archive._bag import certificate_folder
from certdocs.archive._identify import TITLES, Identity, identify, url_candidates
from certdocs.archive._verify import check_bag, check_bag_contents, verify_archive, verify_bags

quiet_libraries()

__all__ = [
    "TITLES",
    "ArchiveResult",
    "Identity",
    "archive_files",
    "certificate_folder",
    "check_bag",
    "check_bag_contents",
    "identify",
    "refusals",
    "url_candidates",
    "verify_archive",
    "verify_bags",
]

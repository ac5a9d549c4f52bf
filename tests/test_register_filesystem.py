"""Where an SQLite register may lie: on a local disk, in a regular file (SQLite's locks and WAL need both)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from certdocs.errors import RegisterError
from certdocs.register import Register, _filesystem
from certdocs.register._filesystem import mount_type

MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:40 / /mnt/证书 rw,relatime - cifs //nas.office.lan/证书 rw,vers=3.0
41 40 0:41 / /mnt/证书/本机 rw,relatime - ext4 /dev/vdb rw
42 27 0:42 / /srv/office\040share rw,relatime - nfs4 nas:/export rw
43 27 0:43 / /media/usb rw,relatime - vfat /dev/sdb1 rw
44 43 0:44 / /media/usb rw,relatime - fuse.sshfs office@nas:/ rw
"""


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/work/records/register.sqlite3", "ext4"),
        ("/mnt/证书/records/register.sqlite3", "cifs"),
        ("/mnt/证书", "cifs"),
        ("/mnt/证书/本机/records/register.sqlite3", "ext4"),  # a local disk mounted inside the share
        ("/mnt/证书本机/register.sqlite3", "ext4"),  # a sibling whose name only starts the same
        ("/srv/office share/register.sqlite3", "nfs4"),  # \040 is a space
        ("/media/usb/register.sqlite3", "fuse.sshfs"),  # mounted over another: the later one shows
    ],
)
def test_the_mount_holding_a_path_is_the_deepest_one(path: str, kind: str) -> None:
    assert mount_type(PurePosixPath(path), MOUNTINFO) == kind


def test_an_sqlite_register_on_a_network_share_is_refused_before_any_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    table = f"27 1 254:0 / / rw - ext4 /dev/vda rw\n40 27 0:40 / {share.resolve()} rw - cifs //nas/证书 rw\n"
    monkeypatch.setattr(_filesystem, "_mountinfo", lambda: table)
    with pytest.raises(RegisterError) as caught:
        Register.open(share / "records" / "register.sqlite3")
    assert "网络文件系统（cifs）" in str(caught.value)
    assert "PostgreSQL" in str(caught.value)
    assert list(share.iterdir()) == []
    local = tmp_path / "local" / "register.sqlite3"
    Register.open(local).close()  # beside the share, on the local disk
    assert local.is_file()


def test_this_machines_test_folders_are_not_taken_for_a_share(tmp_path: Path) -> None:
    assert _filesystem.network_filesystem(tmp_path / "register.sqlite3") is None


@pytest.mark.parametrize("given", ["folder", "/dev/null"])
def test_a_register_path_that_is_not_a_regular_file_is_refused_and_nothing_made_beside_it(
    tmp_path: Path, given: str
) -> None:
    path = tmp_path if given == "folder" else Path(given)
    beside = sorted(path.parent.iterdir())
    with pytest.raises(RegisterError, match="不是登记簿文件"):
        Register.open(path)
    assert sorted(path.parent.iterdir()) == beside  # no -journal or -wal beside it

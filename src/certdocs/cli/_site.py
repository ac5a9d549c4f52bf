"""The verification site: site build, site serve."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import click

from certdocs.cli import _app as app
from certdocs.cli._app import main, reports_errors
from certdocs.site import SiteReport, build_site

DEFAULT_SITE = Path("output") / "site"


@main.group("site")
def site_group() -> None:
    """证书查验网站：由登记簿生成静态网站（上传到机构网站即可），本机预览。"""


def _output_root() -> Path:
    return Path(os.environ.get("CERTDOCS_OUTPUT", "output"))


@site_group.command("build")
@click.option(
    "--output",
    "site",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="网站文件夹（默认 <输出文件夹>/site）。",
)
@app.RECORDS_OPTION
@click.option(
    "--register",
    "register_path",
    type=str,
    envvar="CERTDOCS_REGISTER",
    default=None,
    help=app._REGISTER_HELP,
)
@click.option(
    "--profiles",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_PROFILES",
    default=None,
    help="认证机构配置文件夹（默认使用内置配置）。",
)
@click.option(
    "--schemes",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CERTDOCS_SCHEMES",
    default=None,
    help="额外评价方案文件夹。",
)
@reports_errors
def site_build(site: Path | None, register_path: str | None, profiles: Path | None, schemes: Path | None) -> None:
    """生成证书查验网站：每张证书一页 cert/<证书编号>.html、可检索的 index.html 和 certificates.json。"""
    root = _output_root()
    folder = site or root / "site"
    with app.open_register(root, register_path) as register:
        report = build_site(register, site=folder, today=app.today(), profiles_dir=profiles, schemes_dir=schemes)
    print_site_report(report)


def print_site_report(report: SiteReport) -> None:
    """The build's summary, then every certificate whose QR code opens something else."""
    click.echo(
        f"证书查验网站：{report.site}（{report.certificates} 张证书；"
        f"重写 {len(report.written)} 个文件，{len(report.unchanged)} 个未变）"
    )
    for warning in report.warnings:
        click.echo(f"注意：{warning}", err=True)
    if report.qr_elsewhere:
        click.echo(f"以下 {len(report.qr_elsewhere)} 张证书的二维码不指向本站页面（扫码打开的不是本站）：", err=True)
        for m in report.qr_elsewhere:
            click.echo(f"  {m.number}：二维码为 {m.url}，本站页面为 {m.page}", err=True)
        click.echo(
            "  在认证机构配置中填写 website 并删去 verify_url，再运行 certdocs regenerate，新证书的二维码即指向本站。",
            err=True,
        )


@site_group.command("serve")
@click.option("--output", "site", type=click.Path(path_type=Path, file_okay=False), default=None, help="网站文件夹。")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="端口。")
@reports_errors
def site_serve(site: Path | None, port: int) -> None:
    """在本机（127.0.0.1）预览证书查验网站，Ctrl+C 结束。"""
    import http.server

    folder = site or _output_root() / "site"
    if not (folder / "index.html").is_file():
        raise click.UsageError(f"{folder} 中没有 index.html，请先运行 certdocs site build")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        click.echo(f"预览：http://127.0.0.1:{server.server_address[1]}/index.html（Ctrl+C 结束）")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("已停止")

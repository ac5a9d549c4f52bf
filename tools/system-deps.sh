#!/usr/bin/env bash
# The Debian packages certdocs needs outside Python, each detected by what it provides.
#
#   tools/system-deps.sh [--check] [runtime|test]
#
# runtime (default): LibreOffice Writer (headless) and its Python-UNO bridge (python3-uno: certdocs
#   keeps one LibreOffice per core running through a batch instead of starting one per chunk),
#   Noto CJK for Simplified Chinese, HanaMin for the CJK extension B–F characters Noto lacks,
#   fontconfig, poppler (pdftoppm) and zbar (QR decoding).
# test: the runtime set plus LibreOffice Calc (recalculates the auditor's workbook), Chromium (the
#   verification site in a real browser, driven by Playwright's own driver from PyPI) and the
#   PostgreSQL server (the shared register).
#
# Nothing missing: exits 0 at once, with no apt-get and no network. Something missing: as root it
# installs exactly the missing packages; otherwise (or with --check) it names them and exits 1.
#
# Every test is a single command whose exit status answers it. A pipeline such as
# `fc-list | grep -q …` must not be used: grep -q exits at the first match, fc-list then dies of
# SIGPIPE, and under pipefail the font is reported missing although it is installed.
set -euo pipefail

check_only=0
set_name=runtime
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    runtime | test) set_name=$arg ;;
    *) echo "用法：tools/system-deps.sh [--check] [runtime|test]" >&2; exit 2 ;;
  esac
done

has_command() { command -v "$1" >/dev/null 2>&1; }
has_font() { has_command fc-list && fc-list -q "$1" >/dev/null 2>&1; }
libreoffice_program() {
  local soffice
  soffice=$(command -v soffice 2>/dev/null) || return 1
  dirname "$(readlink -f "$soffice")"
}
has_libreoffice_module() {  # swlo = Writer, sclo = Calc
  local program
  program=$(libreoffice_program) || return 1
  [ -e "$program/lib$1.so" ]
}
has_libreoffice_python() {  # LibreOffice's own pyuno, as Debian's python3-uno installs it
  local program
  program=$(libreoffice_program) || return 1
  [ -x "$program/python" ] || { [ -e "$program/pyuno.so" ] && [ -e /usr/lib/python3/dist-packages/uno.py ]; }
}
has_postgresql_server() {
  local initdb
  for initdb in /usr/lib/postgresql/*/bin/initdb; do [ -x "$initdb" ] && return 0; done
  has_command initdb
}

missing=()
need() {  # need PACKAGE TEST [ARGS…]: PACKAGE is missing unless TEST ARGS… succeeds
  local package=$1
  shift
  "$@" || missing+=("$package")
}

need libreoffice-writer-nogui has_libreoffice_module swlo
need python3-uno has_libreoffice_python
need fontconfig has_command fc-list
need fonts-noto-cjk has_font "Noto Serif CJK SC"
need fonts-hanazono has_font "HanaMinB"
need poppler-utils has_command pdftoppm
need zbar-tools has_command zbarimg
if [ "$set_name" = test ]; then
  need libreoffice-calc-nogui has_libreoffice_module sclo
  need chromium has_command chromium
  need postgresql has_postgresql_server
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$check_only" -eq 0 ] && [ "$(id -u)" -eq 0 ]; then
  echo "安装缺少的系统软件包：${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "缺少系统软件包：${missing[*]}。请以管理员身份执行：" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

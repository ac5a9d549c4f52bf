#!/usr/bin/env bash
# The Debian packages certdocs needs outside Python: LibreOffice (Writer, headless), the Noto CJK
# fonts for Simplified Chinese, poppler (pdftoppm/pdftotext/pdffonts) and zbar (QR decoding).
# As root it installs what is missing; otherwise it prints the exact command and fails.
set -euo pipefail
PACKAGES=(libreoffice-writer-nogui fonts-noto-cjk poppler-utils zbar-tools fontconfig)
missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)
if ! { command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q "Noto Serif CJK SC"; }; then
  missing+=(fonts-noto-cjk)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "安装系统软件包：${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
else
  echo "缺少系统软件包：${missing[*]}。请以管理员身份执行：" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  exit 1
fi

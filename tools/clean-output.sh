#!/usr/bin/env bash
# `make clean`'s removal of the output folder: usage: clean-output.sh OUTPUT RECORDS
#
# Records are not output. The folder is removed only when it lies inside the folder make runs in
# (not that folder itself, not a parent, not elsewhere on the disk), when the records folder is
# not inside it, and when it holds no register or archive an older certdocs kept in output/ (the
# next certdocs command moves those into the records folder). Otherwise nothing is removed and
# the reason is printed: exit status 2.
set -euo pipefail

if [ $# -ne 2 ] || [ -z "$1" ]; then
  echo "用法：clean-output.sh 输出文件夹 记录文件夹" >&2
  exit 2
fi
output=$1
records=$2
here=$(pwd -P)
target=$(realpath -m -- "$output")
kept=$(realpath -m -- "$records")

refuse() {
  echo "make clean：不删除输出文件夹 $output：$1" >&2
  exit 2
}

case "$target/" in
  "$here"/?*/) ;;
  "$here"/) refuse "它就是当前文件夹（make clean 只删除本文件夹里的输出文件夹）" ;;
  *) refuse "它不在当前文件夹 $here 之内（make clean 只删除本文件夹里的输出文件夹；别处的请自行删除）" ;;
esac
case "$kept/" in
  "$target"/*) refuse "证书记录 $records 在它里面（记录不是输出，清理输出不能删除记录）" ;;
esac
[ -e "$target" ] || exit 0
for old in register.sqlite3 archive; do
  if [ -e "$target/$old" ]; then
    refuse "里面还有旧版 certdocs 留下的 $old；先运行任一 certdocs 命令（如 certdocs register list）把它移到记录文件夹，再清理"
  fi
done
rm -rf -- "$target"

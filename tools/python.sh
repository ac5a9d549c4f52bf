#!/bin/sh
# The interpreter .venv is made from (the Makefile's default PYTHON; .ci/run checks the same one):
# Debian's own /usr/bin/python3 where it is 3.11 or newer, else the python3 on PATH. See docs/python.md.
if /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo /usr/bin/python3
else
  echo python3
fi

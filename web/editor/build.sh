#!/bin/sh
# Bundles src/main.js into $1 (default ../editor.bundle.js). Run by `make editor`
# after `npm ci`; `make editor-check` bundles into a temporary file and
# compares it with the committed one.
set -eu
cd "$(dirname "$0")"
out="${1:-../editor.bundle.js}"
exec ./node_modules/.bin/esbuild src/main.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$out"

#!/usr/bin/env bash
# The HTML report rendered by a real browser (Debian's chromium, headless): writes the HTML of
# tests/data/sample_report.json with `nccl-doctor show`, checks the file is self-contained and
# holds the SVG drawings, renders it to a PNG and checks the image is a rendered page.
# Exit 77 (skip) when chromium is not installed (scripts/setup --with-browser installs it).
# Usage: render_test.sh NCCL_DOCTOR SAMPLE_REPORT.json [OUT_DIR]
set -u
bin=$1 sample=$2
here=$(cd "$(dirname "$0")" && pwd)
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || { echo "skip: chromium not installed"; exit 77; }
out=${3:-$(mktemp -d)}
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$bin" show "$sample" --html "$out/report.html" > "$out/show.txt"
rc=$?
[[ $rc -eq 2 ]] || { echo "show exited $rc, expected 2 (the sample has errors)"; cat "$out/show.txt"; exit 1; }

# The file: SVG drawings present (topology, heatmap, chart), nothing loaded from anywhere.
python3 - "$out/report.html" <<'PY' || exit 1
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
for cls, n in (("topo", 1), ("heatmap", 1), ("chart", 1)):
    got = len(re.findall(r'<svg[^>]*class="%s"' % cls, html))
    assert got >= n, f"{got} <svg class={cls}>, expected >= {n}"
assert not re.search(r"<script|<iframe|<img|<link rel=\"stylesheet|@import|url\(", html), "external reference"
stripped = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
assert "http://" not in stripped and "https://" not in stripped, "a network address in the page"
print("file ok:", len(re.findall(r"<svg", html)), "svg elements,", len(re.findall(r"<rect", html)), "rects")
PY

# The browser: no network, nothing that phones home.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --window-size=1280,2000)
timeout 120 "$browser" "${flags[@]}" --screenshot="$out/report.png" "file://$out/report.html" \
  > "$out/chromium.log" 2>&1
rc=$?
[[ $rc -eq 0 && -s $out/report.png ]] || { echo "chromium failed ($rc)"; tail -20 "$out/chromium.log"; exit 1; }
# The DOM as the browser parsed it still holds the drawings (a parse error would drop them).
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$out/report.html" > "$out/dom.html" 2>> "$out/chromium.log"
n=$(grep -o "<svg" "$out/dom.html" | wc -l)
[[ $n -ge 3 ]] || { echo "browser DOM has $n <svg> elements"; exit 1; }
python3 "$here/png_check.py" "$out/report.png" 1280 2000 || exit 1
echo "ok: rendered $out/report.png ($n svg elements in the DOM)"

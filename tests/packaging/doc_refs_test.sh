#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Messages, help texts and scripts that cite a document of the repository (docs/....md,
# packaging/..., scripts/...) must cite a file that exists in it.
#   doc_refs_test.sh SOURCE_DIR
set -u
src=$1
cd "$src" || exit 1
bad=0
n=0
# String literals in the code (not comments), and the scripts and README.
while IFS=: read -r file line text; do
  for ref in $(grep -oE '[$A-Za-z0-9_./-]*(docs|packaging|scripts)/[A-Za-z0-9_./-]*[A-Za-z0-9]' <<< "$text"); do
    # Paths on an installed system or in a variable are not repository files.
    [[ $ref == /* || $ref == \$* || $ref == *share/* || $ref == *nccl-doctor/scripts* || $ref == ../* ]] && continue
    ref=${ref#./}
    n=$((n + 1))
    [[ -e $ref ]] || { echo "FAIL: $file:$line cites $ref, which is not in the repository"; bad=1; }
  done
done < <(grep -rnE '"[^"]*(docs|packaging|scripts)/[^"]*"' src --include='*.cpp' --include='*.hpp' | grep -vE ':[0-9]+:\s*//'
         grep -rnE '(docs|packaging)/[A-Za-z0-9_./-]+\.(md|yaml|sh|1)|packaging/Dockerfile' scripts README.md docs packaging \
           --include='*' 2>/dev/null | grep -v 'docs/checks.md.*explain --markdown' )
[[ $bad -eq 0 ]] || exit 1
[[ $n -gt 0 ]] || { echo "FAIL: no citation found: the test looks at nothing"; exit 1; }
echo "PASS: $n citations, every file exists"

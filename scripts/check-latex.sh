#!/usr/bin/env bash
# Compiles every LaTeX table a run wrote, each in a minimal A4 article with the preamble
# docs/spec-files.md gives (Chinese tables with xelatex + ctex, English ones with pdflatex),
# and fails on a LaTeX error or an overfull box of more than 1 pt.
# Needs TeX Live (apt-get install texlive-latex-extra texlive-xetex texlive-lang-chinese).
# Usage: scripts/check-latex.sh [outputs/demo/2021/tables] [more folders or .tex files …]
set -uo pipefail
[ $# -eq 0 ] && set -- outputs/demo/2021/tables
command -v xelatex >/dev/null && command -v pdflatex >/dev/null || { echo "TeX is not installed (apt-get install texlive-latex-extra texlive-xetex texlive-lang-chinese)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=()
for a in "$@"; do
  if [ -d "$a" ]; then while IFS= read -r f; do files+=("$f"); done < <(find "$a" -name '*.tex' | sort); else files+=("$a"); fi
done
[ ${#files[@]} -gt 0 ] || { echo "no .tex files in $*" >&2; exit 2; }
bad=0
for f in "${files[@]}"; do
  if grep -qP '[\x{4e00}-\x{9fff}]' "$f"; then engine=xelatex; cjk='\usepackage{ctex}'; else engine=pdflatex; cjk=''; fi
  doc="$work/doc.tex"
  printf '%s\n' '\documentclass[11pt]{article}' '\usepackage[a4paper,margin=2.5cm]{geometry}' \
    '\usepackage{booktabs, threeparttable, threeparttablex, longtable, adjustbox}' "$cjk" \
    '\begin{document}' "\\input{$(realpath "$f")}" '\end{document}' > "$doc"
  (cd "$work" && "$engine" -interaction=nonstopmode -halt-on-error doc.tex >/dev/null 2>&1)
  status=$?
  over=$(grep -oE 'Overfull \\[hv]box \(([0-9.]+)pt too (wide|high)\)' "$work/doc.log" | awk -F'[(p]' '{ if ($2 + 0 > 1) print }')
  if [ $status -ne 0 ]; then
    echo "FAIL $f ($engine): $(grep -m1 -A2 '^!' "$work/doc.log" | tr '\n' ' ')"
    bad=1
  elif [ -n "$over" ]; then
    echo "FAIL $f ($engine): $over"
    bad=1
  else
    echo "ok   $f ($engine, $(grep -oE 'Output written on doc.pdf \([0-9]+ pages?' "$work/doc.log" | grep -oE '[0-9]+ pages?'))"
  fi
done
exit $bad

#!/usr/bin/env bash
# Run the given Molecule scenarios (`molecule test -s <name>`, with the shared
# base .config/molecule/config.yml), MOLECULE_JOBS at
# a time (default: all at once; scenarios use their own containers and
# networks), each into reports/molecule/<name>.log. Prints every log when it is
# done, then a summary with wall times, each step's too (the seconds from
# Molecule's "<step>: Executing" line to its "Executed" line, recorded as they
# appear in reports/molecule/<name>.steps); exits non-zero if any scenario failed.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=reports/molecule
mkdir -p "$logs"
jobs_max=${MOLECULE_JOBS:-$#}
start_all=$(date +%s)

# Copies Molecule's output to the log; notes the time of each step's start and
# end ("<epoch> <step> start|end") in the .steps file.
stamp_steps() {
  local line plain
  : >"$1"
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case $line in
      *": "*Execut*)
        plain=$(printf '%s' "$line" | sed 's/\x1b\[[0-9;]*m//g')
        if [[ $plain =~ ➜\ ([a-z_]+):\ Executing$ ]]; then
          echo "$(date +%s) ${BASH_REMATCH[1]} start" >>"$1"
        elif [[ $plain =~ ➜\ ([a-z_]+):\ Executed: ]]; then
          echo "$(date +%s) ${BASH_REMATCH[1]} end" >>"$1"
        fi ;;
    esac
  done
}

# "create 61 s, converge 553 s, ..." from a .steps file (a step run twice, as
# destroy is, is summed).
step_times() {
  awk '$3 == "start" { t[$2] = $1; if (!($2 in d)) { order[++n] = $2; d[$2] = 0 } }
       $3 == "end" && ($2 in t) { d[$2] += $1 - t[$2]; delete t[$2] }
       END { for (i = 1; i <= n; i++) printf "%s%s %d", (i > 1 ? ", " : ""), order[i], d[order[i]] }' "$1"
}

run_one() {
  local s=$1 t0 rc
  t0=$(date +%s)
  PYTHONUNBUFFERED=1 molecule -c .config/molecule/config.yml test -s "$s" 2>&1 | stamp_steps "$logs/$s.steps" >"$logs/$s.log"
  rc=${PIPESTATUS[0]}
  echo "$rc $(( $(date +%s) - t0 ))" >"$logs/$s.result"
}

# A scenario whose molecule.yml names a package image (MAIL_IMAGE_DEBIAN13_MAIL or
# _BASE) starts once they are built (trixie-mail is made from trixie-base); the
# build runs beside the other scenarios.
now=() later=()
for s in "$@"; do
  rm -f "$logs/$s.result"
  if grep -Eq 'MAIL_IMAGE_DEBIAN13_(MAIL|BASE)' "molecule/$s/molecule.yml" 2>/dev/null; then later+=("$s"); else now+=("$s"); fi
done
if [ ${#later[@]} -gt 0 ]; then
  echo "== scripts/build-images.sh trixie-mail (for: ${later[*]}; log: $logs/image-mail.log)"
  scripts/build-images.sh trixie-mail >"$logs/image-mail.log" 2>&1 &
  image_pid=$!
fi
start() {
  echo "== molecule test -s $1 (log: $logs/$1.log)"
  run_one "$1" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
}
for s in "${now[@]}"; do start "$s"; done
if [ ${#later[@]} -gt 0 ]; then
  if wait "$image_pid"; then
    echo "== images localhost/debian13-base and -mail ready after $(( $(date +%s) - start_all )) s"
    for s in "${later[@]}"; do start "$s"; done
  else
    for s in "${later[@]}"; do
      { echo "the package image was not built:"; cat "$logs/image-mail.log"; } >"$logs/$s.log"
      echo "1 0" >"$logs/$s.result"
    done
  fi
fi
wait

failed=0
for s in "$@"; do
  echo
  echo "================ molecule test -s $s ================"
  cat "$logs/$s.log"
done
echo
echo "== Molecule summary (wall $(( $(date +%s) - start_all )) s, ${jobs_max} at a time)"
for s in "$@"; do
  read -r rc secs <"$logs/$s.result" || { rc=1; secs=?; }
  if [ "$rc" = 0 ]; then verdict=passed; else verdict="FAILED (rc $rc)"; failed=1; fi
  printf '   %-12s %-16s %5s s   steps (s): %s\n' "$s" "$verdict" "$secs" "$(step_times "$logs/$s.steps" 2>/dev/null)"
done
exit $failed

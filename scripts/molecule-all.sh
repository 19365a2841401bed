#!/usr/bin/env bash
# Run the given Molecule scenarios (`molecule test -s <name>`, with the shared
# base .config/molecule/config.yml), MOLECULE_JOBS at
# a time (default: all at once; scenarios use their own containers and
# networks), each into reports/molecule/<name>.log. Prints every log when it is
# done, then a summary with wall times, each step's too (the seconds from
# Molecule's "<step>: Executing" line to its "Executed" line, recorded as they
# appear in reports/molecule/<name>.steps) and the CPU time of its controller side
# (Molecule, Ansible, pytest and every process they waited for; the containers are
# not their children), then the machine's CPU time over the same wall time (from
# /proc/stat: busy, and the most the cores could give); exits non-zero if any
# scenario failed.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=reports/molecule
mkdir -p "$logs"
jobs_max=${MOLECULE_JOBS:-$#}
# "busy total" CPU-seconds of the machine so far (/proc/stat's first line: user to steal,
# in clock ticks; idle and iowait are not busy; guest time is already in user).
machine_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i
                                           printf "%d %d", (t - $5 - $6) / hz, t / hz }' /proc/stat
}
start_all=$(date +%s)
read -r busy0 total0 < <(machine_cpu)

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

# The seconds of CPU of bash's `times` line for children ("1m2.500s 0m3.250s": user, system).
cpu_seconds() { awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); n += p[1] * 60 + p[2] }; printf "%d", n }'; }


run_one() {
  local s=$1 t0
  t0=$(date +%s)
  (
    PYTHONUNBUFFERED=1 molecule -c .config/molecule/config.yml test -s "$s" 2>&1 | stamp_steps "$logs/$s.steps" >"$logs/$s.log"
    echo "${PIPESTATUS[0]}" >"$logs/$s.rc"
    times >"$logs/$s.times"  # not in a pipeline: a pipeline's subshell has no children of its own
  )
  echo "$(cat "$logs/$s.rc") $(( $(date +%s) - t0 )) $(cpu_seconds <"$logs/$s.times")" >"$logs/$s.result"
  rm -f "$logs/$s.rc" "$logs/$s.times"
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
read -r busy1 total1 < <(machine_cpu)
echo "== Molecule summary (wall $(( $(date +%s) - start_all )) s, ${jobs_max} at a time;" \
  "the machine's CPU meanwhile: $(( busy1 - busy0 )) s busy of $(( total1 - total0 )) s)"
for s in "$@"; do
  read -r rc secs cpu <"$logs/$s.result" || { rc=1; secs=?; }
  if [ "$rc" = 0 ]; then verdict=passed; else verdict="FAILED (rc $rc)"; failed=1; fi
  printf '   %-12s %-16s %5s s   controller CPU %5s s   steps (s): %s\n' "$s" "$verdict" "$secs" "${cpu:-?}" \
    "$(step_times "$logs/$s.steps" 2>/dev/null)"
done
exit $failed

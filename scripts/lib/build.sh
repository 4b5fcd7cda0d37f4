# scripts/lib/build.sh: configure and build meson build directories, quietly.
# Sourced by scripts/test, scripts/quickstart and bench/s3_transfer.
#
#   repofs_build DIR LOGFILE [meson -D options...]
#     meson setup DIR (or meson configure it if it exists; wipe and set up
#     again if that fails), then ninja -C DIR. Output goes to LOGFILE; on
#     failure the last lines are printed and the function returns non-zero.
#   REPOFS_BUILD_TARGETS (optional): ninja targets instead of "all".
#   REPOFS_NINJA_JOBS (optional): ninja -j value (default: ninja's own).
#   The build keeps going after errors (ninja -k 0), so whatever compiles is
#   there for the tests even when one target fails.

repofs_build() {
  local dir="$1" logfile="$2"
  shift 2
  local t0=$SECONDS
  : >"$logfile"
  if [[ -f "$dir/build.ninja" ]]; then
    if ! meson configure "$dir" "$@" >>"$logfile" 2>&1; then
      echo "build: reconfiguring $dir failed; wiping it" >>"$logfile"
      meson setup --wipe "$dir" "$@" >>"$logfile" 2>&1 || {
        echo "build: meson setup $dir failed:" >&2
        tail -n 40 "$logfile" >&2
        return 1
      }
    fi
  else
    meson setup "$dir" "$@" >>"$logfile" 2>&1 || {
      echo "build: meson setup $dir failed:" >&2
      tail -n 40 "$logfile" >&2
      return 1
    }
  fi
  local jobs=()
  [[ -n "${REPOFS_NINJA_JOBS:-}" ]] && jobs=(-j "$REPOFS_NINJA_JOBS")
  # shellcheck disable=SC2086
  if ! ninja -C "$dir" -k 0 "${jobs[@]}" ${REPOFS_BUILD_TARGETS:-} >>"$logfile" 2>&1; then
    echo "build: ninja -C $dir failed (full log: $logfile):" >&2
    grep -E -A5 'error|FAILED' "$logfile" | head -n 60 >&2
    echo "build: $(grep -c '^FAILED' "$logfile") target(s) failed in $dir" >&2
    return 1
  fi
  local warnings
  warnings=$(grep -c 'warning:' "$logfile" || true)
  echo "build: $dir ok in $((SECONDS - t0))s ($warnings compiler warnings; log $logfile)"
}

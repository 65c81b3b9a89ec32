#!/usr/bin/env bash
# Checks that the infrastructure Latchkey needs answers at the configured URLs:
#   LATCHKEY_DATABASE_URL  control PostgreSQL (default postgres://postgres@127.0.0.1:5432/latchkey)
#   REDIS_URL              Redis for BullMQ   (default redis://127.0.0.1:6379)
#   NATS_URL               NATS               (default nats://127.0.0.1:4222)
#
# Usage: bash tools/infra.sh check [--start] [--browser] [--shells]
#
# --browser also checks the browser the web console's e2e tests drive (CHROMIUM_PATH, default
# /usr/bin/chromium): installed from Debian's `chromium` package when missing and running as root.
# --shells also checks zsh and fish, in which the CLI's completion tests run its scripts: installed
# from Debian's `zsh` and `fish` packages when missing and running as root.
# `npm test` runs `check`; `npm start` runs `check --start`. For each service it prints one line,
# "ok" or what is wrong (and, on the lines below it, what to do). When a service does not answer:
#   - remote URL: says so, exit 1;
#   - local URL (127.0.0.1, localhost, ::1, a socket), server not installed: installs the Debian
#     package when running as root with apt-get, otherwise prints the apt-get command, exit 1;
#   - local URL, installed but not running: with --start or CI=true, starts it and waits until it
#     answers (up to ~20 s); otherwise prints the exact command to start it, exit 1.
# For PostgreSQL it also creates the database named in the URL when it does not exist. With
# CI=true it may add a `host all all 127.0.0.1/32 trust` line to the local test cluster's
# pg_hba.conf (and says so); otherwise it prints what to change.
# Exit 0 only when all three answer. Passwords in URLs are never printed (user:***@).
set -euo pipefail

readonly DEFAULT_DATABASE_URL='postgres://postgres@127.0.0.1:5432/latchkey'
readonly DEFAULT_REDIS_URL='redis://127.0.0.1:6379'
readonly DEFAULT_NATS_URL='nats://127.0.0.1:4222'
readonly WAIT_SECONDS=20

# Server binaries usually live in sbin, which a non-root PATH may lack.
for dir in /usr/local/sbin /usr/sbin /sbin; do
  case ":${PATH}:" in *":${dir}:"*) ;; *) PATH="${PATH}:${dir}" ;; esac
done
export PATH LC_ALL=C

START=false
BROWSER=false
SHELLS=false
FAILED=0

# Each part in its own file, read in one go: output and URL helpers, then one file per check.
INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra
for part in common postgres redis nats tools; do
  # shellcheck source=/dev/null
  source "${INFRA_DIR}/${part}.sh"
done

# ---------------------------------------------------------------------------------------------

main() {
  local action=''
  while (($#)); do
    case $1 in
      check) action=check ;;
      --start) START=true ;;
      --browser) BROWSER=true ;;
      --shells) SHELLS=true ;;
      -h | --help | help)
        usage
        return 0
        ;;
      *)
        usage >&2
        say "unknown argument: $1" >&2
        return 2
        ;;
    esac
    shift
  done
  if [[ $action != check ]]; then
    usage >&2
    return 2
  fi
  local failed=0 check checks=(check_postgres check_redis check_nats)
  [[ $BROWSER == true ]] && checks+=(check_chromium)
  [[ $SHELLS == true ]] && checks+=(check_zsh check_fish)
  for check in "${checks[@]}"; do
    FAILED=0
    "$check"
    if ((FAILED)); then failed=1; fi
  done
  if ((failed)); then
    local extra=()
    [[ $BROWSER == true ]] && extra+=(chromium)
    [[ $SHELLS == true ]] && extra+=(zsh fish)
    say "PostgreSQL, Redis and NATS must all answer$( ((${#extra[@]})) && printf ', and %s be installed' "${extra[*]}"); fix the lines marked FAIL above."
    return 1
  fi
  return 0
}

main "$@"

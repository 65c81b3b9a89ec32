# Part of tools/infra.sh (sourced by it; not run on its own): the Redis check.
# shellcheck shell=bash
# ---------------------------------------------------------------------------------------------
# Redis

REDIS_REPLY=''

# Sends PING (after AUTH when the URL has credentials); sets REDIS_REPLY. redis-cli gets the
# password through REDISCLI_AUTH, not its command line (where `ps` would show it), and host, port
# and user as options, so percent-encoded credentials work with every redis-cli version.
redis_ping() {
  local user='' pass=''
  if [[ -n $URL_USERINFO ]]; then
    if [[ $URL_USERINFO == *:* ]]; then
      user=$(urldecode "${URL_USERINFO%%:*}")
      pass=$(urldecode "${URL_USERINFO#*:}")
    else
      user=$(urldecode "$URL_USERINFO")
    fi
  fi
  [[ $user == default ]] && user=''
  if have redis-cli; then
    local args=(-h "$URL_HOST" -p "$URL_PORT")
    [[ -n $user ]] && args+=(--user "$user")
    [[ $URL_SCHEME == rediss* ]] && args+=(--tls)
    if [[ -n $pass ]]; then
      REDIS_REPLY=$(REDISCLI_AUTH=$pass timeout 3 redis-cli --no-auth-warning "${args[@]}" ping 2>&1) || true
    else
      REDIS_REPLY=$(timeout 3 redis-cli "${args[@]}" ping 2>&1) || true
    fi
    return 0
  fi
  if [[ $URL_SCHEME == rediss* ]]; then
    # TLS without redis-cli: an open port is the best we can tell
    if tcp_open "$URL_HOST" "$URL_PORT"; then REDIS_REPLY=PONG; else REDIS_REPLY=''; fi
    return 0
  fi
  # no redis-cli: speak RESP over bash's /dev/tcp
  # shellcheck disable=SC2016 # expanded by the inner shell
  REDIS_REPLY=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    resp() { local a; printf "*%d\r\n" "$#" >&3; for a in "$@"; do printf "\$%d\r\n%s\r\n" "${#a}" "$a" >&3; done; }
    cr=$'"'"'\r'"'"'
    if [[ -n $4 ]]; then
      if [[ -n $3 ]]; then resp AUTH "$3" "$4"; else resp AUTH "$4"; fi
      IFS= read -r -t 2 line <&3 || exit 1
      [[ $line == +OK* ]] || { printf "%s\n" "${line%"$cr"}"; exit 0; }
    fi
    resp PING
    IFS= read -r -t 2 line <&3 || exit 1
    printf "%s\n" "${line%"$cr"}"
  ' _ "$URL_HOST" "$URL_PORT" "$user" "$pass" 2>&1) || true
  REDIS_REPLY=${REDIS_REPLY#[+-]}
}

redis_ready() {
  redis_ping
  [[ $REDIS_REPLY == PONG ]]
}

check_redis() {
  local url=${REDIS_URL:-$DEFAULT_REDIS_URL} masked
  masked=$(mask_url "$url")
  parse_url "$url" 6379
  local engine=''
  case $URL_SCHEME in
    redis | rediss) ;;
    # The first seed node answers PING like one server does.
    redis+cluster | rediss+cluster) engine='Redis Cluster' ;;
    # The first Sentinel answers PING; the URL's credentials are the primary's, not the Sentinel's.
    redis+sentinel | rediss+sentinel)
      engine='Sentinel'
      URL_USERINFO=''
      ;;
    *)
      line_fail redis "REDIS_URL=${masked} is not a redis://, redis+cluster:// or redis+sentinel:// URL"
      return 0
      ;;
  esac
  if redis_ready; then
    line_ok redis "$masked${engine:+ (first ${engine} node answers)}"
    return 0
  fi
  if [[ -n $engine ]]; then
    # Never start a lone server in place of a cluster or a Sentinel.
    line_fail redis "${masked}: the first ${engine} node ${URL_HOST}:${URL_PORT} does not answer PING${REDIS_REPLY:+ (${REDIS_REPLY})}"
    hint "start the ${engine} (every node), or point REDIS_URL elsewhere"
    return 0
  fi
  if [[ -n $REDIS_REPLY ]] && ! [[ $REDIS_REPLY =~ (Could not connect|Connection refused|Connection reset|No route|Name or service|timed out|No such) ]] && tcp_open "$URL_HOST" "$URL_PORT"; then
    line_fail redis "${masked} answers but PING did not return PONG"
    detail "$REDIS_REPLY"
    [[ $REDIS_REPLY == *NOAUTH* || $REDIS_REPLY == *WRONGPASS* || $REDIS_REPLY == *AUTH* ]] &&
      hint "put the credentials in REDIS_URL=redis://USER:PASSWORD@${URL_HOST}:${URL_PORT}"
    return 0
  fi
  local reason
  reason=$(printf '%s' "$REDIS_REPLY" | grep -m1 -oE 'Connection refused|Connection reset by peer|No route to host|Name or service not known|timed out' || true)
  [[ -n $REDIS_REPLY ]] || reason='no answer within 3 s'
  reason=${reason:-no answer}
  if ! is_local_host "$URL_HOST" || [[ -z $URL_HOST ]]; then
    line_fail redis "${masked} does not answer (${reason})"
    hint "check that Redis is up and reachable, or point REDIS_URL elsewhere"
    return 0
  fi
  if ! have redis-server; then
    install_missing redis "$masked" "$reason" redis-server redis-server || return 0
    if ! have redis-server; then
      line_fail redis "${masked} does not answer: the redis-server package did not provide redis-server"
      return 0
    fi
  fi
  local dirs='mkdir -p /var/lib/redis /var/log/redis'
  local bind='127.0.0.1 -::1'
  local cmd=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$URL_PORT" --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log)
  local shown="redis-server --daemonize yes --bind ${bind} --port ${URL_PORT} --save \"\" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
  if ! start_allowed; then
    line_fail redis "${masked} does not answer (${reason}); redis-server is installed but not running. Start it with:"
    hint "  $(as_root)${dirs} && $(as_root)${shown}" \
      "(npm start, bash tools/infra.sh check --start, or CI=true does this)"
    return 0
  fi
  say "redis: starting: ${shown}"
  local out
  if ! out=$(mkdir -p /var/lib/redis /var/log/redis 2>&1 && "${cmd[@]}" 2>&1); then
    line_fail redis "${masked}: starting redis-server failed"
    detail "$out"
    is_root || hint "it needs to write /var/lib/redis and /var/log/redis: sudo ${dirs} && sudo ${shown}"
    return 0
  fi
  if ! wait_for redis_ready; then
    line_fail redis "${masked} still does not answer ${WAIT_SECONDS}s after starting redis-server; see /var/log/redis/ci.log"
    detail "$REDIS_REPLY"
    return 0
  fi
  line_ok redis "${masked} (started)"
}

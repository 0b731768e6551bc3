#!/usr/bin/env bash
# Installs the llm-bench systemd units, the llm-bench system user and its state directory,
# then enables the timers and the ingest server. Idempotent: a second run changes nothing
# and says so.
#
#   sudo ops/install.sh             install or update
#   ops/install.sh --dry-run        print what it would do, change nothing
#   DESTDIR=/tmp/stage ops/install.sh
#                                   stage the files under a folder (packaging, tests); no
#                                   systemd-sysusers, no systemctl, no root needed
#
# The units run the code in /opt/llm-benchmarks (their WorkingDirectory=) with Node >= 24.
# ExecStart= names node by absolute path, because systemd runs services with its own fixed
# PATH rather than the operator's: a bare `node` or `/usr/bin/env node` there may be an
# older distribution Node than the one checked here. The unit files say /usr/bin/node (where
# NodeSource and distribution packages put it); this script checks the `node` found on its
# own PATH and writes that absolute path into ExecStart= when it lives elsewhere.
set -euo pipefail

readonly MIN_NODE_MAJOR=24
readonly APP_DIR=/opt/llm-benchmarks
readonly SERVICE_USER=llm-bench
readonly DEFAULT_NODE=/usr/bin/node
# What gets started and enabled; the other services are started by these timers or by
# OnFailure=.
readonly ENABLE_UNITS=(llm-bench.timer llm-health-check.timer llm-discovery.timer llm-bench-ingest.service)

OPS_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly OPS_DIR
readonly DESTDIR=${DESTDIR:-}
readonly UNIT_DIR=$DESTDIR/etc/systemd/system
# /etc rather than /usr/lib: like the units, this is the local administrator's configuration,
# not a distribution package's.
readonly SYSUSERS_FILE=$DESTDIR/etc/sysusers.d/llm-bench.conf
readonly STATE_DIR=$DESTDIR/var/lib/llm-bench
# The only place the sandboxed units may write (StateDirectory=; ProtectSystem=strict makes the
# rest read-only), besides what a drop-in adds with ReadWritePaths=.
readonly SERVICE_STATE_DIR=/var/lib/llm-bench
readonly ENV_FILE=$DESTDIR$APP_DIR/.env
# The settings that name where the jobs write, and what the units set them to ("-": unset), from
# the one list the units' tests read too. A line in .env wins over the units (EnvironmentFile=
# wins over Environment=), so each is checked there.
readonly STATE_PATHS_FILE=$OPS_DIR/state-paths
STATE_SETTINGS=()
declare -A UNIT_VALUE=()
[[ -f $STATE_PATHS_FILE ]] || {
  printf 'install.sh: %s is missing\n' "$STATE_PATHS_FILE" >&2
  exit 1
}
while read -r name unit_value _; do
  [[ -z $name || $name == \#* ]] && continue
  STATE_SETTINGS+=("$name")
  UNIT_VALUE[$name]=$unit_value
done <"$STATE_PATHS_FILE"
readonly STATE_SETTINGS UNIT_VALUE

usage() {
  cat <<EOF
Usage: [DESTDIR=DIR] $0 [--dry-run]

Installs the llm-bench systemd units into $UNIT_DIR, the $SERVICE_USER user
(sysusers.d), the state directory /var/lib/llm-bench, then enables
${ENABLE_UNITS[*]}.

  --dry-run   print what would change, change nothing
  DESTDIR     install the files under DIR only: no systemd-sysusers, no systemctl
EOF
}

dry_run=false
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      printf 'install.sh: unknown argument %s\n\n' "$arg" >&2
      usage >&2
      exit 2
      ;;
  esac
done

changes=0
file_changed=false
units_changed=()

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

# Runs a command that changes the system, or prints it under --dry-run.
run() {
  if $dry_run; then
    say "would run: $*"
  else
    "$@"
  fi
}

refuse_node() {
  die "llm-bench needs Node.js >= $MIN_NODE_MAJOR (the units run it), but $1.
Install Node $MIN_NODE_MAJOR, put it first on PATH, and run this again:
  - NodeSource packages (they install /usr/bin/node): https://github.com/nodesource/distributions
  - or without a system package: npm install --prefix /opt/node$MIN_NODE_MAJOR node@$MIN_NODE_MAJOR
    then: sudo env PATH=/opt/node$MIN_NODE_MAJOR/node_modules/.bin:\$PATH $0
  - or your distribution's nodejs package, where it ships $MIN_NODE_MAJOR or newer"
}

# The node on PATH, checked: absolute, runnable, new enough, and visible inside the sandbox.
find_node() {
  local bin version major real
  bin=$(command -v node || true)
  [[ -n $bin ]] || refuse_node "there is no node on PATH"
  [[ $bin == /* ]] || refuse_node "node on PATH is the relative path $bin"
  version=$("$bin" --version 2>/dev/null || true)
  major=${version#v}
  major=${major%%.*}
  [[ $major =~ ^[0-9]+$ ]] || refuse_node "$bin --version printed '${version}'"
  ((major >= MIN_NODE_MAJOR)) || refuse_node "$bin is $version"
  # Written into ExecStart= unquoted and through sed: keep to characters safe in both.
  [[ $bin =~ ^/[A-Za-z0-9._/+@-]+$ ]] ||
    die "the node path $bin has characters ExecStart= cannot take unquoted; symlink it from /usr/local/bin"
  real=$(readlink -f -- "$bin")
  case "$bin:$real" in
    /home/* | /root/* | /run/user/* | /tmp/* | /var/tmp/* | *:/home/* | *:/root/* | *:/run/user/* | *:/tmp/* | *:/var/tmp/*)
      # ProtectHome= and PrivateTmp= hide these paths from the services.
      if [[ -n $DESTDIR ]]; then
        warn "$bin ($real) is hidden from the services by ProtectHome=/PrivateTmp=; the staged units name it anyway"
      else
        refuse_node "$bin ($real) lives where ProtectHome=/PrivateTmp= hide it from the services"
      fi
      ;;
    *) ;; # visible to the services
  esac
  printf '%s\n' "$bin"
}

# Where the services may write: the state directory and every ReadWritePaths= of an llm-bench
# drop-in (e.g. node_exporter's textfile directory for PROM_TEXTFILE, README "Prometheus").
writable_paths() {
  local file line path paths
  printf '%s\n' "$SERVICE_STATE_DIR"
  shopt -s nullglob
  for file in "$UNIT_DIR"/llm-*.service.d/*.conf; do
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line =~ ^[[:space:]]*ReadWritePaths=(.*)$ ]] || continue
      read -ra paths <<<"${BASH_REMATCH[1]}"
      for path in "${paths[@]}"; do
        path=${path#-}
        path=${path#+}
        [[ $path == /* ]] && printf '%s\n' "${path%/}"
      done
    done <"$file"
  done
  shopt -u nullglob
}

# Refuses a .env that would put what the jobs write where the sandbox cannot write: a path
# setting (even an empty one, which the scripts read as "use the default", ./data/… under the
# read-only /opt, unless the units leave it unset too) anywhere but under a writable path.
# Names every line to remove.
check_env_file() {
  local file=$1 line_no=0 line name value inside dir writable problems=()
  mapfile -t writable < <(writable_paths)
  while IFS= read -r line || [[ -n $line ]]; do
    line_no=$((line_no + 1))
    for name in "${STATE_SETTINGS[@]}"; do
      [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=(.*)$ ]] || continue
      value=${BASH_REMATCH[2]}
      value=${value#"${value%%[![:space:]]*}"}
      value=${value%"${value##*[![:space:]]}"}
      value=${value#[\"\']}
      value=${value%[\"\']}
      if [[ -z $value ]]; then
        # Empty is unset: harmless where the units leave it unset, the default ./data/… otherwise.
        [[ ${UNIT_VALUE[$name]} == - ]] ||
          problems+=("  line $line_no: $name= (empty) means the default ./data/…, under $APP_DIR, which ProtectSystem=strict makes read-only")
      elif [[ $value != /* ]]; then
        problems+=("  line $line_no: $name=$value is under $APP_DIR (WorkingDirectory=), which ProtectSystem=strict makes read-only")
      else
        inside=false
        for dir in "${writable[@]}"; do
          [[ $value == "$dir"/* && $value != *..* ]] && inside=true
        done
        $inside ||
          problems+=("  line $line_no: $name=$value is outside ${writable[*]}, where the services may write (ReadWritePaths= in a drop-in adds a place)")
      fi
    done
  done <"$file"
  ((${#problems[@]} == 0)) && return 0
  local numbers set_by_units=()
  numbers=$(printf '%s\n' "${problems[@]}" | sed -E 's/^  line ([0-9]+):.*/\1/' | paste -sd, -)
  for name in "${STATE_SETTINGS[@]}"; do
    [[ ${UNIT_VALUE[$name]} == - ]] || set_by_units+=("$name=${UNIT_VALUE[$name]}")
  done
  die "$file would put what the services write where they cannot write:
$(printf '%s\n' "${problems[@]}")
Remove line(s) $numbers from $file (e.g. sed -i '${numbers//,/d;}d' $file): the units set
${set_by_units[*]} themselves."
}

# Installs $1 as $2 with mode $3 unless $2 already has that content and mode; sets
# file_changed. (A status would put the caller's `if` around it and switch off set -e inside.)
install_file() {
  local src=$1 dest=$2 mode=$3
  file_changed=false
  if [[ -f $dest ]] && cmp -s -- "$src" "$dest" && [[ $(stat -c %a -- "$dest") == "${mode#0}" ]]; then
    say "unchanged: $dest"
    return 0
  fi
  file_changed=true
  changes=$((changes + 1))
  if $dry_run; then
    say "would install: $dest"
  else
    install -D -m "$mode" -- "$src" "$dest"
    say "installed: $dest"
  fi
}

node_bin=$(find_node)
say "node: $node_bin ($("$node_bin" --version))"
if [[ -f $ENV_FILE ]]; then
  check_env_file "$ENV_FILE"
  say "checked: $ENV_FILE keeps ${STATE_SETTINGS[*]} where the services may write"
fi

if [[ -z $DESTDIR ]] && ! $dry_run; then
  ((EUID == 0)) || die "run as root (sudo $0), or with --dry-run, or with DESTDIR= to stage files"
  [[ -d /run/systemd/system ]] || die "systemd is not running here; use DESTDIR= to stage the files"
fi

staging=$(mktemp -d)
trap 'rm -rf -- "$staging"' EXIT

# 1. Units, with ExecStart= naming the node checked above.
shopt -s nullglob
unit_sources=("$OPS_DIR"/*.service "$OPS_DIR"/*.timer)
shopt -u nullglob
((${#unit_sources[@]} > 0)) || die "no unit files in $OPS_DIR"
for src in "${unit_sources[@]}"; do
  name=$(basename -- "$src")
  sed "s|^ExecStart=$DEFAULT_NODE |ExecStart=$node_bin |" -- "$src" >"$staging/$name"
  install_file "$staging/$name" "$UNIT_DIR/$name" 0644
  if $file_changed; then
    units_changed+=("$name")
  fi
done

# 2. The system user.
install_file "$OPS_DIR/llm-bench.sysusers.conf" "$SYSUSERS_FILE" 0644
if [[ -n $DESTDIR ]]; then
  say "skipped (DESTDIR): systemd-sysusers $SYSUSERS_FILE"
elif getent passwd "$SERVICE_USER" >/dev/null; then
  say "unchanged: user $SERVICE_USER exists"
else
  changes=$((changes + 1))
  run systemd-sysusers "$SYSUSERS_FILE"
fi

# 3. The state directory (StateDirectory= would create it at first start; creating it now lets
# the operator put e.g. .msmtprc or .aws/ in the service user's home first). Under DESTDIR the
# user does not exist: the directory is left to its owner, and StateDirectory= fixes it.
if [[ -n $DESTDIR ]]; then
  if [[ -d $STATE_DIR && $(stat -c %a -- "$STATE_DIR") == 700 ]]; then
    say "unchanged: $STATE_DIR"
  else
    changes=$((changes + 1))
    run install -d -m 0700 -- "$STATE_DIR"
    $dry_run || say "created: $STATE_DIR"
  fi
elif [[ -d $STATE_DIR && $(stat -c '%a %U %G' -- "$STATE_DIR") == "700 $SERVICE_USER $SERVICE_USER" ]]; then
  say "unchanged: $STATE_DIR"
else
  changes=$((changes + 1))
  run install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0700 -- "$STATE_DIR"
  $dry_run || say "created: $STATE_DIR (owner $SERVICE_USER, mode 700)"
fi

# 4. The settings file and the code the units run (on this machine only).
if [[ -n $DESTDIR ]]; then
  say "skipped (DESTDIR): $APP_DIR/.env and the code in $APP_DIR"
else
  [[ $OPS_DIR == "$APP_DIR/ops" ]] ||
    warn "the units run the code in $APP_DIR, not this checkout ($OPS_DIR)"
  [[ -e $APP_DIR/node_modules/tsx ]] ||
    warn "$APP_DIR/node_modules/tsx is missing: run 'npm ci --omit=dev' in $APP_DIR"
  env_file=$APP_DIR/.env
  if [[ ! -f $env_file ]]; then
    warn "$env_file is missing and the units will not start without it: cp $APP_DIR/.env.example $env_file, then fill it in"
  elif [[ $(stat -c '%G %a' -- "$env_file") != "$SERVICE_USER 640" ]]; then
    # The scripts read .env themselves (dotenv) as the service user; nobody else should.
    changes=$((changes + 1))
    run chgrp "$SERVICE_USER" -- "$env_file"
    run chmod 0640 -- "$env_file"
    $dry_run || say "secured: $env_file (group $SERVICE_USER, mode 640)"
  else
    say "unchanged: $env_file (group $SERVICE_USER, mode 640)"
  fi
fi

# 5. systemd: reload, enable and start.
if [[ -n $DESTDIR ]]; then
  say "skipped (DESTDIR): systemctl daemon-reload; systemctl enable --now ${ENABLE_UNITS[*]}"
else
  if ((${#units_changed[@]} > 0)); then
    run systemctl daemon-reload
    for name in "${units_changed[@]}"; do
      # A running ingest server keeps its old settings until restarted.
      if [[ $name == llm-bench-ingest.service ]]; then
        run systemctl try-restart "$name"
      fi
    done
  fi
  for unit in "${ENABLE_UNITS[@]}"; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
      say "unchanged: $unit enabled and active"
    else
      changes=$((changes + 1))
      run systemctl enable --now "$unit"
    fi
  done
fi

if $dry_run; then
  say "Dry run: $changes change(s) would be made; nothing was changed."
elif ((changes == 0)); then
  say "Nothing changed: llm-bench is already installed${DESTDIR:+ under $DESTDIR}."
else
  say "Done: $changes change(s)${DESTDIR:+ under $DESTDIR}."
  [[ -n $DESTDIR ]] || say "Next runs: systemctl list-timers 'llm-*'"
fi

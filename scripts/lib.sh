# Shared set-up steps for scripts/demo.sh and scripts/test.sh (sourced, not run).

PYTHON="${PYTHON:-python3}"

say() { printf '==> %s\n' "$*" >&2; }

# Packages the test suite needs from Debian/Ubuntu, keyed by the command or file that proves them.
test_packages() {
  local missing=()
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  # The NATS cluster's tests start their own three nodes (firmware_sim/nats_cluster.py), never the machine's.
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
  # The browser tests drive Debian's Chromium through Playwright (no browser download); Chinese
  # text needs a CJK font or it renders as empty boxes in the screenshots.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
  command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)  # InfluxDB mirror tests
  command -v npm >/dev/null 2>&1 || missing+=(npm)  # axe-core for the browser tests' accessibility checks
  # The home's voice: the speaker tests render real speech (Mandarin voice `cmn`) to WAV files.
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  echo "${missing[@]}"
}

apt_install() {
  local pkgs=("$@")
  [ ${#pkgs[@]} -gt 0 ] || return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
      say "测试需要这些 Debian/Ubuntu 软件包 / The tests need these Debian/Ubuntu packages: ${pkgs[*]}"
      say "安装方法 / Install them with:  sudo apt-get update && sudo apt-get install -y ${pkgs[*]}"
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "这台机器没有 apt-get：请用系统的包管理器安装后再运行 / No apt-get here. Install these with your package manager, then run again: ${pkgs[*]}"
    exit 1
  fi
  say "正在用 apt-get 安装 / Installing with apt-get: ${pkgs[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

ensure_system_packages() {
  # shellcheck disable=SC2207
  local missing=($(test_packages))
  apt_install "${missing[@]}"
}

ensure_axe() {
  # The browser tests inject axe-core (tests/integration/axe.py); npm installs the pinned range once.
  [ -f tests/integration/node_modules/axe-core/axe.min.js ] && return 0
  say "正在用 npm 安装 axe-core / Installing axe-core with npm"
  npm install --prefix tests/integration --no-audit --no-fund --silent >/dev/null
}

# ensure_venv EXTRAS: .venv with the project installed editable with those extras — `server,gateway`
# for the demo (both sides in one machine), `server,gateway,test,bench,check` for the tests.
ensure_venv() {
  local extras="${1:-}"
  if [ ! -x .venv/bin/python ]; then
    say "正在创建 .venv / Creating .venv"
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      apt_install python3-venv
      "$PYTHON" -m venv .venv
    fi
  fi
  local stamp=".venv/.anxin-installed-${extras:-base}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "正在把安心安装到 .venv / Installing Anxin${extras:+ with [$extras] extras} into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
}

# The storage tests need PostgreSQL on 127.0.0.1:5432 (or wherever ANXIN_TEST_POSTGRES points).
# On a machine with none running, install Debian's server, start its cluster, and give the tests a
# role of their own (password login, CREATEDB) instead of touching anyone else's accounts.
ensure_postgres() {
  [ -z "${ANXIN_TEST_POSTGRES:-}" ] || return 0
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then return 0; fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "正在为存储测试启动 PostgreSQL $version / Starting PostgreSQL $version for the storage tests"
  $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 1; done
  # The role's password is made here, each run (none is shipped); only this shell's tests learn it.
  local password
  password=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')
  $sudo runuser -u postgres -- psql -qc "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anxin_test') THEN
        CREATE ROLE anxin_test LOGIN CREATEDB PASSWORD '$password';
      ELSE
        ALTER ROLE anxin_test LOGIN CREATEDB PASSWORD '$password';
      END IF; END \$\$;"
  export ANXIN_TEST_POSTGRES="postgresql://anxin_test:${password}@127.0.0.1:5432/postgres"
}

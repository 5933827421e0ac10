# Sourced by scripts/serve and scripts/test: installs what a fresh Debian machine lacks.
# Everything it prints goes to stderr (stdout may be the daemon's protocol stream).

reprolm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf 'reprolm: %s\n' "$*" >&2; }

install_system_packages() {
    say "installing system packages: $*"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

ensure_system_packages() {
    local missing=()
    pkg-config --exists jansson 2>/dev/null || missing+=(libjansson-dev)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
    [ ${#missing[@]} -eq 0 ] || install_system_packages "${missing[@]}"
    command -v swift >/dev/null 2>&1 || { say "swift is not on PATH (Swift 6.x is required)"; return 1; }
}

ensure_python_packages() {
    local need=()
    for p in "$@"; do python3 -c "import $p" 2>/dev/null || need+=("$p"); done
    if [ ${#need[@]} -gt 0 ]; then
        say "installing python packages: ${need[*]}"
        python3 -m pip install -q "${need[@]}" >&2
    fi
}

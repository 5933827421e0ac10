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

# What only the test suite needs: Neovim for the plugin's headless test (clients/nvim; Debian
# bookworm's is 0.7.2, the oldest the plugin supports), and espeak-ng and sox for the Whisper
# speech clips (scripts/make_whisper_clips.py; the goldens pin bookworm's espeak-ng 1.51 and
# sox 14.4.2 by the clips' sha256).
ensure_test_packages() {
    local missing=()
    command -v nvim >/dev/null 2>&1 || missing+=(neovim)
    command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
    command -v sox >/dev/null 2>&1 || missing+=(sox)
    [ ${#missing[@]} -eq 0 ] || install_system_packages "${missing[@]}"
}

ensure_python_packages() {
    local need=()
    for p in "$@"; do python3 -c "import $p" 2>/dev/null || need+=("$p"); done
    if [ ${#need[@]} -gt 0 ]; then
        say "installing python packages: ${need[*]}"
        python3 -m pip install -q "${need[@]}" >&2
    fi
}

# The llama.cpp source vendored in the llama-cpp-python 0.3.36 sdist on PyPI (sha256-verified),
# unpacked under the cache folder: the peer the benchmarks build, and whose grammar and JSON
# Schema test suites Tests/grammar reads (read, never copied into the repository). Sets
# llama_source to the unpacked tree.
llama_version="0.3.36"
llama_sdist_sha256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
ensure_llama_source() {
    local cache="${REPROLM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reprolm}"
    local peer="$cache/llama.cpp-$llama_version"
    llama_source="$peer/src"
    [ -f "$llama_source/src/llama-grammar.cpp" ] && return 0
    command -v curl >/dev/null 2>&1 || install_system_packages curl
    mkdir -p "$peer"
    local sdist="$peer/llama_cpp_python-$llama_version.tar.gz"
    if [ ! -f "$sdist" ] || ! echo "$llama_sdist_sha256  $sdist" | sha256sum -c --status; then
        local index="${PIP_INDEX_URL:-https://pypi.org/simple}" url
        url=$(curl -fsSL "${index%/}/llama-cpp-python/" | grep -o "https://[^\"#]*llama_cpp_python-$llama_version.tar.gz" | head -1)
        [ -n "$url" ] || { say "cannot find the llama-cpp-python $llama_version sdist on $index"; return 1; }
        say "downloading $url"
        curl -fsSL -o "$sdist.part" "$url"
        echo "$llama_sdist_sha256  $sdist.part" | sha256sum -c --status || { say "sha256 mismatch for $url"; rm -f "$sdist.part"; return 1; }
        mv "$sdist.part" "$sdist"
    fi
    rm -rf "$llama_source"
    mkdir -p "$llama_source"
    tar -xzf "$sdist" -C "$llama_source" --strip-components=3 "llama_cpp_python-$llama_version/vendor/llama.cpp"
}

# Ray for deploy/ray (reprolm_ray: a fleet of daemons under Ray Serve and Ray Data), pinned: its
# tests start a local cluster on loopback.
ray_version="2.60.0"
ensure_ray() {
    python3 -c "import sys, ray, ray.serve, ray.data; sys.exit(ray.__version__ != '$ray_version')" 2>/dev/null \
        || { say "installing python package ray[serve,data]==$ray_version"; python3 -m pip install -q "ray[serve,data]==$ray_version" >&2; }
}

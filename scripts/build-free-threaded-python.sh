#!/usr/bin/env bash
# Build a free-threaded CPython (./configure --disable-gil) from the source of Debian's
# python3.14 package (suite sid), and make a venv with this package installed in it.
# VERSION=3.13 builds 3.13t from Debian's python3.13 instead (free-threading was experimental
# there, and numba publishes no cp313t wheels: its variants are then skipped).
# FREE_THREADED=0 builds the default (GIL) interpreter from the same source instead, into
# ~/.local/python3.14 and .venv-3.14: comparing the two separates what the free-threaded build
# costs from what changed between Python versions.
#
# Only a Debian mirror is needed: apt fetches the source with a private configuration under a
# temporary folder, so the system's apt sources and lists stay untouched. The mirror is the one
# this system's apt already uses for Debian (a company mirror, say), or MIRROR=URL; on a system
# without one, deb.debian.org. Needs a C
# toolchain and CPython's build dependencies (libssl-dev, zlib1g-dev, libffi-dev, ...).
#
#   scripts/build-free-threaded-python.sh                # prefix ~/.local/python3.14t, venv .venv-3.14t
#   VERSION=3.13 PREFIX=/opt/py313t scripts/build-free-threaded-python.sh
#   FREE_THREADED=0 scripts/build-free-threaded-python.sh   # the GIL build of the same 3.14
#   REBUILD=1 scripts/build-free-threaded-python.sh         # build again over an earlier build at PREFIX
#
# On your own machine, any of these gives the same interpreter more simply:
#   uv python install 3.14t          pyenv install 3.14t          (or your distribution's package)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${VERSION:-3.14}"
FREE_THREADED="${FREE_THREADED:-1}"
case "$FREE_THREADED" in
    1) suffix=t; gil_flag=--disable-gil ;;
    0) suffix=; gil_flag= ;;
    *) echo "FREE_THREADED must be 1 or 0, not '$FREE_THREADED'" >&2; exit 2 ;;
esac
PREFIX="${PREFIX:-$HOME/.local/python${VERSION}${suffix}}"
VENV="${VENV:-$repo/.venv-${VERSION}${suffix}}"
JOBS="${JOBS:-$(nproc)}"
case "$PREFIX" in "$repo"/*) echo "PREFIX must be outside the repository" >&2; exit 2 ;; esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="$PREFIX/bin/python${VERSION}${suffix}"
# An interpreter already built at PREFIX, of the build asked for, is reused: REBUILD=1 builds it again.
if [ "${REBUILD:-0}" != 1 ] && "$python" -c 'import sys, sysconfig
sys.exit(bool(sysconfig.get_config_var("Py_GIL_DISABLED")) != bool(int(sys.argv[1])))' "$FREE_THREADED" 2> /dev/null; then
    echo "== reusing $python, built before (REBUILD=1 builds it again)"
else
    apt_dir="$work/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" \
        "$apt_dir/preferences.d"
    # The first Debian archive (not its security archive) in this system's apt sources, in either format.
    system_mirror="$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null | grep -E '/debian/?$' | head -n 1 || true)"
    mirror="${MIRROR:-${system_mirror:-http://deb.debian.org/debian}}"
    mirror="${mirror%/}"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" \
        > "$apt_dir/sources.list"
    apt_options=(
        -o "Dir::Etc::SourceList=$apt_dir/sources.list"
        -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
        -o "Dir::Etc::PreferencesParts=$apt_dir/preferences.d"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
        -o "Debug::NoLocking=1"
        -o "APT::Sandbox::User=root"  # the temporary folder is not readable by apt's _apt user
    )

    echo "== fetching the python$VERSION source package from Debian sid at $mirror (private apt configuration)"
    apt-get "${apt_options[@]}" -qq update
    if ! (cd "$work" && apt-get "${apt_options[@]}" -qq source --download-only "python$VERSION" 2>/dev/null); then
        # A mirror's pool may lag its index (sid can list uploads the pool does not serve yet). Then
        # take the newest upload the pool has, found from the indexed version downwards, and check
        # the tarball against the SHA-256 its .dsc lists.
        newest="$(apt-cache "${apt_options[@]}" showsrc "python$VERSION" | sed -n 's/^Version: //p' | sort -V | tail -n 1)"
        pool="$mirror/pool/main/p/python$VERSION"
        patch="$(echo "$newest" | sed -E 's/^[0-9]+\.[0-9]+\.([0-9]+).*/\1/')"
        for ((n = patch; n >= 0; n--)); do
            dsc="python${VERSION}_${VERSION}.$n-1.dsc"
            if /usr/lib/apt/apt-helper download-file "$pool/$dsc" "$work/$dsc" > /dev/null 2>&1; then
                break
            fi
        done
        [ -f "$work/$dsc" ] || { echo "no python$VERSION source in the mirror's pool" >&2; exit 1; }
        orig_name="python${VERSION}_${VERSION}.$n.orig.tar.xz"
        sha256="$(awk -v f="$orig_name" '/^Checksums-Sha256:/ {on = 1; next} /^[^ ]/ {on = 0} on && $3 == f {print $1}' "$work/$dsc")"
        echo "== $newest is not in the mirror's pool; using ${VERSION}.$n (sha256 from its .dsc)"
        /usr/lib/apt/apt-helper download-file "$pool/$orig_name" "$work/$orig_name" "SHA256:$sha256" > /dev/null
    fi
    orig="$(ls "$work"/python"$VERSION"_*.orig.tar.xz)"
    echo "== upstream source: $(basename "$orig")"
    tar -xf "$orig" -C "$work"
    source_dir="$(find "$work" -maxdepth 1 -type d -name "Python-$VERSION*" | head -n 1)"

    echo "== building into $PREFIX with ${gil_flag:-the GIL} ($JOBS jobs)"
    cd "$source_dir"
    # shellcheck disable=SC2086  # an empty $gil_flag must vanish, not become an empty argument
    ./configure $gil_flag --prefix="$PREFIX" --with-ensurepip=install > "$work/configure.log"
    make -j"$JOBS" > "$work/make.log" 2>&1 || { tail -n 40 "$work/make.log"; exit 1; }
    make install > "$work/install.log" 2>&1 || { tail -n 40 "$work/install.log"; exit 1; }
fi

"$python" -c 'import sys, sysconfig
wanted = bool(int(sys.argv[1]))
assert bool(sysconfig.get_config_var("Py_GIL_DISABLED")) == wanted, "not the build asked for"
print(sys.version, "| free-threaded:", wanted, "| GIL enabled:", sys._is_gil_enabled())' "$FREE_THREADED"

echo "== venv $VENV with the cookbook and its test dependencies"
"$python" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# Wheels only: without them pip would try to compile numpy or numba from source, for many minutes.
if ! "$VENV/bin/python" -m pip install --quiet --only-binary=:all: -e "$repo[test]" 2> "$work/pip.log"; then
    # A dependency without a wheel for this Python (numba has none for 3.13t): install each one that
    # has a wheel, then the cookbook without dependencies; recipes skip the variants needing the rest.
    mapfile -t requirements < <("$VENV/bin/python" -c 'import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["test"]))' "$repo/pyproject.toml")
    missing=()
    for requirement in "${requirements[@]}"; do
        "$VENV/bin/python" -m pip install --quiet --only-binary=:all: "$requirement" 2> /dev/null \
            || missing+=("$requirement")
    done
    "$VENV/bin/python" -m pip install --quiet --no-deps -e "$repo"
    echo "== no wheel for this Python: ${missing[*]}; installed the rest (variants needing them are skipped)"
fi
echo "done: $VENV/bin/python -m cookbook.run all"

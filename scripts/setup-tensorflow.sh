#!/usr/bin/env bash
# Builds the native TensorFlow backend (@tensorflow/tfjs-node 4.22.0) against the TensorFlow C
# library shipped inside the pinned `tensorflow-cpu` 2.21.0 wheel, fetched with pip.
#
# Why: tfjs-node's own install script downloads a prebuilt libtensorflow 2.9.1 from a host that is
# not reachable here (and now answers 403 for everyone). The wheel's libtensorflow_cc.so.2 +
# libtensorflow_framework.so.2 export the whole C API the addon uses, so we compile the addon from
# source against the wheel's own headers (research and measurements: shared/reference/tfjs-backends.md).
#
# Usage:
#   bash scripts/setup-tensorflow.sh            # CPU build (what `npm ci` runs through postinstall)
#   bash scripts/setup-tensorflow.sh --force    # rebuild even if the addon already loads
#   bash scripts/setup-tensorflow.sh --gpu      # GPU build, see below
# Env: TF_WHEEL_FILE=/path/to.whl uses a wheel you already have instead of calling pip.
#
# Exit status: 0 when the backend works afterwards (or already did), non-zero with a line
# "setup-tensorflow: FAILED: <what>" otherwise. scripts/postinstall.mjs turns a failure into a
# warning so that `npm ci` still succeeds and the project runs on the wasm fallback.
#
# --gpu (documented, cannot be tested on our CPU-only machines):
#   Same recipe for @tensorflow/tfjs-node-gpu 4.22.0 against the GPU wheel `tensorflow==2.21.0`
#   (on Linux x86_64 the plain `tensorflow` wheel is the CUDA build; its libtensorflow_cc.so.2 and
#   libtensorflow_framework.so.2 dlopen CUDA/cuDNN at run time). Requirements on the host: an
#   NVIDIA driver plus the CUDA 12 and cuDNN 9 libraries TF 2.21 was built against, findable by the
#   dynamic loader (system install, or `pip install 'tensorflow[and-cuda]==2.21.0'` in some venv and
#   its nvidia/*/lib folders on LD_LIBRARY_PATH). The addon builds without CUDA present; it then
#   loads but sees no GPU, which the runtime's `auto` mode detects and skips (src/runtime/).
#   tfjs-node-gpu is not a dependency of the project: the script installs it with --no-save.
#
# Never commit what this produces: the wheel is fetched into a temp dir and deleted; deps/ and the
# built lib/napi-v8/tfjs_binding.node live inside node_modules (ignored by git).
set -euo pipefail

TF_VERSION=2.21.0        # pinned: the C API and headers we compile against; do not float
TFJS_VERSION=4.22.0
VARIANT=cpu
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --gpu) VARIANT=gpu ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "setup-tensorflow: unknown argument '$arg' (expected --gpu, --force)" >&2; exit 2 ;;
  esac
done
if [ "$VARIANT" = gpu ]; then
  PKG_NAME=@tensorflow/tfjs-node-gpu; WHEEL_NAME=tensorflow; WHEEL_GLOB='tensorflow-*.whl'
else
  PKG_NAME=@tensorflow/tfjs-node; WHEEL_NAME=tensorflow-cpu; WHEEL_GLOB='tensorflow_cpu-*.whl'
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PKG="$ROOT/node_modules/$PKG_NAME"
T0=$(date +%s)
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

say() { echo "setup-tensorflow: $*"; }
fail() { echo "setup-tensorflow: FAILED: $*" >&2; exit 1; }
smoke() { node "$ROOT/scripts/tensorflow-smoke.mjs" "$PKG_NAME"; }

# 0. Idempotence: nothing to do when the addon already loads and computes correctly.
if [ "$FORCE" = 0 ] && [ -f "$PKG/lib/napi-v8/tfjs_binding.node" ] && out=$(smoke 2>/dev/null); then
  say "already working, skipping ($out)"
  exit 0
fi

command -v node >/dev/null || fail "node is not on PATH"
for tool in g++ make nm; do
  command -v "$tool" >/dev/null || fail "'$tool' is missing (install build-essential / binutils)"
done
PY=$(command -v python3 || command -v python || true)
[ -n "$PY" ] || fail "python3 is missing (needed for pip and node-gyp)"

# 1. The npm package. Where npm runs its install script (npm 11.19 here does, for this optional
#    dependency), install.js fails on its download and npm drops the package; where npm blocks
#    unapproved install scripts, the package stays but unbuilt. Either way we make sure the JS
#    package is there, without its script, and build it ourselves below.
pkg_version() { node -p "require('$PKG/package.json').version" 2>/dev/null || true; }
if [ "$(pkg_version)" != "$TFJS_VERSION" ]; then
  say "installing $PKG_NAME@$TFJS_VERSION (scripts disabled)"
  npm install --no-save --ignore-scripts --no-audit --no-fund "$PKG_NAME@$TFJS_VERSION" >/dev/null \
    || fail "npm install --no-save --ignore-scripts $PKG_NAME@$TFJS_VERSION"
  [ "$(pkg_version)" = "$TFJS_VERSION" ] || fail "$PKG_NAME@$TFJS_VERSION is not in node_modules after npm install"
fi
# One engine: tfjs-node's @tensorflow/tfjs must resolve to the project's @tensorflow/tfjs-core.
CORE_ROOT=$(node -p "require.resolve('@tensorflow/tfjs-core')")
CORE_PKG=$(node -e "
  const { createRequire } = require('module');
  const tfjs = createRequire('$PKG/package.json').resolve('@tensorflow/tfjs/package.json');
  console.log(createRequire(tfjs).resolve('@tensorflow/tfjs-core'));")
if [ "$CORE_ROOT" != "$CORE_PKG" ]; then
  say "deduping @tensorflow/tfjs-core ($CORE_PKG)"
  npm dedupe --ignore-scripts --no-audit --no-fund >/dev/null || true
  CORE_PKG=$(node -e "
    const { createRequire } = require('module');
    const tfjs = createRequire('$PKG/package.json').resolve('@tensorflow/tfjs/package.json');
    console.log(createRequire(tfjs).resolve('@tensorflow/tfjs-core'));")
  [ "$CORE_ROOT" = "$CORE_PKG" ] || fail "two copies of @tensorflow/tfjs-core: $CORE_ROOT and $CORE_PKG"
fi

# 2. The wheel, through pip's configured indexes (or TF_WHEEL_FILE).
W=$(mktemp -d "${TMPDIR:-/tmp}/ablate-tf.XXXXXX")
trap 'rm -rf "$W"' EXIT
if [ -n "${TF_WHEEL_FILE:-}" ]; then
  [ -f "$TF_WHEEL_FILE" ] || fail "TF_WHEEL_FILE=$TF_WHEEL_FILE does not exist"
  WHEEL=$TF_WHEEL_FILE
else
  say "fetching $WHEEL_NAME==$TF_VERSION with pip"
  # The C libraries are the same in every cpXY wheel; if the local Python has no wheel of its own
  # (e.g. too new), ask for the cp311 one explicitly.
  if ! "$PY" -m pip download --no-deps --only-binary=:all: -q -d "$W" "$WHEEL_NAME==$TF_VERSION"; then
    "$PY" -m pip download --no-deps --only-binary=:all: -q -d "$W" \
      --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_27_x86_64 \
      "$WHEEL_NAME==$TF_VERSION" \
      || fail "pip download $WHEEL_NAME==$TF_VERSION (is a Python package index reachable?)"
  fi
  WHEEL=$(find "$W" -maxdepth 1 -name "$WHEEL_GLOB" | head -n 1)
  [ -n "$WHEEL" ] || fail "pip reported success but no $WHEEL_GLOB is in $W"
fi
say "using $(basename "$WHEEL")"

# 3. Unpack only the two libraries and the 14 headers the binding includes (756 KB, not 287 MB).
"$PY" - "$WHEEL" "$W/x" <<'EOF' || fail "unpacking libraries/headers from the wheel"
import fnmatch, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
want = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2',
        'tensorflow/include/tensorflow/c/*', 'tensorflow/include/tensorflow/core/platform/ctstring*',
        'tensorflow/include/tsl/platform/ctstring*', 'tensorflow/include/xla/tsl/c/*']
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if any(fnmatch.fnmatch(n, p) for p in want)]
    for lib in want[:2]:
        if lib not in names:
            sys.exit(f'{lib} is not in the wheel')
    for n in names:
        z.extract(n, dest)
EOF
rm -rf "$PKG/deps" "$PKG/lib" "$PKG/build"
mkdir -p "$PKG/deps/lib"
mv "$W/x/tensorflow/include" "$PKG/deps/include"
mv "$W/x/tensorflow/libtensorflow_cc.so.2" "$W/x/tensorflow/libtensorflow_framework.so.2" "$PKG/deps/lib/"
(
  cd "$PKG/deps/lib"
  ln -sf libtensorflow_cc.so.2 libtensorflow.so                  # binding.gyp links -ltensorflow
  ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so  # and -ltensorflow_framework
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1            # install.js's "already downloaded" marker
)
rm -rf "$W/x" "$W"/*.whl  # free 274 MB now (a TF_WHEEL_FILE outside $W is kept)

# 4. Every C function the binding calls must be exported (binding/*.cc of tfjs-node 4.22.0).
#    nm goes to a file first: piping it into `grep -q` under pipefail fails on SIGPIPE.
nm -D --defined-only "$PKG"/deps/lib/libtensorflow_cc.so.2 "$PKG"/deps/lib/libtensorflow_framework.so.2 \
  | awk 'NF >= 3 {print $3}' | sed 's/@.*//' | sort -u > "$W/exported.txt"
missing=()
for s in TF_AllocateTensor TF_DataTypeSize TF_DeleteBuffer TF_DeleteDeviceList TF_DeleteGraph \
  TF_DeleteSession TF_DeleteSessionOptions TF_DeleteStatus TF_DeleteTensor TF_DeviceListCount \
  TF_DeviceListName TF_DeviceListType TF_Dim TF_GetCode TF_GraphOperationByName \
  TF_LoadSessionFromSavedModel TF_Message TF_NewBuffer TF_NewBufferFromString TF_NewGraph \
  TF_NewSessionOptions TF_NewStatus TF_NewTensor TF_NumDims TF_SessionRun TF_TensorByteSize \
  TF_TensorData TF_TensorElementCount TF_TensorType TF_Version \
  TFE_ContextListDevices TFE_DeleteContext TFE_DeleteContextOptions TFE_DeleteOp \
  TFE_DeleteTensorHandle TFE_Execute TFE_NewContext TFE_NewContextOptions TFE_NewOp \
  TFE_NewTensorHandle TFE_OpAddInput TFE_OpSetAttrBool TFE_OpSetAttrBoolList TFE_OpSetAttrFloat \
  TFE_OpSetAttrFloatList TFE_OpSetAttrInt TFE_OpSetAttrIntList TFE_OpSetAttrShape \
  TFE_OpSetAttrString TFE_OpSetAttrType TFE_TensorHandleCopyToDevice TFE_TensorHandleDataType \
  TFE_TensorHandleDim TFE_TensorHandleNumDims TFE_TensorHandleResolve; do
  grep -qxF "$s" "$W/exported.txt" || missing+=("$s")
done
[ ${#missing[@]} -eq 0 ] || fail "the wheel's libtensorflow does not export: ${missing[*]}"
say "all 55 C API functions the binding uses are exported"

# 5. Compile the addon from source. node-pre-gyp is called directly (not through `npm rebuild`,
#    which npm >= 11 would skip for an unapproved package); node-gyp needs Node's headers, which we
#    take from the running node's prefix so nothing is downloaded.
NODEDIR=${npm_config_nodedir:-$(node -p "require('path').resolve(process.execPath, '../..')")}
[ -f "$NODEDIR/include/node/node_api.h" ] || fail "Node headers not found at $NODEDIR/include/node (set npm_config_nodedir)"
PREGYP=$(node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: ['$PKG'] })") \
  || fail "@mapbox/node-pre-gyp (a dependency of $PKG_NAME) is not installed"
say "compiling the addon (node-gyp, nodedir=$NODEDIR)"
(
  cd "$PKG"
  export npm_config_nodedir="$NODEDIR" npm_config_build_from_source=true
  node "$PREGYP" install --build-from-source --loglevel=warn > "$W/build.log" 2>&1
) || { tail -n 40 "$W/build.log" >&2; fail "building the tfjs-node addon (log tail above)"; }
[ -f "$PKG/lib/napi-v8/tfjs_binding.node" ] || fail "build finished but lib/napi-v8/tfjs_binding.node is missing"
rm -rf "$PKG/build"  # intermediate objects, ~10 MB

# 6. Smoke test: backend name, TF version, exact conv gradient.
out=$(smoke 2>"$W/smoke.err") || { grep -v -e '^I0000' -e 'absl::InitializeLog' "$W/smoke.err" | tail -n 20 >&2; fail "smoke test (reason above)"; }
say "$out (took $(( $(date +%s) - T0 )) s)"

# Git must never see these (they live under node_modules/, which .gitignore lists).
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$ROOT" check-ignore -q "$PKG/deps/lib/libtensorflow_cc.so.2" \
    || echo "setup-tensorflow: warning: $PKG/deps is not ignored by git; do not commit it" >&2
fi

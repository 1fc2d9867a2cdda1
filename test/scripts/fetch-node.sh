#!/usr/bin/env bash
# Prints the path of a Node.js binary of one major version (22 or 24), for
# running the unit suites and the packaging test under the Node versions users
# run besides the machine's own (20). The binary comes from the npm registry
# package node-linux-<arch> (its package/bin/node), pinned to one release and
# checked against the integrity recorded here, and is kept in a cache so later
# runs need no download.
#
# Usage: bash test/scripts/fetch-node.sh 22|24
# Environment: HANDYREP_NODE_CACHE (default ~/.cache/handyrep/node).
set -euo pipefail

major=${1:?usage: fetch-node.sh 22|24}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "fetch-node: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

# One release per major line; raise the version and its integrity together
# (npm view node-linux-<arch>@VERSION dist.integrity).
case "$major/$arch" in
  22/x64) version=22.23.5 integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw== ;;
  24/x64) version=24.22.3 integrity=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
  22/arm64) version=22.23.5 integrity=sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg== ;;
  24/arm64) version=24.22.3 integrity=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw== ;;
  *) echo "fetch-node: no pinned release for Node $major" >&2; exit 1 ;;
esac

cache=${HANDYREP_NODE_CACHE:-$HOME/.cache/handyrep/node}
target=$cache/node-$version-linux-$arch
if [[ -x $target/bin/node ]] && [[ $("$target/bin/node" --version) == "v$version" ]]; then
  echo "$target/bin/node"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# npm checks the download against the registry's integrity; the pinned value
# makes sure it is this exact release.
file=$(cd "$work" && npm pack "node-linux-$arch@$version" --silent | tail -n1)
got=sha512-$(node -e 'process.stdout.write(require("node:crypto").createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$work/$file")
if [[ $got != "$integrity" ]]; then
  echo "fetch-node: node-linux-$arch@$version has integrity $got, expected $integrity" >&2
  exit 1
fi
tar xzf "$work/$file" -C "$work" package/bin/node
mkdir -p "$target/bin"
mv "$work/package/bin/node" "$target/bin/node.partial"
mv "$target/bin/node.partial" "$target/bin/node"
if [[ $("$target/bin/node" --version) != "v$version" ]]; then
  echo "fetch-node: $target/bin/node does not report v$version" >&2
  exit 1
fi
echo "fetch-node: Node $version in $target" >&2
echo "$target/bin/node"

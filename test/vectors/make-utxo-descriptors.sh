#!/usr/bin/env bash
# Regenerates utxo-descriptors.json: Litecoin Core's own checksums and derived addresses for descriptor
# spellings utxo.json does not cover (key origins, `h` steps, upper-case fingerprints, a non-ranged key).
# Needs litecoind/litecoin-cli (Litecoin Core 0.21) and python3; runs a throw-away regtest node on loopback.
set -euo pipefail
out="${1:-$(dirname "$0")/utxo-descriptors.json}"
dir="$(mktemp -d)"
port=$((40000 + RANDOM % 20000))
cat > "$dir/litecoin.conf" <<CONF
regtest=1
server=1
listen=0
disablewallet=1
printtoconsole=0
rpcuser=vectors
rpcpassword=vectors
[regtest]
rpcbind=127.0.0.1
rpcallowip=127.0.0.1
rpcport=$port
vbparams=mweb:-2:0
CONF
litecoind -datadir="$dir" & pid=$!
cli() { litecoin-cli -datadir="$dir" "$@"; }
trap 'cli stop >/dev/null 2>&1 || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
until cli getblockcount >/dev/null 2>&1; do sleep 0.1; done

# Account keys of the BIP39 test mnemonic 'abandon x11 about' (master fingerprint 73c5da0a), as in utxo.json.
K84=tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M
K49=tpubDD7tXK8KeQ3YY83yWq755fHY2JW8Ha8Q765tknUM5rSvjPcGWfUppDFMpQ1ScziKfW3ZNtZvAD7M3u7bSs7HofjTD3KP3YxPK7X6hwV8Rk2
K44=tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba
descriptors=(
  "wpkh([73c5da0a/84'/1'/0']$K84/0/*)"
  "wpkh([73c5da0a/84h/1h/0h]$K84/0/*)"
  "wpkh([73C5DA0A/84h/1h/0h]$K84/0/*)"
  "sh(wpkh([73c5da0a/49'/1'/0']$K49/0/*))"
  "pkh([73c5da0a/44h/1h/0h]$K44/0/*)"
  "wpkh($K84)"
  "raw(deadbeef)"
)
{
  echo "["
  first=1
  for d in "${descriptors[@]}"; do
    info="$(cli getdescriptorinfo "$d")"
    checksum="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["checksum"])' <<<"$info")"
    ranged="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["isrange"])' <<<"$info")"
    if [[ "$ranged" == "True" ]]; then addresses="$(cli deriveaddresses "$d#$checksum" "[0,2]")"; else addresses="null"; fi
    [[ $first == 1 ]] || echo ","
    first=0
    python3 -c 'import json,sys; d,info,addrs=sys.argv[1],json.loads(sys.argv[2]),json.loads(sys.argv[3]); print(json.dumps({"chain":"regtest","input":d,"checksum":info["checksum"],"normalized":info["descriptor"],"isrange":info["isrange"],"addresses_0_to_2":addrs}))' "$d" "$info" "$addresses"
  done
  bad="wpkh($K84/0/*)#gt9he67x"
  [[ $first == 1 ]] || echo ","
  error="$(cli getdescriptorinfo "$bad" 2>&1 || true)"
  python3 -c 'import json,sys; print(json.dumps({"chain":"regtest","input":sys.argv[1],"error":sys.argv[2].strip()}))' "$bad" "$error"
  echo "]"
} > "$out.tmp"
python3 -c 'import json,sys; data=json.load(open(sys.argv[1])); json.dump({"_about":"Made by make-utxo-descriptors.sh with "+sys.argv[2]+" (getdescriptorinfo, deriveaddresses on regtest).","results":data}, open(sys.argv[3],"w"), indent=1); open(sys.argv[3],"a").write("\n")' "$out.tmp" "$(litecoind -version | head -1)" "$out"
rm -f "$out.tmp"

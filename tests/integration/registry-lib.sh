# SPDX-License-Identifier: LGPL-2.1-or-later
# Registries for test-registry and bench/pull.sh, run inside the sandbox (its
# own network namespace: 127.0.0.1 there is not the host's) as transient
# units of the sandbox's systemd, so they end with it. Source after lib.sh,
# call after sandbox_start. Debian's docker-registry, always with a
# configuration written here (the packaged service is masked by lib.sh):
#   127.0.0.1:5000  plain HTTP, Insecure= in registries.d   reg_start_plain
#   127.0.0.1:5443  TLS (a CA made here, in certs.d), htpasswd  reg_start_tls
#   127.0.0.1:5444  TLS wanting a client certificate (certs.d's) reg_start_mtls
#   127.0.0.1:5010  token auth, token server on :5001         reg_start_token
#   127.0.0.1:5020  pull-through mirror of :5000              reg_start_mirror
#   127.0.0.1:5002  fault proxy in front of :5000             reg_start_fault, reg_fault
#   127.0.0.1:5003  a registry that lies                      reg_start_hostile
# Users: alice (htpasswd; on the token server pull,push) and bob (token
# server: pull), both with the password $REG_PW. Access logs: $REG/NAME/log.

REG=
REG_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REG_PW='Pa55-w0rd-S3cret'
REG_PY=/usr/bin/python3      # Debian's, which has python3-jwt

# reg_unit NAME LOG CMD...: a transient service of the sandbox, output to LOG.
reg_unit() {
        local name=$1 logfile=$2; shift 2
        sbx systemd-run --quiet --unit="reg-$name" --description="test registry $name" --property=StandardOutput="append:$logfile" \
                --property=StandardError="append:$logfile" "$@" >/dev/null
}

reg_wait_port() {
        local i
        for i in $(seq 100); do
                sbx bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
                sleep 0.1
        done
        log "nothing listens on 127.0.0.1:$1"; tail -n 5 "$REG"/*/log "$REG"/*.out >&2 2>/dev/null; sbx systemctl --no-pager status "reg-*" >&2 2>/dev/null | tail -n 20
        return 1
}

# reg_registry NAME PORT [YAML lines...]: docker-registry with its own configuration.
reg_registry() {
        local name=$1 port=$2
        shift 2
        mkdir -p "$REG/$name"
        {
                printf 'version: 0.1\nlog:\n  accesslog:\n    disabled: false\n  level: warn\n'
                printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$REG/$name/data"
                printf 'http:\n  addr: 127.0.0.1:%s\n  secret: berth-test\n' "$port"
                printf '%s\n' "$@"
        } >"$REG/$name/config.yml"
        reg_unit "$name" "$REG/$name/log" docker-registry serve "$REG/$name/config.yml"
        reg_wait_port "$port"
}

reg_conf() {
        sbx mkdir -p /etc/berth/registries.d
        printf '[Registry]\nName=127.0.0.1:%s\nInsecure=yes\n\n' "$@" | sbx tee /etc/berth/registries.d/test.conf >/dev/null
}

# Certificates, users, the registries.d file for the insecure ones.
reg_init() {
        REG=$SBX_TMP/reg
        mkdir -p "$REG"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca -keyout "$REG/ca.key" \
                -out "$REG/ca.crt" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$REG/server.key" \
                -out "$REG/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\n' >"$REG/san.ext"
        openssl x509 -req -in "$REG/server.csr" -CA "$REG/ca.crt" -CAkey "$REG/ca.key" -CAcreateserial \
                -days 2 -extfile "$REG/san.ext" -out "$REG/server.crt" 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-token -keyout "$REG/token.key" \
                -out "$REG/token.crt" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=berth-client -keyout "$REG/client.key" \
                -out "$REG/client.csr" 2>/dev/null
        openssl x509 -req -in "$REG/client.csr" -CA "$REG/ca.crt" -CAkey "$REG/ca.key" -CAcreateserial \
                -days 2 -out "$REG/client.cert" 2>/dev/null
        htpasswd -Bbn alice "$REG_PW" >"$REG/htpasswd"
        reg_conf 5000 5010 5002 5003 5020
        sbx mkdir -p /etc/berth/certs.d/127.0.0.1:5443
        sbx cp "$REG/ca.crt" /etc/berth/certs.d/127.0.0.1:5443/ca.crt
}

reg_start_plain() { reg_registry plain 5000; }

reg_start_tls() {
        reg_registry tls 5443 "  tls:" "    certificate: $REG/server.crt" "    key: $REG/server.key" \
                "auth:" "  htpasswd:" "    realm: berth-test" "    path: $REG/htpasswd"
}

reg_start_mtls() {
        reg_registry mtls 5444 "  tls:" "    certificate: $REG/server.crt" "    key: $REG/server.key" \
                "    clientcas:" "      - $REG/ca.crt" &&
        sbx mkdir -p /etc/berth/certs.d/127.0.0.1:5444 &&
        sbx cp "$REG/ca.crt" "$REG/client.cert" "$REG/client.key" /etc/berth/certs.d/127.0.0.1:5444/
}

reg_start_token() {
        reg_unit token-server "$REG/token.out" $REG_PY "$REG_SRC/registry-token-server.py" 127.0.0.1 5001 \
                "$REG/token.key" "$REG/token.crt" berth-test-issuer "$REG/token.log" \
                "alice:$REG_PW:pull,push" "bob:$REG_PW:pull"
        reg_wait_port 5001 &&
        reg_registry token 5010 "auth:" "  token:" "    realm: http://127.0.0.1:5001/token" \
                "    service: berth-test-registry" "    issuer: berth-test-issuer" "    rootcertbundle: $REG/token.crt"
}

reg_start_mirror() { reg_registry mirror 5020 "proxy:" "  remoteurl: http://127.0.0.1:5000"; }

reg_start_fault() {
        mkdir -p "$REG/fault"
        echo '{"mode": "none"}' >"$REG/fault/control.json"
        : >"$REG/fault/log"
        reg_unit fault "$REG/fault/out" $REG_PY "$REG_SRC/registry-fault-proxy.py" 127.0.0.1 5002 5000 \
                "$REG/fault/control.json" "$REG/fault/log"
        reg_wait_port 5002
}

# reg_fault MODE [N]: drop N (after N bytes of a blob, once), 429 N, 503 N (times), slow N (s),
# trickle N (blob bodies at N bytes/s), none.
reg_fault() {
        case "$1" in
        drop) printf '{"mode": "drop", "after": %d, "times": 1}\n' "$2" ;;
        429|503) printf '{"mode": "%s", "times": %d}\n' "$1" "${2:-1}" ;;
        slow) printf '{"mode": "slow", "delay": %s}\n' "${2:-0.5}" ;;
        trickle) printf '{"mode": "trickle", "rate": %d}\n' "${2:-100}" ;;
        *) echo '{"mode": "none"}' ;;
        esac >"$REG/fault/control.json"
        : >"$REG/fault/log"
}

# reg_fault_bytes DIGEST: body bytes the proxy sent of that blob since reg_fault.
reg_fault_bytes() {
        python3 -c "import json,sys; print(sum(json.loads(l)['bytes'] for l in open(sys.argv[1])
                    if sys.argv[2] in l and json.loads(l)['method'] == 'GET'))" "$REG/fault/log" "$1"
}

reg_start_hostile() {
        reg_unit hostile "$REG/hostile.out" $REG_PY "$REG_SRC/registry-hostile.py" 127.0.0.1 5003
        reg_wait_port 5003
}

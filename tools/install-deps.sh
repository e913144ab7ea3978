#!/bin/sh
# install-deps.sh: install the Debian 12 packages danemilter needs to build,
# test and demo. Idempotent; installs only what is missing. Run as root.
# (Sendmail, which conflicts with postfix, is not installed: the tests fetch
# sendmail-bin and sendmail-cf with apt-get download and unpack them, see
# tests/world/sendmail.sh; m4 builds its .cf.)
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libunbound-dev libssl-dev libivykis-dev libconfig-dev libcurl4-openssl-dev
libmilter-dev libjansson-dev libmicrohttpd-dev libhiredis-dev libldns-dev libidn2-dev libevent-dev libsystemd-dev
clang libclang-rt-14-dev
dns-root-data nsd ldnsutils bind9-dnsutils unbound unbound-host openssl
postfix swaks libnet-ssleay-perl curl chromium python3 miltertest procps iproute2 m4
postfix-mta-sts-resolver python3-uvloop spamassassin syslog-ng-core libxml2-utils
man-db groff-base systemd prometheus redis-server redis-tools"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The packaged services are never used: the tests run their own instances.
for s in nsd postfix unbound postfix-mta-sts-resolver syslog-ng prometheus redis-server; do
	if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$s" >/dev/null 2>&1 || true; fi
	service "$s" stop >/dev/null 2>&1 || true
done

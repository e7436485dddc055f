#!/bin/sh
# mmdebstrap --customize-hook for Bulwark's image: runs on the host with the rootfs as $1,
# after the packages are installed (scripts/build-image.sh).
set -eu
R="$1"
# never the host: the hook gets the image's root directory, nothing else
case "$R" in "" | / | //*) echo "customize.sh: refusing root directory '$R'" >&2; exit 1 ;; esac
[ -d "$R/etc" ] || { echo "customize.sh: $R is not a root filesystem" >&2; exit 1; }
# the server's user: uid/gid 10001, no login shell, no password
grep -q '^bulwark:' "$R/etc/group" || echo 'bulwark:x:10001:' >>"$R/etc/group"
grep -q '^bulwark:' "$R/etc/passwd" ||
  echo 'bulwark:x:10001:10001:Bulwark:/home/bulwark:/usr/sbin/nologin' >>"$R/etc/passwd"
[ ! -f "$R/etc/shadow" ] || grep -q "^bulwark:" "$R/etc/shadow" || echo "bulwark:!:19000::::::" >>"$R/etc/shadow"
# writable places of a read-only root filesystem (the Helm chart mounts emptyDirs here)
for d in /home/bulwark /var/lib/bulwark /var/cache/bulwark; do
  mkdir -p "$R$d"
  chown 10001:10001 "$R$d"
  chmod 0750 "$R$d"
done
# no apt/dpkg caches, logs or machine identity in an image
rm -rf "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/* "$R"/var/log/* "$R"/tmp/* "$R"/var/tmp/*
rm -f "$R/etc/machine-id" "$R/var/lib/dbus/machine-id"
: >"$R/etc/hostname"

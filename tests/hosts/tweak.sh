#!/bin/sh
# tests/hosts/tweak.sh ROOT - the image tweaks of TESTHOSTS.md §3.2, applied
# to a freshly bootstrapped Debian rootfs (by mkrootfs.sh). Each one is
# needed for `cloud-init status: done` on an nspawn container or a qemu VM.
set -eu
r=$1
[ -d "$r/etc" ] || { echo "tweak: no rootfs at $r" >&2; exit 1; }

# qemu: DHCP on the slirp NIC (nspawn shares the host's network and
# networkd skips itself there, lacking CAP_NET_ADMIN).
mkdir -p "$r/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' \
  > "$r/etc/systemd/network/20-wired.network"
chroot "$r" systemctl enable -q systemd-networkd.service

# cloud-init: NoCloud only, never touch the network config (nspawn shares
# the host's), one host key type, no disk growing, a resolvable hostname.
cat > "$r/etc/cloud/cloud.cfg.d/90-testhost.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
network: {config: disabled}
ssh_genkeytypes: [ed25519]
resize_rootfs: false
growpart: {mode: 'off'}
manage_etc_hosts: true
CFG

# The locale cloud-init's locale module wants, generated and set (else
# status: error, or 10 s lost under TCG).
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$r/etc/locale.gen"
chroot "$r" locale-gen > /dev/null
echo LANG=en_US.UTF-8 > "$r/etc/default/locale"

# Per-boot identity: machine-id and SSH host keys come at first boot (the
# host keys from the user-data's ssh_keys, or cloud-init generates them).
: > "$r/etc/machine-id"
rm -f "$r"/etc/ssh/ssh_host_*
printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$r/etc/fstab"
# The drop-in directory the nspawn provider binds its sshd port into.
mkdir -p "$r/etc/ssh/sshd_config.d"

# The build host's resolver and apt state do not belong in the image.
rm -f "$r/etc/resolv.conf"; : > "$r/etc/resolv.conf"
printf 'Acquire::Check-Valid-Until "false";\n' \
  > "$r/etc/apt/apt.conf.d/99mvm-snapshot"
rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin \
  "$r"/var/lib/apt/lists/*

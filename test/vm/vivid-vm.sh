#!/usr/bin/env bash
# vivid-vm.sh: run a command against a real V4L2 device on a machine that has none.
# (Adapted for liveview: an emulated CPU with the newer x86 instructions prebuilt npm binaries
# use, and a loopback interface so that tests can start the server inside the VM.)
#
# Boots Debian's stock kernel under QEMU (software emulation, no KVM needed), loads the
# kernel's own virtual video test driver `vivid` (it creates /dev/video0.. with real
# V4L2 semantics: formats, ioctls, mmap streaming), mounts this machine's root file
# system read-only over 9p and runs COMMAND chrooted into it, with /dev, /proc, /sys,
# /tmp of the VM. The working directory is shared read-write at the same path, so
# COMMAND can write results there. Exit status is COMMAND's.
#
# Usage:   vivid-vm.sh [--timeout S] [--vivid-opts "n_devs=1 ..."] -- COMMAND [ARG...]
# Example: vivid-vm.sh -- v4l2-ctl -d /dev/video0 --all
# Needs (Debian): qemu-system-x86 linux-image-amd64 busybox-static
#   apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static
set -euo pipefail
timeout_s=300; vivid_opts=""
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s=$2; shift 2;;
    --vivid-opts) vivid_opts=$2; shift 2;;
    --) shift; break;;
    *) break;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--timeout S] [--vivid-opts OPTS] -- COMMAND [ARG...]" >&2; exit 2; }
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1) || true
[ -n "$kernel" ] || { echo "vivid-vm: no /boot/vmlinuz-*: apt-get install linux-image-amd64" >&2; exit 2; }
kver=${kernel#/boot/vmlinuz-}; moddir=/lib/modules/$kver
command -v qemu-system-x86_64 >/dev/null || { echo "vivid-vm: apt-get install qemu-system-x86" >&2; exit 2; }
[ -x /bin/busybox ] || { echo "vivid-vm: apt-get install busybox-static" >&2; exit 2; }

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root=$work/initrd; mkdir -p "$root"/{bin,mod,proc,sys,dev,host,out}
cp /bin/busybox "$root/bin/busybox"
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p
      mc videodev rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-common videobuf2-v4l2 videobuf2-memops
      videobuf2-vmalloc videobuf2-dma-contig vivid"
for m in $mods; do
  f=$(find "$moddir" -name "$m.ko*" | head -1)
  [ -n "$f" ] || { echo "vivid-vm: module $m not found in $moddir" >&2; exit 2; }
  cp "$f" "$root/mod/"
done
cwd=$(pwd)
printf '%q ' "$@" > "$root/cmd"
cat > "$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
ifconfig lo 127.0.0.1 up
for m in $(echo $mods); do
  if [ "\$m" = vivid ]; then insmod /mod/vivid.ko* $vivid_opts; else insmod /mod/\$m.ko*; fi || echo "vivid-vm: insmod \$m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host
mount -o bind /dev /host/dev; mount -t proc proc /host/proc; mount -t sysfs sys /host/sys
mount -t tmpfs tmpfs /host/tmp
mkdir -p /host$cwd 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L cwd /host$cwd || echo "vivid-vm: could not share $cwd"
chroot /host /bin/sh -c "cd $cwd && export HOME=/tmp PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin && \$(cat /cmd)"
echo "VIVID_VM_EXIT=\$?"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initrd.gz")
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initrd.gz" -append "console=ttyS0 panic=-1 quiet" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$cwd",mount_tag=cwd,security_model=none \
  | tee "$work/console.log" | grep -av 'VIVID_VM_EXIT=' | sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -avE '^(SeaBIOS|iPXE|Press Ctrl-B|Booting from ROM)' || true
code=$(grep -ao 'VIVID_VM_EXIT=[0-9]*' "$work/console.log" | tail -1 | cut -d= -f2)
[ -n "$code" ] || { echo "vivid-vm: the VM did not finish (timeout ${timeout_s}s?)" >&2; exit 124; }
exit "$code"

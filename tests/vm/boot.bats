#!/usr/bin/env bats
# Boots the real ISO in QEMU and reads the serial console.

load lib

setup() { vm_require; }
teardown() { vm_stop; }

@test "BIOS boot: isolinux loads the kernel, init mounts the medium and the root squashfs" {
	vm_boot bios
	vm_wait 'Linux version 6\.'
	vm_wait 'init: boot medium /dev/sr0'
	# after the switch init runs the root's programs: sysctr, or the root's
	# rescue shell when sysctr is not in the image yet
	vm_wait 'init: (started sysctr|started rescue shell /bin/sh)'
	! grep -q 'Kernel panic' "$VM_LOG"
}

@test "UEFI boot: GRUB EFI loads the kernel and init finds the medium" {
	vm_boot uefi
	vm_wait 'Linux version 6\.'
	vm_wait 'init: boot medium /dev/sr0'
}

@test "BIOS boot reaches login: on ttyS0" {
	vm_iso_has sysctr || skip "the ISO's root has no /usr/bin/sysctr yet"
	vm_boot bios
	vm_wait 'login:'
}

@test "boots with 128 MB of RAM" {
	VM_MEM=128 vm_boot bios
	vm_wait 'init: boot medium /dev/sr0'
}

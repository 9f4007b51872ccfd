/* probe/embed.S - the static probe (probe/mvm-kvmprobe) inside mvmbox, as
 * kvmprobe_size bytes at kvmprobe_start in .rodata (the size is computed
 * here: C may not subtract pointers to two objects). mvm-kvmcheck sends
 * them to each host. Embedded at build time rather than looked up at run
 * time: mvmbox stays one self-contained file (no DATADIR to find, no probe
 * of another build next to it), and the probe always matches the checks
 * of the binary that sends it. .incbin needs no tool beyond the
 * assembler (xxd, objcopy and ld -b binary name their symbols after the
 * path and need an extra GNU-stack note). */
	.section .rodata
	.balign 16
	.globl kvmprobe_start
	.globl kvmprobe_size
kvmprobe_start:
	.incbin "probe/mvm-kvmprobe"
kvmprobe_end:
	.balign 8
kvmprobe_size:
	.quad kvmprobe_end - kvmprobe_start
	.section .note.GNU-stack,"",%progbits

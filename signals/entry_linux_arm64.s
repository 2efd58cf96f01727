#include "textflag.h"

// entry is drainit's ELF entry point (linked with -E, see the Makefile). It
// records the signal mask and the ignored signals that drainit was started
// with, before the Go runtime changes them, blocks the signals it reads
// from a signalfd, then starts the runtime. Run as
// the launcher (argv[0] "\x01drainit", see launcher.go) it starts no runtime.
TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
	MOVD	0(RSP), R4 // argc
	CMP	$3, R4
	BLT	record
	MOVD	8(RSP), R5 // argv[0]
	MOVD	0(R5), R6
	MOVD	$0x74696e6961726401, R7 // "\x01drainit"
	CMP	R7, R6
	BNE	record
	MOVBU	8(R5), R6
	CBNZ	R6, record
	B	launch<>(SB)
record:
	MOVD	$0, R0 // SIG_BLOCK with no set: only read the mask
	MOVD	$0, R1
	MOVD	$·inheritedMask(SB), R2
	MOVD	$8, R3
	MOVD	$135, R8 // rt_sigprocmask
	SVC
	SUB	$32, RSP // a kernel struct sigaction
	MOVD	$1, R19 // the signal number
loop:
	MOVD	R19, R0
	MOVD	$0, R1
	MOVD	RSP, R2
	MOVD	$8, R3
	MOVD	$134, R8 // rt_sigaction(sig, NULL, &old, 8)
	SVC
	MOVD	(RSP), R4
	CMP	$1, R4 // SIG_IGN
	BNE	next
	SUB	$1, R19, R5
	MOVD	$1, R6
	LSL	R5, R6, R6
	MOVD	$·inheritedIgnored(SB), R7
	MOVD	(R7), R9
	ORR	R6, R9, R9
	MOVD	R9, (R7)
next:
	ADD	$1, R19
	CMP	$65, R19
	BLT	loop
	ADD	$32, RSP
	// Block the queued signals drainit reads from a signalfd (queued.go),
	// but not one it inherited ignored: every thread the runtime starts
	// keeps this mask.
	MOVD	$·inheritedIgnored(SB), R7
	MOVD	(R7), R9
	MOVD	$·entryBlock(SB), R7
	MOVD	(R7), R10
	BIC	R9, R10, R10
	MOVD	$·blockedAtEntry(SB), R7
	MOVD	R10, (R7)
	MOVD	$0, R0 // SIG_BLOCK
	MOVD	R7, R1
	MOVD	$0, R2
	MOVD	$8, R3
	MOVD	$135, R8 // rt_sigprocmask
	SVC
	MOVD	$1, R4
	MOVD	$·entryRan(SB), R7
	MOVD	R4, (R7)
	B	_rt0_arm64_linux(SB)

// launch ignores the signals marked '1' in argv[1] (one byte a signal, from
// 1), then execs argv[2] with argv[3:] and drainit's environment. On failure
// it exits as a shell would: 127 for a missing file, 126 otherwise.
TEXT launch<>(SB),NOSPLIT|NOFRAME,$0
	MOVD	RSP, R20 // argc, argv..., NULL, envp...
	MOVD	16(R20), R21 // argv[1]
	SUB	$32, RSP // a kernel struct sigaction: SIG_IGN, no flags
	MOVD	$1, R4
	MOVD	R4, 0(RSP)
	MOVD	ZR, 8(RSP)
	MOVD	ZR, 16(RSP)
	MOVD	ZR, 24(RSP)
	MOVD	$1, R19 // the signal number
ignore:
	SUB	$1, R19, R4
	MOVBU	(R21)(R4), R5
	CBZ	R5, exec
	CMP	$49, R5 // '1'
	BNE	nextsig
	MOVD	R19, R0
	MOVD	RSP, R1
	MOVD	$0, R2
	MOVD	$8, R3
	MOVD	$134, R8 // rt_sigaction
	SVC
nextsig:
	ADD	$1, R19
	B	ignore
exec:
	MOVD	24(R20), R0 // argv[2]
	ADD	$32, R20, R1 // &argv[3]
	MOVD	0(R20), R4
	LSL	$3, R4, R4
	ADD	$16, R4, R4
	ADD	R20, R4, R2 // envp, past argv's NULL
	MOVD	$221, R8 // execve
	SVC
	MOVD	$126, R4
	CMN	$2, R0 // ENOENT
	BNE	exit
	MOVD	$127, R4
exit:
	MOVD	R4, R0
	MOVD	$94, R8 // exit_group
	SVC

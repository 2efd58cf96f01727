#include "textflag.h"

// entry is drainit's ELF entry point (linked with -E, see the Makefile). It
// records the signal mask and the ignored signals that drainit was started
// with, before the Go runtime changes them, blocks the signals it reads
// from a signalfd, then starts the runtime. Run as
// the launcher (argv[0] "\x01drainit", see launcher.go) it starts no runtime.
TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
	CMPQ	0(SP), $3 // argc
	JLT	record
	MOVQ	8(SP), AX // argv[0]
	MOVQ	0(AX), BX
	MOVQ	$0x74696e6961726401, CX // "\x01drainit"
	CMPQ	BX, CX
	JNE	record
	CMPB	8(AX), $0
	JNE	record
	JMP	launch<>(SB)
record:
	MOVQ	$0, DI // SIG_BLOCK with no set: only read the mask
	MOVQ	$0, SI
	LEAQ	·inheritedMask(SB), DX
	MOVQ	$8, R10
	MOVQ	$14, AX // rt_sigprocmask
	SYSCALL
	SUBQ	$32, SP // a kernel struct sigaction
	MOVQ	$1, R12 // the signal number
loop:
	MOVQ	R12, DI
	MOVQ	$0, SI
	MOVQ	SP, DX
	MOVQ	$8, R10
	MOVQ	$13, AX // rt_sigaction(sig, NULL, &old, 8)
	SYSCALL
	CMPQ	0(SP), $1 // SIG_IGN
	JNE	next
	MOVQ	R12, CX
	SUBQ	$1, CX
	MOVQ	$1, R13
	SHLQ	CX, R13
	ORQ	R13, ·inheritedIgnored(SB)
next:
	INCQ	R12
	CMPQ	R12, $65
	JLT	loop
	ADDQ	$32, SP
	// Block the queued signals drainit reads from a signalfd (queued.go),
	// but not one it inherited ignored: every thread the runtime starts
	// keeps this mask.
	MOVQ	·inheritedIgnored(SB), BX
	NOTQ	BX
	MOVQ	·entryBlock(SB), AX
	ANDQ	BX, AX
	MOVQ	AX, ·blockedAtEntry(SB)
	MOVQ	$0, DI // SIG_BLOCK
	LEAQ	·blockedAtEntry(SB), SI
	MOVQ	$0, DX
	MOVQ	$8, R10
	MOVQ	$14, AX // rt_sigprocmask
	SYSCALL
	MOVQ	$1, ·entryRan(SB)
	JMP	_rt0_amd64_linux(SB)

// launch ignores the signals marked '1' in argv[1] (one byte a signal, from
// 1), then execs argv[2] with argv[3:] and drainit's environment. On failure
// it exits as a shell would: 127 for a missing file, 126 otherwise.
TEXT launch<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, R14 // argc, argv..., NULL, envp...
	MOVQ	16(R14), R12 // argv[1]
	SUBQ	$32, SP // a kernel struct sigaction: SIG_IGN, no flags
	MOVQ	$1, 0(SP)
	MOVQ	$0, 8(SP)
	MOVQ	$0, 16(SP)
	MOVQ	$0, 24(SP)
	MOVQ	$1, R13 // the signal number
ignore:
	MOVBQZX	-1(R12)(R13*1), AX
	CMPQ	AX, $0
	JEQ	exec
	CMPQ	AX, $49 // '1'
	JNE	nextsig
	MOVQ	R13, DI
	MOVQ	SP, SI
	MOVQ	$0, DX
	MOVQ	$8, R10
	MOVQ	$13, AX // rt_sigaction
	SYSCALL
nextsig:
	INCQ	R13
	JMP	ignore
exec:
	MOVQ	24(R14), DI // argv[2]
	LEAQ	32(R14), SI // &argv[3]
	MOVQ	0(R14), DX
	LEAQ	16(R14)(DX*8), DX // envp, past argv's NULL
	MOVQ	$59, AX // execve
	SYSCALL
	MOVQ	$126, DI
	CMPQ	AX, $-2 // ENOENT
	JNE	exit
	MOVQ	$127, DI
exit:
	MOVQ	$231, AX // exit_group
	SYSCALL

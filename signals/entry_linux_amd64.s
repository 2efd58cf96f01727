#include "textflag.h"

// entry is drainit's ELF entry point (linked with -E, see the Makefile). It
// records the signal mask and the ignored signals that drainit was started
// with, before the Go runtime changes them, then starts the runtime.
TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
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
	MOVQ	$1, ·entryRan(SB)
	JMP	_rt0_amd64_linux(SB)

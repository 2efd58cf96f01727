#include "textflag.h"

// entry is drainit's ELF entry point (linked with -E, see the Makefile). It
// records the signal mask and the ignored signals that drainit was started
// with, before the Go runtime changes them, then starts the runtime.
TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
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
	MOVD	$1, R4
	MOVD	$·entryRan(SB), R7
	MOVD	R4, (R7)
	B	_rt0_arm64_linux(SB)

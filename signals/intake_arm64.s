#include "textflag.h"

// intakeHandler is called by the kernel as a C signal handler (SA_SIGINFO):
// signal number in R0, siginfo in R1, context in R2, return address in R30.
// It writes a 12-byte record (signo, si_code, si_pid) to intakePipe (or,
// when the pipe is full, counts it in intakeDropped and marks the signal
// in intakeOverflowed), then
// jumps to the Go runtime's handler where the runtime needs the signal
// (chainAlways, or chainOnFault for a kernel-raised fault, si_code > 0).
// A signal in blockInHandler is left blocked in the thread on return
// (uc_sigmask), so that the next ones wait for the signalfd. The kernel
// restores every register on return.
TEXT ·intakeHandler(SB),NOSPLIT|NOFRAME,$0
	SUB	$48, RSP
	MOVD	R0, 16(RSP)
	MOVD	R1, 24(RSP)
	MOVD	R2, 32(RSP)
	MOVW	R0, 0(RSP)
	MOVW	8(R1), R3 // si_code
	MOVW	R3, 4(RSP)
	MOVW	16(R1), R3 // si_pid
	MOVW	R3, 8(RSP)
	MOVD	·intakePipe(SB), R0
	MOVD	RSP, R1
	MOVD	$12, R2
	MOVD	$64, R8 // write
	SVC
	CMP	$0, R0
	BGE	written
	MOVD	$·intakeDropped(SB), R3 // the pipe is full: count the record lost
again:
	LDAXR	(R3), R4
	ADD	$1, R4
	STLXR	R4, (R3), R5
	CBNZ	R5, again
	MOVD	16(RSP), R6 // and mark its signal, after the count (see relay)
	SUB	$1, R6
	MOVD	$1, R7
	LSL	R6, R7, R7
	MOVD	$·intakeOverflowed(SB), R3
mark:
	LDAXR	(R3), R4
	ORR	R7, R4
	STLXR	R4, (R3), R5
	CBNZ	R5, mark
written:
	MOVD	16(RSP), R0
	MOVD	24(RSP), R1
	MOVD	32(RSP), R2
	ADD	$48, RSP
	MOVD	·blockInHandler(SB), R3 // block the signal in this thread from now on?
	SUB	$1, R0, R4
	LSR	R4, R3, R3
	AND	$1, R3
	CBZ	R3, unblocked
	MOVD	$1, R3
	LSL	R4, R3, R3
	MOVD	40(R2), R5 // uc_sigmask: the mask the thread returns to
	ORR	R3, R5
	MOVD	R5, 40(R2)
unblocked:
	MOVD	$·chainAlways(SB), R3
	MOVD	(R3)(R0<<3), R3
	CBNZ	R3, chain
	MOVW	8(R1), R4 // si_code, sign-extended
	CMP	$0, R4
	BLE	done
	MOVD	$·chainOnFault(SB), R3
	MOVD	(R3)(R0<<3), R3
	CBZ	R3, done
chain:
	JMP	(R3)
done:
	RET

TEXT ·intakeHandlerAddr(SB),NOSPLIT,$0-8
	MOVD	$·intakeHandler(SB), R0
	MOVD	R0, ret+0(FP)
	RET

#include "textflag.h"

// intakeHandler is called by the kernel as a C signal handler (SA_SIGINFO):
// signal number in DI, siginfo in SI, context in DX. It writes a 12-byte
// record (signo, si_code, si_pid) to intakePipe (or, when the pipe is
// full, counts it in intakeDropped and marks the signal in
// intakeOverflowed), then jumps to the Go runtime's
// handler where the runtime needs the signal (chainAlways, or
// chainOnFault for a kernel-raised fault, si_code > 0). A signal in
// blockInHandler is left blocked in the thread on return (uc_sigmask), so
// that the next ones wait for the signalfd. The kernel restores every
// register on return.
TEXT ·intakeHandler(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$48, SP
	MOVQ	DI, 16(SP)
	MOVQ	SI, 24(SP)
	MOVQ	DX, 32(SP)
	MOVL	DI, 0(SP)
	MOVL	8(SI), AX // si_code
	MOVL	AX, 4(SP)
	MOVL	16(SI), AX // si_pid
	MOVL	AX, 8(SP)
	MOVQ	·intakePipe(SB), DI
	MOVQ	SP, SI
	MOVQ	$12, DX
	MOVQ	$1, AX // write
	SYSCALL
	CMPQ	AX, $0
	JGE	written
	LOCK // the pipe is full: count the record lost
	INCQ	·intakeDropped(SB)
	MOVQ	16(SP), CX // and mark its signal, after the count (see relay)
	DECQ	CX
	MOVQ	$1, AX
	SHLQ	CX, AX
	LOCK
	ORQ	AX, ·intakeOverflowed(SB)
written:
	MOVQ	16(SP), DI
	MOVQ	24(SP), SI
	MOVQ	32(SP), DX
	ADDQ	$48, SP
	MOVQ	·blockInHandler(SB), AX // block the signal in this thread from now on?
	MOVQ	DI, CX
	DECQ	CX
	SHRQ	CX, AX
	ANDQ	$1, AX
	JZ	unblocked
	MOVQ	$1, AX
	SHLQ	CX, AX
	ORQ	AX, 296(DX) // uc_sigmask: the mask the thread returns to
unblocked:
	LEAQ	·chainAlways(SB), AX
	MOVQ	(AX)(DI*8), AX
	TESTQ	AX, AX
	JNZ	chain
	MOVL	8(SI), CX // si_code
	CMPL	CX, $0
	JLE	done
	LEAQ	·chainOnFault(SB), AX
	MOVQ	(AX)(DI*8), AX
	TESTQ	AX, AX
	JZ	done
chain:
	JMP	AX
done:
	RET

TEXT ·intakeHandlerAddr(SB),NOSPLIT,$0-8
	LEAQ	·intakeHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

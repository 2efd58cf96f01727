#include "textflag.h"

// Called by the kernel as a C signal handler: signal number in DI. Writes it
// as one byte to reservedPipe; the kernel restores every register afterwards.
TEXT ·reservedHandler(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$16, SP
	MOVB	DI, 0(SP)
	MOVQ	·reservedPipe(SB), DI
	MOVQ	SP, SI
	MOVQ	$1, DX
	MOVQ	$1, AX // write
	SYSCALL
	ADDQ	$16, SP
	RET

TEXT ·reservedHandlerAddr(SB),NOSPLIT,$0-8
	LEAQ	·reservedHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

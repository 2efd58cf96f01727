#include "textflag.h"

// Called by the kernel as a C signal handler: signal number in R0, return
// address in R30. Writes the number as one byte to reservedPipe.
TEXT ·reservedHandler(SB),NOSPLIT|NOFRAME,$0
	SUB	$16, RSP
	MOVB	R0, (RSP)
	MOVD	·reservedPipe(SB), R0
	MOVD	RSP, R1
	MOVD	$1, R2
	MOVD	$64, R8 // write
	SVC
	ADD	$16, RSP
	RET

TEXT ·reservedHandlerAddr(SB),NOSPLIT,$0-8
	MOVD	$·reservedHandler(SB), R0
	MOVD	R0, ret+0(FP)
	RET

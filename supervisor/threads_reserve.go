//go:build !noreserve

package supervisor

// threadsWanted: see reserveThreads. The benchmarks build drainit with
// -tags noreserve too, to show what the reserve costs at start-up.
const threadsWanted = 8

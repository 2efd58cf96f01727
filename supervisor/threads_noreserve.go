//go:build noreserve

package supervisor

// threadsWanted 0: no reserve, for the start-up benchmark's reference row
// only (bench/costs); a drainit built so can crash at a pids limit.
const threadsWanted = 0

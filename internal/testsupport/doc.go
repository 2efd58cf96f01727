// Package testsupport holds what the tests and the benchmarks use and
// drainit never ships: fake registries (fakeregistry), the test program
// children are made of (testprog), helpers for waiting and for pids
// cgroups (testkit), the Kubernetes fixtures (kubefixture), PID
// namespaces (pidns), loopback addresses (loopback) and the pause image's
// program (pause). Everything drainit ships lives in the other packages
// of internal/.
package testsupport

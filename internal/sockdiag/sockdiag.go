// Package sockdiag reads the kernel's TCP socket table of the network
// namespace drainit runs in: through NETLINK_SOCK_DIAG with tcp_info (which
// also shows bytes arriving on a kept-alive connection), or, where netlink
// is refused, from /proc/net/tcp and tcp6 (which show connections only).
// A Query keeps to some states and local ports; netlink filters in the
// kernel (a LISTEN-only query never walks the connections, a port filter
// never copies another port's socket out). Counters reads the namespace's
// TCP counters, at a cost that does not grow with the number of sockets.
// Layouts from include/uapi/linux/inet_diag.h and tcp.h.
package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TCP states, as the kernel numbers them.
const (
	Established = 1
	SynRecv     = 3
	FinWait1    = 4
	FinWait2    = 5
	TimeWait    = 6
	Close       = 7
	CloseWait   = 8
	LastAck     = 9
	Listen      = 10
	Closing     = 11
)

// Socket is one TCP socket. Local is the socket's own address (for an
// accepted connection, the app's listening address); IPv4 peers of a
// dual-stack listener show as ::ffff:a.b.c.d and are unmapped here.
type Socket struct {
	State         uint8
	Local, Remote netip.AddrPort
	Inode         uint32
	UID           uint32 // the socket's owner: the user that created it
	// Expires is, for a TIME_WAIT socket, how long it has left (the kernel
	// keeps one 60 s): how long ago the connection closed.
	Expires time.Duration
	// RQueue and WQueue (netlink only) are, on a connection, the bytes
	// received that the app has not read and those it sent that the peer
	// has not acknowledged.
	RQueue, WQueue uint32
	HasInfo        bool   // the fields below were read (netlink, not TIME_WAIT)
	LastDataSent   uint32 // tcpi_last_data_sent: ms since data was last sent
	LastDataRecv   uint32 // tcpi_last_data_recv: ms since data last arrived
	BytesReceived  uint64 // tcpi_bytes_received (Linux 4.1+)
	DataSegsIn     uint32 // tcpi_data_segs_in (Linux 4.6+)
}

// Source is where the table is read from.
type Source interface {
	Dump(q Query) ([]Socket, error)
	Name() string
}

// Query says which sockets to read: those in States (a bit 1<<state for
// each) whose local port is one of Ports (any port when Ports is empty).
type Query struct {
	States uint32
	Ports  []uint16
}

// All is every state the quiet step reads: all but SYN_SENT (drainit's and
// the app's own outbound connections); the closing ones keep a short
// connection visible a little longer.
const All = 1<<Established | 1<<SynRecv | 1<<FinWait1 | 1<<FinWait2 | 1<<TimeWait | 1<<Close |
	1<<CloseWait | 1<<LastAck | 1<<Listen | 1<<Closing

// Listeners is the listening sockets alone.
var Listeners = Query{States: 1 << Listen}

func (q Query) wants(s Socket) bool {
	return q.States&(1<<s.State) != 0 && (len(q.Ports) == 0 || slices.Contains(q.Ports, s.Local.Port()))
}

// Open returns the netlink source, or the /proc one where netlink is
// refused (some sandboxes and seccomp profiles).
func Open() Source {
	if _, err := (Netlink{}).Dump(Listeners); err == nil {
		return Netlink{}
	}
	return Proc{}
}

// Netlink reads the table through NETLINK_SOCK_DIAG.
type Netlink struct{}

func (Netlink) Name() string { return "netlink sock_diag" }

// Dump reads both families.
func (Netlink) Dump(q Query) ([]Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []Socket
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if out, err = dumpFamily(fd, family, q, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// request is struct nlmsghdr (16 bytes) then struct inet_diag_req_v2 (56):
// family, protocol, ext, pad, states, then inet_diag_sockid left zero; and,
// with ports, an INET_DIAG_REQ_BYTECODE attribute that keeps those ports.
func request(family uint8, q Query) []byte {
	code := portFilter(q.Ports)
	b := make([]byte, 16+56, 16+56+4+len(code))
	if len(code) > 0 {
		b = binary.NativeEndian.AppendUint16(b, uint16(4+len(code)))
		b = binary.NativeEndian.AppendUint16(b, inetDiagReqBytecode)
		b = append(b, code...)
	}
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	b[16], b[17] = family, unix.IPPROTO_TCP
	b[18] = 1 << (inetDiagInfo - 1)
	binary.NativeEndian.PutUint32(b[20:], q.States)
	return b
}

// portFilter is inet_diag bytecode that accepts a socket whose local port
// is one of ports, laid out as ss(8) compiles "sport = A or sport = B": for
// each port an S_EQ test (the op, then the port in the next op's no field)
// that goes on to the next op when equal and skips past a JMP when not;
// between two tests a JMP to the end (accept). The last test's "not equal"
// lands 4 bytes past the end (reject). The kernel runs it for each socket
// and copies out only those it accepts; its audit wants every jump target
// on the chain of "yes" jumps, which this layout keeps.
func portFilter(ports []uint16) []byte {
	const test, jmp = 8, 4 // an S_EQ test is two struct inet_diag_bc_op
	if len(ports) == 0 {
		return nil
	}
	total := (test+jmp)*len(ports) - jmp
	var code []byte
	for i, port := range ports {
		code = appendOp(code, inetDiagBCSEq, test, test+jmp)
		code = appendOp(code, 0, 0, port)
		if i < len(ports)-1 {
			code = appendOp(code, inetDiagBCJmp, jmp, uint16(total-len(code)))
		}
	}
	return code
}

func appendOp(code []byte, op, yes byte, no uint16) []byte {
	return binary.NativeEndian.AppendUint16(append(code, op, yes), no)
}

const (
	inetDiagInfo        = 2  // INET_DIAG_INFO: struct tcp_info
	inetDiagReqBytecode = 1  // INET_DIAG_REQ_BYTECODE
	inetDiagBCJmp       = 1  // INET_DIAG_BC_JMP: always take "no"
	inetDiagBCSEq       = 11 // INET_DIAG_BC_S_EQ: source (local) port equal
)

func dumpFamily(fd int, family uint8, q Query, out []Socket) ([]Socket, error) {
	for attempt := 0; ; attempt++ {
		socks, interrupted, err := tryDump(fd, family, q)
		if err != nil {
			return nil, err
		}
		if !interrupted || attempt == 3 {
			return append(out, socks...), nil
		}
	}
}

// tryDump sends one dump request and reads until NLMSG_DONE; interrupted
// is NLM_F_DUMP_INTR (the table changed under the dump: ask again).
func tryDump(fd int, family uint8, q Query) (socks []Socket, interrupted bool, err error) {
	if err := unix.Sendto(fd, request(family, q), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, false, err
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, false, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, false, err
		}
		for _, m := range msgs {
			interrupted = interrupted || m.Header.Flags&unix.NLM_F_DUMP_INTR != 0
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return socks, interrupted, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
						return nil, false, unix.Errno(-code)
					}
				}
				return nil, false, errors.New("netlink error")
			case unix.SOCK_DIAG_BY_FAMILY:
				if s, ok := parseMsg(m.Data); ok {
					socks = append(socks, s)
				}
			}
		}
	}
}

// parseMsg reads struct inet_diag_msg (72 bytes) and its attributes.
func parseMsg(b []byte) (Socket, bool) {
	if len(b) < 72 {
		return Socket{}, false
	}
	family, state := b[0], b[1]
	s := Socket{State: state, UID: binary.NativeEndian.Uint32(b[64:]), Inode: binary.NativeEndian.Uint32(b[68:])}
	if state == TimeWait {
		s.Expires = time.Duration(binary.NativeEndian.Uint32(b[52:])) * time.Millisecond
	} else {
		s.RQueue, s.WQueue = binary.NativeEndian.Uint32(b[56:]), binary.NativeEndian.Uint32(b[60:])
	}
	s.Local = addrPort(family, b[8:24], binary.BigEndian.Uint16(b[4:]))
	s.Remote = addrPort(family, b[24:40], binary.BigEndian.Uint16(b[6:]))
	for attrs := b[72:]; len(attrs) >= 4; {
		size := int(binary.NativeEndian.Uint16(attrs[0:]))
		kind := binary.NativeEndian.Uint16(attrs[2:])
		if size < 4 || size > len(attrs) {
			break
		}
		if kind == inetDiagInfo {
			readInfo(&s, attrs[4:size])
		}
		attrs = attrs[min((size+3)&^3, len(attrs)):]
	}
	return s, true
}

// readInfo takes the fields of struct tcp_info that the running kernel's
// struct is long enough to hold (offsets as in x/sys/unix TCPInfo).
func readInfo(s *Socket, info []byte) {
	if len(info) >= 136 {
		s.HasInfo = true
		s.LastDataSent = binary.NativeEndian.Uint32(info[44:])
		s.LastDataRecv = binary.NativeEndian.Uint32(info[52:])
		s.BytesReceived = binary.NativeEndian.Uint64(info[128:])
	}
	if len(info) >= 156 {
		s.DataSegsIn = binary.NativeEndian.Uint32(info[152:])
	}
}

func addrPort(family uint8, raw []byte, port uint16) netip.AddrPort {
	var a netip.Addr
	if family == unix.AF_INET {
		a = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		a = netip.AddrFrom16([16]byte(raw[:16])).Unmap()
	}
	return netip.AddrPortFrom(a, port)
}

// Proc reads /proc/net/tcp and tcp6: connections and their inodes, no
// byte counts.
type Proc struct{}

func (Proc) Name() string { return "/proc/net/tcp" }

// Dump reads both files whole (the kernel offers no filter here) and keeps
// what q asks for.
func (Proc) Dump(q Query) ([]Socket, error) {
	var out []Socket
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(path)
		if err != nil {
			if path == "/proc/net/tcp6" && errors.Is(err, os.ErrNotExist) {
				continue // no IPv6 here
			}
			return nil, err
		}
		socks, err := ParseProc(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, s := range socks {
			if q.wants(s) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// ParseProc reads the text of /proc/net/tcp or tcp6.
func ParseProc(text string) ([]Socket, error) {
	var out []Socket
	for _, line := range strings.Split(text, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		local, err1 := procAddr(f[1])
		remote, err2 := procAddr(f[2])
		state, err3 := strconv.ParseUint(f[3], 16, 8)
		inode, err4 := strconv.ParseUint(f[9], 10, 32)
		uid, err5 := strconv.ParseUint(f[7], 10, 32)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		if All&(1<<state) == 0 {
			continue
		}
		s := Socket{State: uint8(state), Local: local, Remote: remote, Inode: uint32(inode), UID: uint32(uid)}
		if s.State == TimeWait {
			s.Expires = timerLeft(f[5])
		}
		out = append(out, s)
	}
	return out, nil
}

// procAddr reads "0100007F:1F90": the address as the kernel's 32-bit words
// in host order, the port in hex.
func procAddr(s string) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if !ok || err != nil || (len(hexAddr) != 8 && len(hexAddr) != 32) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	raw := make([]byte, len(hexAddr)/2)
	for i := 0; i < len(hexAddr)/8; i++ {
		word, err := strconv.ParseUint(hexAddr[i*8:i*8+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
		}
		binary.NativeEndian.PutUint32(raw[i*4:], uint32(word))
	}
	family := uint8(unix.AF_INET)
	if len(raw) == 16 {
		family = unix.AF_INET6
	}
	return addrPort(family, raw, uint16(port)), nil
}

// timerLeft reads /proc/net/tcp's "tr:tm->when" field: the timer's time
// left, in clock ticks (USER_HZ, 100 a second), hex.
func timerLeft(field string) time.Duration {
	_, when, _ := strings.Cut(field, ":")
	ticks, err := strconv.ParseUint(when, 16, 64)
	if err != nil {
		return 0
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// Counters are the namespace's TCP counters (the Tcp lines of
// /proc/net/snmp): they see connections opened and closed between two
// reads of the table, and every segment received, but not whose they were.
// One read costs the same however many sockets there are.
type Counters struct {
	PassiveOpens uint64 // connections accepted
	InSegs       uint64 // segments received, on every connection
}

// ReadCounters reads the namespace's TCP counters.
func ReadCounters() (Counters, error) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return Counters{}, err
	}
	return parseCounters(string(data))
}

func parseCounters(text string) (Counters, error) {
	var names []string
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		values := map[string]uint64{}
		for i, name := range names {
			if i < len(fields) && (name == "PassiveOpens" || name == "InSegs") {
				n, err := strconv.ParseUint(fields[i], 10, 64)
				if err != nil {
					return Counters{}, fmt.Errorf("/proc/net/snmp: Tcp %s: %w", name, err)
				}
				values[name] = n
			}
		}
		if len(values) == 2 {
			return Counters{PassiveOpens: values["PassiveOpens"], InSegs: values["InSegs"]}, nil
		}
		break
	}
	return Counters{}, errors.New("no Tcp PassiveOpens and InSegs in /proc/net/snmp")
}

// DefaultGateway is the IPv4 default route's gateway in this network
// namespace (/proc/net/route: the gateway in hex, in the kernel's byte
// order).
func DefaultGateway() (netip.Addr, error) {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return netip.Addr{}, err
	}
	return parseDefaultGateway(string(data))
}

func parseDefaultGateway(text string) (netip.Addr, error) {
	for _, line := range strings.Split(text, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		word, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil || word == 0 {
			continue
		}
		var raw [4]byte
		binary.NativeEndian.PutUint32(raw[:], uint32(word))
		return netip.AddrFrom4(raw), nil
	}
	return netip.Addr{}, errors.New("no default route in /proc/net/route")
}

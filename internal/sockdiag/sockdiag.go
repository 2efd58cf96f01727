// Package sockdiag reads the kernel's TCP socket table of the network
// namespace drainit runs in: through NETLINK_SOCK_DIAG with tcp_info (which
// also shows bytes arriving on a kept-alive connection), or, where netlink
// is refused, from /proc/net/tcp and tcp6 (which show connections only).
// Layouts from include/uapi/linux/inet_diag.h and tcp.h.
package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"

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
	HasInfo       bool   // the fields below were read (netlink, not TIME_WAIT)
	LastDataRecv  uint32 // tcpi_last_data_recv: ms since data last arrived
	BytesReceived uint64 // tcpi_bytes_received (Linux 4.1+)
	DataSegsIn    uint32 // tcpi_data_segs_in (Linux 4.6+)
}

// Source is where the table is read from.
type Source interface {
	Dump() ([]Socket, error)
	Name() string
}

// Open returns the netlink source, or the /proc one where netlink is
// refused (some sandboxes and seccomp profiles).
func Open() Source {
	if _, err := (Netlink{}).Dump(); err == nil {
		return Netlink{}
	}
	return Proc{}
}

// Netlink reads the table through NETLINK_SOCK_DIAG.
type Netlink struct{}

func (Netlink) Name() string { return "netlink sock_diag" }

// states asked for: all but SYN_SENT (drainit's and the app's own
// outbound connections); the closing ones keep a short connection visible
// a little longer.
const states = 1<<Established | 1<<SynRecv | 1<<FinWait1 | 1<<FinWait2 | 1<<TimeWait | 1<<Close |
	1<<CloseWait | 1<<LastAck | 1<<Listen | 1<<Closing

// Dump reads both families.
func (Netlink) Dump() ([]Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []Socket
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if out, err = dumpFamily(fd, family, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// request is struct nlmsghdr (16 bytes) then struct inet_diag_req_v2 (56):
// family, protocol, ext, pad, states, then inet_diag_sockid left zero.
func request(family uint8) []byte {
	b := make([]byte, 16+56)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	b[16], b[17] = family, unix.IPPROTO_TCP
	b[18] = 1 << (inetDiagInfo - 1)
	binary.NativeEndian.PutUint32(b[20:], states)
	return b
}

const inetDiagInfo = 2 // INET_DIAG_INFO: struct tcp_info

func dumpFamily(fd int, family uint8, out []Socket) ([]Socket, error) {
	for attempt := 0; ; attempt++ {
		socks, interrupted, err := tryDump(fd, family)
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
func tryDump(fd int, family uint8) (socks []Socket, interrupted bool, err error) {
	if err := unix.Sendto(fd, request(family), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
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
	s := Socket{State: state, Inode: binary.NativeEndian.Uint32(b[68:])}
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

func (Proc) Dump() ([]Socket, error) {
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
		out = append(out, socks...)
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
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		if states&(1<<state) == 0 {
			continue
		}
		out = append(out, Socket{State: uint8(state), Local: local, Remote: remote, Inode: uint32(inode)})
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

// PassiveOpens is the namespace's count of accepted TCP connections
// (PassiveOpens in /proc/net/snmp): it sees connections opened and closed
// between two reads of the table, which the table itself may not, but not
// whose they were.
func PassiveOpens() (uint64, error) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	return parsePassiveOpens(string(data))
}

func parsePassiveOpens(text string) (uint64, error) {
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
		for i, name := range names {
			if name == "PassiveOpens" && i < len(fields) {
				return strconv.ParseUint(fields[i], 10, 64)
			}
		}
	}
	return 0, errors.New("no Tcp PassiveOpens in /proc/net/snmp")
}

package sockdiag

import "golang.org/x/sys/unix"

// Answered says whether a connection is idle between requests: the app
// has read everything that arrived and it last sent after it last received
// (its answer came after the request). An answer not yet acknowledged is
// still delivered before the end: shutdown(2) sends the FIN after it. Data
// sent and received within the same tick of the kernel's clock is not
// taken as answered: a request read and still being worked on looks the
// same.
func (s Socket) Answered() bool {
	return s.State == Established && s.HasInfo && s.RQueue == 0 &&
		s.BytesReceived > 0 && s.LastDataSent < s.LastDataRecv
}

// AnsweredFD asks the same of a socket held open (a duplicate of the
// app's), just before it is ended: the table was read a moment earlier,
// and a request may have arrived since.
func AnsweredFD(fd int) bool {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return false
	}
	unread, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return false
	}
	return info.State == Established && unread == 0 && info.Bytes_received > 0 &&
		info.Last_data_sent < info.Last_data_recv
}

package supervisor

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"

	"github.com/drainit/drainit/internal/logging"

	"golang.org/x/sys/unix"
)

// StartError says the command could not be started; no child is running.
type StartError struct {
	Command string
	Err     error
}

func (e *StartError) Error() string { return "cannot start " + e.Command + ": " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// NotFound tells "no such command" (shells exit 127) from "cannot execute" (126).
func (e *StartError) NotFound() bool {
	return errors.Is(e.Err, exec.ErrNotFound) || errors.Is(e.Err, fs.ErrNotExist)
}

// start launches the main child with drainit's stdio, environment and
// working directory, untouched.
func (s *supervisor) start() error {
	name := s.cfg.Argv[0]
	path, err := lookPath(name)
	if err != nil {
		return &StartError{Command: name, Err: err}
	}
	s.leaveStartDir()
	attr := &syscall.ProcAttr{
		Dir:   s.startDir,
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   s.childAttr(),
	}
	pid, done, err := s.reaper.start(path, s.cfg.Argv, attr)
	if err != nil {
		return &StartError{Command: name, Err: err}
	}
	s.child, s.childDone = pid, done
	s.log.Info(logging.ChildStarted, "pid", pid, "command", name)
	return nil
}

// leaveStartDir moves drainit to / as dumb-init does, so it holds no
// reference to the directory it was started in (an unmount must not find it
// busy). It moves before the fork and the child changes back into the old
// directory itself: moving after would race with a child that reads its
// parent's directory at once.
func (s *supervisor) leaveStartDir() {
	dir, err := os.Getwd()
	if err != nil {
		s.log.Warn(logging.NoWorkingDir, "err", err)
		return
	}
	if err := os.Chdir("/"); err != nil {
		s.log.Warn(logging.CannotMoveToRoot, "err", err)
		return
	}
	s.startDir = dir
}

// lookPath finds name on PATH as a shell would; a match in the current
// directory is accepted, as execvp does.
func lookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		err = nil
	}
	return path, err
}

// childAttr puts the child in its own session or process group and, when
// drainit holds the terminal, hands it over so Ctrl-C and Ctrl-Z reach the app.
func (s *supervisor) childAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	switch {
	case s.cfg.Session:
		attr.Setsid = true
		if s.releaseTerminal() {
			attr.Setctty, attr.Ctty = true, 0
		}
	case s.cfg.OwnGroup:
		attr.Setpgid = true
		if ownsForeground() {
			attr.Foreground, attr.Ctty = true, 0
		}
	}
	return attr
}

// releaseTerminal gives up drainit's controlling terminal so the child's new
// session can take it, as dumb-init does. The kernel then sends SIGHUP and
// SIGCONT to the foreground group; if that is drainit, the first of each is
// ours to drop, not the app's to receive.
func (s *supervisor) releaseTerminal() bool {
	if !isTerminal(0) {
		return false
	}
	if sid, _ := unix.Getsid(0); sid != os.Getpid() {
		return false
	}
	foreground := ownsForeground()
	if err := unix.IoctlSetInt(0, unix.TIOCNOTTY, 0); err != nil {
		s.log.Debug(logging.TerminalKept, "err", err)
		return false
	}
	if foreground {
		s.ignoreOnce[unix.SIGHUP] = true
		s.ignoreOnce[unix.SIGCONT] = true
	}
	return true
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// ownsForeground reports whether stdin is drainit's controlling terminal and
// drainit's group is in the foreground there.
func ownsForeground() bool {
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
